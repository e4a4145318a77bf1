"""Imports (preview → commit), templates and bank exports."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

from app.bank.models import QuestionStatus, QuestionType
from app.core.deps import AdminUser, ManagerUser, SessionDep
from app.core.responses import download
from app.imports import exports, service
from app.imports.files import MAX_UPLOAD_BYTES, check_size
from app.imports.models import ImportKind
from app.imports.schemas import CommitIn, ImportJobOut, ImportJobPage, ItemPage

router = APIRouter()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def read_upload(upload: UploadFile) -> bytes:
    """The uploaded bytes, refusing a file over the limit without reading all of it."""
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    check_size(len(data))
    return data


@router.post("/imports/bank", response_model=ImportJobOut, status_code=201, tags=["imports"])
async def preview_bank(
    principal: AdminUser,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="xlsx, csv, docx, txt, json, gift, aiken or yaml")],
    bank_name: Annotated[str | None, Form(max_length=200)] = None,
    bank_id: Annotated[int | None, Form()] = None,
    default_area: Annotated[str | None, Form(max_length=500)] = None,
) -> ImportJobOut:
    """Parse and check a question file against a bank: writes the preview job, nothing else."""
    data = await read_upload(file)
    job = await service.preview_bank(
        session,
        principal,
        file_name=file.filename or "upload",
        data=data,
        bank_id=bank_id,
        bank_name=bank_name,
        default_area=default_area,
    )
    return await service.job_out(session, job)


@router.post("/imports/roster", response_model=ImportJobOut, status_code=201, tags=["imports"])
async def preview_roster(
    principal: ManagerUser,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="xlsx or csv from the roster template")],
    deactivate_missing: Annotated[bool, Form()] = False,
) -> ImportJobOut:
    """Parse and check a roster: writes the preview job, nothing else."""
    data = await read_upload(file)
    job = await service.preview_roster(
        session,
        principal,
        file_name=file.filename or "upload",
        data=data,
        deactivate_missing=deactivate_missing,
    )
    return await service.job_out(session, job)


@router.get("/imports/templates/bank.xlsx", tags=["imports"])
async def bank_template(principal: ManagerUser) -> Response:
    from app.imports.templates import bank_template

    return download(bank_template(), "题库导入模板.xlsx", XLSX)


@router.get("/imports/templates/roster.xlsx", tags=["imports"])
async def roster_template(principal: ManagerUser) -> Response:
    from app.imports.roster_template import roster_template

    return download(roster_template(), "花名册导入模板.xlsx", XLSX)


@router.get("/imports", response_model=ImportJobPage, tags=["imports"])
async def list_jobs(
    principal: ManagerUser,
    session: SessionDep,
    kind: ImportKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ImportJobPage:
    return await service.list_jobs(session, principal, kind=kind, limit=limit, offset=offset)


@router.get("/imports/{job_id}", response_model=ImportJobOut, tags=["imports"])
async def get_job(job_id: int, principal: ManagerUser, session: SessionDep) -> ImportJobOut:
    return await service.job_out(session, await service.get_job(session, principal, job_id))


@router.get("/imports/{job_id}/items", response_model=ItemPage, tags=["imports"])
async def job_items(
    job_id: int,
    principal: ManagerUser,
    session: SessionDep,
    status: Annotated[str, Query(pattern="^(" + "|".join(service.ITEM_FILTERS) + ")$")] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ItemPage:
    """The preview table, one item per question or roster row, in file order."""
    job = await service.get_job(session, principal, job_id)
    return service.job_items(job, status=status, limit=limit, offset=offset)


@router.post("/imports/{job_id}/commit", response_model=ImportJobOut, tags=["imports"])
async def commit_job(
    job_id: int, body: CommitIn, principal: ManagerUser, session: SessionDep
) -> ImportJobOut:
    """Write everything the preview showed, in one transaction, once."""
    return await service.commit_job(session, principal, job_id, valid_only=body.valid_only)


@router.post("/imports/{job_id}/discard", response_model=ImportJobOut, tags=["imports"])
async def discard_job(job_id: int, principal: ManagerUser, session: SessionDep) -> ImportJobOut:
    return await service.discard_job(session, principal, job_id)


@router.get("/banks/{bank_id}/export", tags=["imports"])
async def export_bank(
    bank_id: int,
    principal: AdminUser,
    session: SessionDep,
    format: Annotated[str, Query(pattern="^(xlsx|json|gift)$")] = "xlsx",
    knowledge_area_id: int | None = None,
    include_subareas: bool = True,
    qtype: Annotated[QuestionType | None, Query(alias="type")] = None,
    difficulty: Annotated[int | None, Query(ge=1, le=5)] = None,
    status: QuestionStatus | None = QuestionStatus.active,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """A bank, or the questions matching the filters, in a format that imports back losslessly."""
    bank_name, questions = await exports.bank_questions(
        session,
        bank_id,
        knowledge_area_id=knowledge_area_id,
        include_subareas=include_subareas,
        qtype=qtype,
        difficulty=difficulty,
        status=status,
        q=q,
    )
    content, suffix, media_type = exports.render(format, bank_name, questions)
    return download(content, f"{bank_name}{suffix}", media_type, "export")
