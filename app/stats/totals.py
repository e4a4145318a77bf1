"""Running totals of first attempts: what the unit reports read instead of every answer row.

A city-wide report over five quizzes would otherwise join a million answer rows on every request.
Instead, the transaction that finishes an attempt adds it to three small tables (app.stats.models:
scores, marks per knowledge area, marks per question), keyed by quiz, the unit where the attempt
started and the day it finished. A report sums the rows of its quizzes, days and subtree: a few
thousand rows, exact, and current the moment the submission commits.

Only first attempts (number 1) of quizzes count here, the reports' default choice; spot sessions
never do. Reports of best or last attempts start from these totals and correct them where an
officer's counted attempt is a later one (app.stats.service._report_sums).
`differences` recomputes the totals from the raw rows (tests, `yingzhi stats-check`), `rebuild`
rewrites them from the raw rows (`yingzhi stats-check --repair`, benchmark seeding).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, bindparam, cast, delete, func, insert, literal_column, select, text, type_coerce
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


@dataclass(frozen=True)
class FinishedAttempt:
    """A finished first attempt of a quiz, as the totals key and count it."""

    quiz_id: int
    unit_id: int
    finished_at: datetime
    score_milli: int
    max_score_milli: int
    passed: bool


def _upsert(session: AsyncSession, model: type[Any], added: tuple[str, ...]) -> Any:
    """INSERT one row, or add its `added` columns to the row already there (`x = x + n`), as one
    statement: concurrent finishes never lose each other's update."""
    stmt = upsert_insert(session)(model)
    return stmt.on_conflict_do_update(
        index_elements=[column.name for column in model.__table__.primary_key],
        set_={name: getattr(model, name) + getattr(stmt.excluded, name) for name in added},
    )


# The same three upserts as one statement on PostgreSQL: one round trip when an attempt finishes
# instead of three (this runs in every finish, and a city's officers finish within minutes).
_ADD_ON_POSTGRESQL = text("""
WITH scores AS (
    INSERT INTO stat_scores (quiz_id, unit_id, day, score_milli, max_score_milli, passed, attempts)
    VALUES (:quiz_id, :unit_id, :day, :score_milli, :max_score_milli, :passed, 1)
    ON CONFLICT (quiz_id, unit_id, day, score_milli, max_score_milli, passed)
    DO UPDATE SET attempts = stat_scores.attempts + 1
), areas AS (
    INSERT INTO stat_area_marks (quiz_id, unit_id, day, knowledge_area_id, awarded_milli, possible_milli)
    SELECT :quiz_id, :unit_id, :day, area.*
    FROM unnest(
        CAST(:area_ids AS INTEGER[]), CAST(:area_awarded AS BIGINT[]), CAST(:area_possible AS BIGINT[])
    ) AS area
    ON CONFLICT (quiz_id, unit_id, day, knowledge_area_id) DO UPDATE SET
        awarded_milli = stat_area_marks.awarded_milli + excluded.awarded_milli,
        possible_milli = stat_area_marks.possible_milli + excluded.possible_milli
)
INSERT INTO stat_question_marks (quiz_id, unit_id, day, question_id, answered, awarded_milli, possible_milli)
SELECT :quiz_id, :unit_id, :day, question.*
FROM unnest(
    CAST(:question_ids AS INTEGER[]), CAST(:question_answered AS INTEGER[]),
    CAST(:question_awarded AS BIGINT[]), CAST(:question_possible AS BIGINT[])
) AS question
ON CONFLICT (quiz_id, unit_id, day, question_id) DO UPDATE SET
    answered = stat_question_marks.answered + excluded.answered,
    awarded_milli = stat_question_marks.awarded_milli + excluded.awarded_milli,
    possible_milli = stat_question_marks.possible_milli + excluded.possible_milli
""").bindparams(bindparam("day", type_=Date))


async def add(session: AsyncSession, attempt: FinishedAttempt, items: Iterable[ItemMarks]) -> None:
    """Add a just-finished first attempt to the totals, in the caller's transaction (before its commit).

    Rows are written in key order, so two attempts finishing together in one unit never deadlock.
    """
    key = {"quiz_id": attempt.quiz_id, "unit_id": attempt.unit_id, "day": report_day(attempt.finished_at)}
    areas, questions = sum_items(items)
    if session.get_bind().dialect.name == "postgresql":
        area_rows, question_rows = sorted(areas.items()), sorted(questions.items())
        await session.execute(
            _ADD_ON_POSTGRESQL,
            {
                **key,
                "score_milli": attempt.score_milli,
                "max_score_milli": attempt.max_score_milli,
                "passed": attempt.passed,
                "area_ids": [area_id for area_id, _ in area_rows],
                "area_awarded": [awarded for _, (awarded, _) in area_rows],
                "area_possible": [possible for _, (_, possible) in area_rows],
                "question_ids": [question_id for question_id, _ in question_rows],
                "question_answered": [answered for _, (answered, _, _) in question_rows],
                "question_awarded": [awarded for _, (_, awarded, _) in question_rows],
                "question_possible": [possible for _, (_, _, possible) in question_rows],
            },
        )
        return
    await session.execute(
        _upsert(session, ScoreTally, ("attempts",)),
        [
            {
                **key,
                "score_milli": attempt.score_milli,
                "max_score_milli": attempt.max_score_milli,
                "passed": attempt.passed,
                "attempts": 1,
            }
        ],
    )
    if areas:
        await session.execute(
            _upsert(session, AreaTally, ("awarded_milli", "possible_milli")),
            [
                {**key, "knowledge_area_id": area_id, "awarded_milli": awarded, "possible_milli": possible}
                for area_id, (awarded, possible) in sorted(areas.items())
            ],
        )
    if questions:
        await session.execute(
            _upsert(session, QuestionTally, ("answered", "awarded_milli", "possible_milli")),
            [
                {
                    **key,
                    "question_id": question_id,
                    "answered": answered,
                    "awarded_milli": awarded,
                    "possible_milli": possible,
                }
                for question_id, (answered, awarded, possible) in sorted(questions.items())
            ],
        )


async def record_finished(session: AsyncSession, attempt_id: int) -> None:
    """`add` for an attempt already stored as finished (reads it and its items); nothing for a later
    attempt or a spot session's."""
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
    if not counts(found.number, found.kind) or found.status != AttemptStatus.finished:
        return
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
    attempt = FinishedAttempt(
        found.quiz_id,
        found.unit_id,
        found.finished_at,
        found.score_milli or 0,
        found.max_score_milli,
        bool(found.passed),
    )
    await add(session, attempt, items)


def counts(attempt_number: int, quiz_kind: str) -> bool:
    """Whether the totals count an attempt: first attempts of quizzes (not spot sessions)."""
    return attempt_number == 1 and quiz_kind == "quiz"


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
