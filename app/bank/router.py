"""Knowledge areas, banks and questions: administrators write, staff read, officers never see keys."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from app.bank import service
from app.bank.models import QuestionStatus, QuestionType
from app.bank.schemas import (
    AreaCreate,
    AreaOut,
    AreaUpdate,
    BankCreate,
    BankOut,
    BankUpdate,
    QuestionIn,
    QuestionOut,
    QuestionPage,
    QuestionUpdate,
    QuestionVersionOut,
    RetiredOut,
)
from app.core.deps import AdminUser, SessionDep, StaffUser

router = APIRouter()


# Knowledge areas


@router.get("/knowledge-areas", response_model=list[AreaOut], tags=["bank"])
async def list_areas(principal: StaffUser, session: SessionDep) -> list[AreaOut]:
    """Every knowledge area, parents before their sub-areas, with active question counts."""
    return await service.list_areas(session)


@router.post("/knowledge-areas", response_model=AreaOut, status_code=201, tags=["bank"])
async def create_area(body: AreaCreate, principal: AdminUser, session: SessionDep) -> AreaOut:
    return await service.create_area(session, body)


@router.patch("/knowledge-areas/{area_id}", response_model=AreaOut, tags=["bank"])
async def rename_area(area_id: int, body: AreaUpdate, principal: AdminUser, session: SessionDep) -> AreaOut:
    return await service.rename_area(session, area_id, body)


# Banks


@router.get("/banks", response_model=list[BankOut], tags=["bank"])
async def list_banks(principal: StaffUser, session: SessionDep) -> list[BankOut]:
    return await service.list_banks(session)


@router.post("/banks", response_model=BankOut, status_code=201, tags=["bank"])
async def create_bank(body: BankCreate, principal: AdminUser, session: SessionDep) -> BankOut:
    return await service.create_bank(session, body)


@router.get("/banks/{bank_id}", response_model=BankOut, tags=["bank"])
async def get_bank(bank_id: int, principal: StaffUser, session: SessionDep) -> BankOut:
    return await service.bank_out(session, await service.get_bank(session, bank_id))


@router.patch("/banks/{bank_id}", response_model=BankOut, tags=["bank"])
async def update_bank(bank_id: int, body: BankUpdate, principal: AdminUser, session: SessionDep) -> BankOut:
    return await service.update_bank(session, bank_id, body)


# Questions (with answers and explanations: staff only)


@router.get("/questions", response_model=QuestionPage, tags=["bank"])
async def list_questions(
    principal: StaffUser,
    session: SessionDep,
    bank_id: int | None = None,
    knowledge_area_id: int | None = None,
    include_subareas: bool = True,
    qtype: Annotated[QuestionType | None, Query(alias="type")] = None,
    difficulty: Annotated[int | None, Query(ge=1, le=5)] = None,
    status: QuestionStatus | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Question text contains")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QuestionPage:
    return await service.list_questions(
        session,
        bank_id=bank_id,
        knowledge_area_id=knowledge_area_id,
        include_subareas=include_subareas,
        qtype=qtype,
        difficulty=difficulty,
        status=status,
        q=q,
        limit=limit,
        offset=offset,
    )


@router.post("/questions", response_model=QuestionOut, status_code=201, tags=["bank"])
async def create_question(body: QuestionIn, principal: AdminUser, session: SessionDep) -> QuestionOut:
    return await service.create_question(session, body)


@router.get("/questions/{question_id}", response_model=QuestionOut, tags=["bank"])
async def get_question(question_id: int, principal: StaffUser, session: SessionDep) -> QuestionOut:
    return await service.question_view(session, question_id)


@router.patch("/questions/{question_id}", response_model=QuestionOut, tags=["bank"])
async def update_question(
    question_id: int, body: QuestionUpdate, principal: AdminUser, session: SessionDep
) -> QuestionOut:
    return await service.update_question(session, question_id, body, actor_id=principal.id)


@router.get("/questions/{question_id}/versions", response_model=list[QuestionVersionOut], tags=["bank"])
async def question_versions(
    question_id: int, principal: StaffUser, session: SessionDep
) -> list[QuestionVersionOut]:
    """Every version of the question, the current one first; earlier ones are what edits replaced."""
    return await service.question_versions(session, question_id)


@router.delete(
    "/questions/{question_id}",
    status_code=204,
    tags=["bank"],
    responses={
        200: {
            "model": RetiredOut,
            "description": "Used by an attempt or a published quiz: retired, not deleted",
        },
        204: {"description": "Deleted"},
    },
)
async def delete_question(question_id: int, principal: AdminUser, session: SessionDep) -> Response:
    if await service.delete_question(session, question_id) == "retired":
        return JSONResponse(RetiredOut().model_dump())
    return Response(status_code=204)


@router.post("/questions/{question_id}/restore", response_model=QuestionOut, tags=["bank"])
async def restore_question(question_id: int, principal: AdminUser, session: SessionDep) -> QuestionOut:
    return await service.restore_question(session, question_id)
