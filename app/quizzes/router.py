from typing import Any

from fastapi import APIRouter, Request, Response

from app.core.deps import AdminUser, ClaimsDep, CurrentUser, SessionDep, SettingsDep, StaffUser
from app.quizzes import service
from app.quizzes.schemas import (
    AttemptOut,
    AttemptResult,
    MyQuiz,
    PaperCheck,
    QuizIn,
    QuizOut,
    SaveIn,
    SaveOut,
)
from app.spot.notify import notify_spot_board

router = APIRouter()


# Officer flow (DESIGN.md "Officer quiz flow")


@router.get("/me/quizzes", response_model=list[MyQuiz], tags=["officer"])
async def my_quizzes(principal: CurrentUser, session: SessionDep, settings: SettingsDep) -> list[MyQuiz]:
    return await service.my_quizzes(session, settings, principal)


@router.post(
    "/quizzes/{quiz_id}/attempts",
    response_model=AttemptOut,
    tags=["officer"],
    responses={200: {"description": "Resumed the attempt in progress"}, 201: {"description": "Started"}},
)
async def start_attempt(
    quiz_id: int,
    principal: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    request: Request,
) -> AttemptOut:
    state = request.app.state
    attempt, created = await service.start_attempt(
        session, state.database, state.frozen_quizzes, settings, principal, quiz_id
    )
    response.status_code = 201 if created else 200
    return attempt


@router.get("/attempts/{attempt_id}", response_model=AttemptOut, tags=["officer"])
async def get_attempt(
    attempt_id: int, principal: CurrentUser, session: SessionDep, settings: SettingsDep
) -> AttemptOut:
    attempt = await service.get_own_attempt(session, settings, principal, attempt_id)
    return await service.attempt_view(session, settings, attempt)


@router.put("/attempts/{attempt_id}/items/{item_id}", response_model=SaveOut, tags=["officer"])
async def save_response(
    attempt_id: int, item_id: int, body: SaveIn, claims: ClaimsDep, request: Request
) -> SaveOut:
    """Autosave one answer: idempotent, the highest `seq` wins. One database statement."""
    state = request.app.state
    saved = await service.save_response(
        state.database,
        state.settings,
        state.shape_cache,
        claims,
        attempt_id,
        item_id,
        body.response,
        body.seq,
    )
    if saved.accepted:
        await notify_spot_board(request, attempt_id, "answered")
    return saved


@router.post("/attempts/{attempt_id}/submit", response_model=AttemptResult, tags=["officer"])
async def submit(
    attempt_id: int, principal: CurrentUser, session: SessionDep, settings: SettingsDep, request: Request
) -> AttemptResult:
    result = await service.submit(session, settings, principal, attempt_id)
    await notify_spot_board(request, attempt_id, "submitted", session)
    return result


# Authoring and oversight


@router.get("/quizzes", response_model=list[QuizOut], tags=["quizzes"])
async def list_quizzes(principal: StaffUser, session: SessionDep) -> list[QuizOut]:
    return await service.list_quizzes(session, principal)


@router.post("/quizzes", response_model=QuizOut, status_code=201, tags=["quizzes"])
async def create_quiz(body: QuizIn, principal: AdminUser, session: SessionDep) -> QuizOut:
    return await service.create_quiz(session, principal, body)


@router.get("/quizzes/{quiz_id}", response_model=QuizOut, tags=["quizzes"])
async def get_quiz(quiz_id: int, principal: StaffUser, session: SessionDep) -> QuizOut:
    quiz = await service.get_quiz_in_scope(session, principal, quiz_id)
    return await service.quiz_out(session, quiz.id)


@router.put("/quizzes/{quiz_id}", response_model=QuizOut, tags=["quizzes"])
async def update_quiz(quiz_id: int, body: QuizIn, principal: AdminUser, session: SessionDep) -> QuizOut:
    return await service.update_quiz(session, principal, quiz_id, body)


@router.post("/quizzes/{quiz_id}/publish", response_model=QuizOut, tags=["quizzes"])
async def publish_quiz(quiz_id: int, principal: AdminUser, session: SessionDep) -> QuizOut:
    return await service.publish_quiz(session, quiz_id)


@router.post("/quizzes/{quiz_id}/close", response_model=QuizOut, tags=["quizzes"])
async def close_quiz(quiz_id: int, principal: AdminUser, session: SessionDep) -> QuizOut:
    return await service.close_quiz(session, quiz_id)


@router.get("/quizzes/{quiz_id}/attempts", tags=["quizzes"])
async def quiz_attempts(quiz_id: int, principal: StaffUser, session: SessionDep) -> list[dict[str, Any]]:
    return await service.attempts_for_quiz(session, principal, quiz_id)


@router.get("/attempts/{attempt_id}/paper-check", response_model=PaperCheck, tags=["quizzes"])
async def paper_check(attempt_id: int, principal: StaffUser, session: SessionDep) -> PaperCheck:
    return await service.check_paper(session, principal, attempt_id)
