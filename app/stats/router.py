"""Statistics, item analysis, exports and evaluations (targets): staff only, scoped by unit."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from app.core.deps import AdminUser, SessionDep, StaffUser
from app.core.errors import Conflict, Unprocessable
from app.core.responses import download
from app.stats import exports, service
from app.stats.models import Evaluation
from app.stats.schemas import (
    AttemptChoice,
    EvaluationIn,
    EvaluationOut,
    EvaluationUpdate,
    ItemAnalysisOut,
    TrendPoint,
    UnitReport,
)

router = APIRouter(tags=["stats"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


class SelectionParams:
    """The selection every report takes: quizzes and/or a date range, which attempt counts, or
    an evaluation (its selection and targets)."""

    def __init__(
        self,
        quiz_id: Annotated[list[int] | None, Query(description="Repeat for several quizzes")] = None,
        date_from: Annotated[date | None, Query(alias="from")] = None,
        date_to: Annotated[date | None, Query(alias="to")] = None,
        attempts: AttemptChoice = "first",
        evaluation_id: int | None = None,
    ) -> None:
        self.quiz_ids = quiz_id or []
        self.date_from = date_from
        self.date_to = date_to
        self.attempts: AttemptChoice = attempts
        self.evaluation_id = evaluation_id


Selected = Annotated[SelectionParams, Depends()]


async def _selection(
    session: SessionDep, params: SelectionParams
) -> tuple[service.Selection, Evaluation | None]:
    return await service.selection_from(
        session,
        quiz_ids=params.quiz_ids,
        date_from=params.date_from,
        date_to=params.date_to,
        attempts=params.attempts,
        evaluation_id=params.evaluation_id,
    )


async def _report(
    session: SessionDep, principal: StaffUser, unit_id: int, params: SelectionParams
) -> UnitReport:
    selection, evaluation = await _selection(session, params)
    return await service.unit_report(session, principal, unit_id, selection, evaluation)


@router.get("/stats/units/{unit_id}/report", response_model=UnitReport)
async def unit_report(
    unit_id: int, params: Selected, principal: StaffUser, session: SessionDep
) -> UnitReport:
    """Participation, scores, mastery, weakest questions and who has not taken part, for the unit
    with its subtree, its own members and each child unit."""
    return await _report(session, principal, unit_id, params)


@router.get("/stats/units/{unit_id}/report.xlsx")
async def unit_report_xlsx(
    unit_id: int, params: Selected, principal: StaffUser, session: SessionDep
) -> Response:
    report = await _report(session, principal, unit_id, params)
    content = exports.to_xlsx([make(report) for make in exports.REPORT_TABLES.values()])
    return download(content, f"{report.unit.name}-统计.xlsx", XLSX, "report")


@router.get("/stats/units/{unit_id}/report.csv")
async def unit_report_csv(
    unit_id: int,
    params: Selected,
    principal: StaffUser,
    session: SessionDep,
    table: Annotated[str, Query(pattern="^(units|areas|questions|non_participants)$")] = "units",
) -> Response:
    report = await _report(session, principal, unit_id, params)
    sheet = exports.REPORT_TABLES[table](report)
    return download(exports.to_csv(sheet), f"{report.unit.name}-{sheet[0]}.csv", CSV, "report")


@router.get("/stats/units/{unit_id}/trend", response_model=list[TrendPoint])
async def trend(
    unit_id: int,
    params: Selected,
    principal: StaffUser,
    session: SessionDep,
    bucket: Annotated[str, Query(pattern="^(day|week)$")] = "day",
) -> list[TrendPoint]:
    selection, _ = await _selection(session, params)
    return await service.trend(session, principal, unit_id, selection, bucket)


@router.get("/stats/quizzes/{quiz_id}/item-analysis", response_model=ItemAnalysisOut)
async def item_analysis(
    quiz_id: int,
    principal: StaffUser,
    session: SessionDep,
    unit_id: int | None = None,
    attempts: AttemptChoice = "first",
) -> ItemAnalysisOut:
    """Facility, SD, discrimination index and efficiency per question; mean, median, SD,
    skewness, kurtosis, internal consistency, error ratio and standard error for the quiz."""
    return await service.item_analysis(session, principal, quiz_id, unit_id, attempts)


@router.get("/stats/quizzes/{quiz_id}/item-analysis.{fmt}")
async def item_analysis_export(
    quiz_id: int,
    fmt: Annotated[str, Path(pattern="^(xlsx|csv)$")],
    principal: StaffUser,
    session: SessionDep,
    unit_id: int | None = None,
    attempts: AttemptChoice = "first",
) -> Response:
    analysis = await service.item_analysis(session, principal, quiz_id, unit_id, attempts)
    name = f"{analysis.quiz.title}-题目分析"
    if fmt == "xlsx":
        content = exports.to_xlsx([exports.test_rows(analysis), exports.item_rows(analysis)])
        return download(content, f"{name}.xlsx", XLSX, "report")
    return download(exports.to_csv(exports.item_rows(analysis)), f"{name}.csv", CSV, "report")


# Evaluations (targets)


def _evaluation_out(evaluation: Evaluation) -> EvaluationOut:
    return EvaluationOut.model_validate(evaluation, from_attributes=True)


@router.get("/evaluations", response_model=list[EvaluationOut])
async def list_evaluations(principal: StaffUser, session: SessionDep) -> list[EvaluationOut]:
    rows = await session.execute(select(Evaluation).order_by(Evaluation.id.desc()))
    return [_evaluation_out(e) for e in rows.scalars()]


@router.post("/evaluations", response_model=EvaluationOut, status_code=201)
async def create_evaluation(body: EvaluationIn, principal: AdminUser, session: SessionDep) -> EvaluationOut:
    taken = await session.execute(select(Evaluation.id).where(Evaluation.name == body.name))
    if taken.first() is not None:
        raise Conflict(f"An evaluation named {body.name} exists", code="evaluation_name_taken")
    evaluation = Evaluation(**body.model_dump(), created_by_id=principal.id)
    session.add(evaluation)
    await session.commit()
    return _evaluation_out(evaluation)


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationOut)
async def get_evaluation(evaluation_id: int, principal: StaffUser, session: SessionDep) -> EvaluationOut:
    return _evaluation_out(await service.get_evaluation(session, evaluation_id))


@router.patch("/evaluations/{evaluation_id}", response_model=EvaluationOut)
async def update_evaluation(
    evaluation_id: int, body: EvaluationUpdate, principal: AdminUser, session: SessionDep
) -> EvaluationOut:
    """Change any field; a threshold sent as null is no longer checked."""
    evaluation = await service.get_evaluation(session, evaluation_id)
    try:
        merged = EvaluationIn.model_validate(
            {**_evaluation_out(evaluation).model_dump(), **body.model_dump(exclude_unset=True)}
        )
    except ValidationError as exc:
        raise Unprocessable(exc.errors()[0]["msg"], code="invalid_evaluation") from None
    if merged.name != evaluation.name:
        taken = await session.execute(select(Evaluation.id).where(Evaluation.name == merged.name))
        if taken.first() is not None:
            raise Conflict(f"An evaluation named {merged.name} exists", code="evaluation_name_taken")
    for field, value in merged.model_dump().items():
        setattr(evaluation, field, value)
    await session.commit()
    return _evaluation_out(evaluation)
