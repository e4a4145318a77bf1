"""Running totals of first attempts: what the unit reports read instead of every answer row.

A city-wide report over five quizzes would otherwise join a million answer rows on every request.
Instead, the transaction that finishes an attempt adds it to three small tables (app.stats.models:
scores, marks per knowledge area, marks per question), keyed by quiz, the unit where the attempt
started and the day it finished. A report sums the rows of its quizzes, days and subtree: a few
thousand rows, exact, and current the moment the submission commits.

Only first attempts (number 1) of quizzes count here, the reports' default choice; spot sessions
never do. Best and last attempts change as later attempts finish, so those choices read the raw rows.
`differences` recomputes the totals from the raw rows (tests, `yingzhi stats-check`), `rebuild`
rewrites them from the raw rows (`yingzhi stats-check --repair`, benchmark seeding).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, delete, func, insert, literal_column, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import upsert_insert
from app.quizzes.models import Attempt, AttemptItem, AttemptStatus, Quiz
from app.stats.models import AreaTally, QuestionTally, ScoreTally

# Days (for date ranges, trends and these totals) are days where the units are.
REPORT_TIMEZONE = ZoneInfo("Asia/Shanghai")
# The same zone for SQLite, which has no time zones: China has kept UTC+8 without daylight saving
# since 1991, so a fixed offset gives the same day for every attempt this service can hold.
SQLITE_DAY_OFFSET = "+8 hours"


def report_day(moment: datetime) -> date:
    return moment.astimezone(REPORT_TIMEZONE).date()


@dataclass(frozen=True)
class ItemMarks:
    knowledge_area_id: int
    question_id: int
    points: int
    awarded_milli: int


def sum_items(
    items: Iterable[ItemMarks],
) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int, int]]]:
    """Per area (awarded, possible) and per question (answered, awarded, possible), in milli-points."""
    areas: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    questions: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in items:
        possible = item.points * 1000
        area = areas[item.knowledge_area_id]
        area[0] += item.awarded_milli
        area[1] += possible
        question = questions[item.question_id]
        question[0] += 1
        question[1] += item.awarded_milli
        question[2] += possible
    return (
        {key: (a, p) for key, (a, p) in areas.items()},
        {key: (n, a, p) for key, (n, a, p) in questions.items()},
    )


async def record_finished(session: AsyncSession, attempt_id: int) -> None:
    """Add a just-finished attempt to the totals, in the caller's transaction (before its commit).

    Rows are written in key order, so two attempts finishing together in one unit never deadlock;
    each row is one `x = x + n` statement, so none of them loses the other's update.
    """
    found = (
        await session.execute(
            select(
                Attempt.quiz_id,
                Attempt.unit_id,
                Attempt.number,
                Attempt.status,
                Attempt.finished_at,
                Attempt.score_milli,
                Attempt.max_score_milli,
                Attempt.passed,
                Quiz.kind,
            )
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .where(Attempt.id == attempt_id)
        )
    ).one()
    if found.number != 1 or found.kind != "quiz" or found.status != AttemptStatus.finished:
        return
    key = {"quiz_id": found.quiz_id, "unit_id": found.unit_id, "day": report_day(found.finished_at)}
    items = [
        ItemMarks(area_id, question_id, points, awarded or 0)
        for area_id, question_id, points, awarded in await session.execute(
            select(
                AttemptItem.knowledge_area_id,
                AttemptItem.question_id,
                AttemptItem.points,
                AttemptItem.awarded_milli,
            ).where(AttemptItem.attempt_id == attempt_id)
        )
    ]
    areas, questions = sum_items(items)
    upsert = upsert_insert(session)

    score = upsert(ScoreTally).values(
        **key,
        score_milli=found.score_milli or 0,
        max_score_milli=found.max_score_milli,
        passed=bool(found.passed),
        attempts=1,
    )
    await session.execute(
        score.on_conflict_do_update(
            index_elements=[c.name for c in ScoreTally.__table__.primary_key],
            set_={"attempts": ScoreTally.attempts + score.excluded.attempts},
        )
    )
    if areas:
        stmt = upsert(AreaTally).values(
            [
                {**key, "knowledge_area_id": area_id, "awarded_milli": awarded, "possible_milli": possible}
                for area_id, (awarded, possible) in sorted(areas.items())
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[c.name for c in AreaTally.__table__.primary_key],
                set_={
                    "awarded_milli": AreaTally.awarded_milli + stmt.excluded.awarded_milli,
                    "possible_milli": AreaTally.possible_milli + stmt.excluded.possible_milli,
                },
            )
        )
    if questions:
        stmt = upsert(QuestionTally).values(
            [
                {
                    **key,
                    "question_id": question_id,
                    "answered": answered,
                    "awarded_milli": awarded,
                    "possible_milli": possible,
                }
                for question_id, (answered, awarded, possible) in sorted(questions.items())
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[c.name for c in QuestionTally.__table__.primary_key],
                set_={
                    "answered": QuestionTally.answered + stmt.excluded.answered,
                    "awarded_milli": QuestionTally.awarded_milli + stmt.excluded.awarded_milli,
                    "possible_milli": QuestionTally.possible_milli + stmt.excluded.possible_milli,
                },
            )
        )


# ---------------------------------------------------------------- from the raw rows


def _day_of_finish(dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.timezone(REPORT_TIMEZONE.key, Attempt.finished_at), Date)
    return type_coerce(func.date(Attempt.finished_at, SQLITE_DAY_OFFSET), Date)


def raw_queries(dialect: str) -> dict[type[Any], Any]:
    """Each totals table's rows recomputed from the finished first attempts and their items."""
    day = _day_of_finish(dialect).label("day")
    counted = (
        Attempt.status == AttemptStatus.finished,
        Attempt.number == 1,
        Attempt.quiz_id.in_(select(Quiz.id).where(Quiz.kind == "quiz")),
    )
    scores = (
        select(
            Attempt.quiz_id,
            Attempt.unit_id,
            day,
            func.coalesce(Attempt.score_milli, literal_column("0")).label("score_milli"),
            Attempt.max_score_milli,
            func.coalesce(Attempt.passed, literal_column("false")).label("passed"),
            func.count().label("attempts"),
        )
        .where(*counted)
        .group_by(
            Attempt.quiz_id,
            Attempt.unit_id,
            day,
            func.coalesce(Attempt.score_milli, literal_column("0")),
            Attempt.max_score_milli,
            func.coalesce(Attempt.passed, literal_column("false")),
        )
    )
    items = select(Attempt.quiz_id, Attempt.unit_id, day).join(
        AttemptItem, AttemptItem.attempt_id == Attempt.id
    )
    areas = (
        items.add_columns(
            AttemptItem.knowledge_area_id,
            func.sum(func.coalesce(AttemptItem.awarded_milli, 0)).label("awarded_milli"),
            (func.sum(AttemptItem.points) * 1000).label("possible_milli"),
        )
        .where(*counted)
        .group_by(Attempt.quiz_id, Attempt.unit_id, day, AttemptItem.knowledge_area_id)
    )
    questions = (
        items.add_columns(
            AttemptItem.question_id,
            func.count().label("answered"),
            func.sum(func.coalesce(AttemptItem.awarded_milli, 0)).label("awarded_milli"),
            (func.sum(AttemptItem.points) * 1000).label("possible_milli"),
        )
        .where(*counted)
        .group_by(Attempt.quiz_id, Attempt.unit_id, day, AttemptItem.question_id)
    )
    return {ScoreTally: scores, AreaTally: areas, QuestionTally: questions}


