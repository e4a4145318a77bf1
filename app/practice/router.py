"""Practice and the wrong-answer book: every endpoint is the caller's own data only."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.core.deps import CurrentUser, SessionDep, SettingsDep
from app.practice import service
from app.practice.schemas import AnswerIn, AnswerResult, PracticeArea, SessionIn, SessionOut, WrongBook

router = APIRouter(tags=["practice"])

_IN_QUIZ: dict[int | str, dict[str, Any]] = {
    409: {"description": "quiz_in_progress: finish the quiz you are taking first"}
}


@router.get("/practice/areas", response_model=list[PracticeArea])
async def practice_areas(principal: CurrentUser, session: SessionDep) -> list[PracticeArea]:
    """Knowledge areas with active questions, parents before sub-areas, with my mastery in each."""
    return await service.list_areas(session, principal)


@router.post("/practice/sessions", response_model=SessionOut, status_code=201, responses=_IN_QUIZ)
async def create_session(
    body: SessionIn, principal: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SessionOut:
    """Draw a practice session (modes and weighting: app/practice/selection.py). No keys until answered."""
    return await service.create_session(session, settings, principal, body)


@router.get("/practice/sessions/{session_id}", response_model=SessionOut, responses=_IN_QUIZ)
async def get_session(
    session_id: int, principal: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SessionOut:
    return await service.session_view(session, settings, principal, session_id)


@router.post(
    "/practice/sessions/{session_id}/items/{item_id}/answer", response_model=AnswerResult, responses=_IN_QUIZ
)
async def answer_item(
    session_id: int,
    item_id: int,
    body: AnswerIn,
    principal: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> AnswerResult:
    """Mark the answer at once and show the key and explanation. Answering again returns the first result."""
    return await service.answer(session, settings, principal, session_id, item_id, body.response)


@router.get("/me/wrong-book", response_model=WrongBook, responses=_IN_QUIZ)
async def my_wrong_book(
    principal: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> WrongBook:
    """My wrong-answer book (错题本), due questions first; `total` counts every entry."""
    return await service.wrong_book(session, settings, principal, limit, offset)