def _columns(model: type[Any]) -> list[str]:
    return [column.name for column in model.__table__.columns]


async def differences(session: AsyncSession) -> dict[str, int]:
    """Rows that differ between each stored totals table and its recomputation (0 everywhere when
    the totals are right)."""
    dialect = (await session.connection()).dialect.name
    found: dict[str, int] = {}
    for model, query in raw_queries(dialect).items():
        columns = _columns(model)
        stored = {tuple(row) for row in await session.execute(select(*(getattr(model, c) for c in columns)))}
        source = query.subquery()
        raw = {tuple(row) for row in await session.execute(select(*(source.c[c] for c in columns)))}
        found[model.__tablename__] = len(stored ^ raw)
    return found


async def rebuild(session: AsyncSession) -> None:
    """Rewrite every total from the raw rows (in the caller's transaction)."""
    dialect = (await session.connection()).dialect.name
    if dialect == "postgresql":
        # Attempts finishing meanwhile wait at their first upsert until this commits, and then add
        # themselves; any that got there first are seen here once their transaction commits.
        tables = ", ".join(model.__tablename__ for model in (ScoreTally, AreaTally, QuestionTally))
        await session.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))
    for model, query in raw_queries(dialect).items():
        columns = _columns(model)
        await session.execute(delete(model))
        source = query.subquery()
        await session.execute(insert(model).from_select(columns, select(*(source.c[c] for c in columns))))
