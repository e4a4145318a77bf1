"""Statistics from the stored attempts, SQL first: the database counts and sums, Python only
rolls the per-unit results up the unit tree. Unit reports read the running totals of first attempts
(app.stats.totals, written when an attempt finishes), corrected for best or last attempts by the
few later attempts that replace a first one; trends and item analysis read the raw rows. Nothing is
cached, so a submission shows at once.

Definitions (README, "Statistics"):
- roster: active officers (role officer) by their current unit; participants: those of them with a
  finished attempt in the selection; participation = participants ÷ roster.
- scores: one attempt per officer and quiz (first by default, or best, or last) among the finished
  attempts in the selection, counted in the unit the officer was in when it started.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Float, Integer, any_, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.bank.models import KnowledgeArea, Question
from app.core.deps import Principal
from app.core.errors import NotFound, Unprocessable
from app.db.session import fetch_integers, plan_each_query
from app.db.types import utcnow
from app.quizzes.models import Attempt, AttemptItem, AttemptStatus, Quiz
from app.stats import aggregate, formulas
from app.stats.aggregate import AreaMarks, ScoreCount, Thresholds
from app.stats.models import AreaTally, Evaluation, QuestionTally, ScoreTally
from app.stats.schemas import (
    AttemptChoice,
    EvaluationRef,
    ItemAnalysisOut,
    NonParticipant,
    NonParticipants,
    QuestionStatsOut,
    QuizRef,
    SelectionOut,
    TestStatsOut,
    TrendPoint,
    UnitRef,
    UnitReport,
    WeakQuestion,
)
from app.stats.totals import REPORT_TIMEZONE
from app.units.models import Role, Unit, User
from app.units.service import get_unit_in_scope, in_subtree

WEAKEST = 10
WEAKEST_MIN_ANSWERS = 3
NON_PARTICIPANTS_LISTED = 1000


@dataclass(frozen=True)
class Selection:
    quiz_ids: tuple[int, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    attempts: AttemptChoice = "first"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, REPORT_TIMEZONE).astimezone(UTC)


def attempt_conditions(selection: Selection) -> list[Any]:
    # Spot-session results are reported apart (`spot_sessions`), never mixed into quiz figures.
    conditions: list[Any] = [
        Attempt.status == AttemptStatus.finished,
        Attempt.quiz_id.in_(select(Quiz.id).where(Quiz.kind == "quiz")),
    ]
    if selection.quiz_ids:
        conditions.append(Attempt.quiz_id.in_(selection.quiz_ids))
    if selection.date_from is not None:
        conditions.append(Attempt.finished_at >= _day_start(selection.date_from))
    if selection.date_to is not None:
        conditions.append(Attempt.finished_at < _day_start(selection.date_to + timedelta(days=1)))
    return conditions


CHOSEN_COLUMNS = (
    Attempt.id,
    Attempt.user_id,
    Attempt.quiz_id,
    Attempt.unit_id,
    Attempt.score_milli,
    Attempt.max_score_milli,
    Attempt.passed,
    Attempt.finished_at,
    Attempt.number,
)


def chosen_attempts(selection: Selection, unit_path: str, retaken_only: bool = False) -> Any:
    """One finished attempt per officer and quiz in the selection, where it was made in the subtree
    (`retaken_only`: just for the officers and quizzes with more than one attempt)."""
    if selection.attempts == "first":
        # An officer's first attempt is attempt number 1 (a second can start only after it has
        # finished): a plain indexed filter, no window over every attempt.
        return (
            select(
                *CHOSEN_COLUMNS,
            )
            .join(Unit, Unit.id == Attempt.unit_id)
            .where(*attempt_conditions(selection), Attempt.number == 1, in_subtree(Unit.path, unit_path))
        )
    if selection.attempts == "best":
        order: tuple[Any, ...] = (
            (cast(Attempt.score_milli, Float) / Attempt.max_score_milli).desc(),
            Attempt.number.asc(),
        )
    elif selection.attempts == "last":
        order = (Attempt.number.desc(),)
    else:
        order = (Attempt.number.asc(),)
    conditions = [*attempt_conditions(selection), in_subtree(Unit.path, unit_path)]
    if retaken_only:
        retake = aliased(Attempt)
        conditions.append(
            select(retake.id)
            .where(retake.user_id == Attempt.user_id, retake.quiz_id == Attempt.quiz_id, retake.number > 1)
            .exists()
        )
    ranked = (
        select(
            *CHOSEN_COLUMNS,
            func.row_number()
            .over(partition_by=(Attempt.user_id, Attempt.quiz_id), order_by=order)
            .label("rank"),
        )
        .join(Unit, Unit.id == Attempt.unit_id)
        .where(*conditions)
        .subquery()
    )
    return select(ranked).where(ranked.c.rank == 1)


async def selection_from(
    session: AsyncSession,
    *,
    quiz_ids: list[int],
    date_from: date | None,
    date_to: date | None,
    attempts: AttemptChoice,
    evaluation_id: int | None,
) -> tuple[Selection, Evaluation | None]:
    evaluation = None
    if evaluation_id is not None:
        evaluation = await get_evaluation(session, evaluation_id)
        return (
            Selection(
                tuple(evaluation.quiz_ids),
                evaluation.date_from,
                evaluation.date_to,
                evaluation.attempts,  # type: ignore[arg-type]
            ),
            evaluation,
        )
    if not quiz_ids and date_from is None and date_to is None:
        raise Unprocessable(
            "Choose quizzes (quiz_id), a date range (from, to) or an evaluation", code="selection_required"
        )
    if date_from and date_to and date_from > date_to:
        raise Unprocessable("`from` is after `to`", code="invalid_date_range")
    return Selection(tuple(sorted(set(quiz_ids))), date_from, date_to, attempts), evaluation


async def get_evaluation(session: AsyncSession, evaluation_id: int) -> Evaluation:
    evaluation = await session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise NotFound(f"Evaluation {evaluation_id} does not exist", code="evaluation_not_found")
    return evaluation


def thresholds_of(evaluation: Evaluation | None) -> Thresholds | None:
    if evaluation is None:
        return None
    return Thresholds(
        evaluation.min_participation_percent, evaluation.min_pass_rate_percent, evaluation.min_mean_percent
    )


async def _subtree_units(session: AsyncSession, unit: Unit) -> dict[int, tuple[str, str]]:
    rows = await session.execute(
        select(Unit.id, Unit.path, Unit.name).where(in_subtree(Unit.path, unit.path))
    )
    return {unit_id: (path, name) for unit_id, path, name in rows}


async def _full_name(session: AsyncSession, unit: Unit) -> str:
    ids = [int(part) for part in unit.path.strip("/").split("/")]
    names = dict((await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids)))).all())
    return "/".join(names[i] for i in ids if i in names)


def _roster_query(unit_path: str) -> Any:
    return (
        select(User.unit_id, func.count(User.id))
        .join(Unit, Unit.id == User.unit_id)
        .where(User.role == Role.officer, User.is_active.is_(True), in_subtree(Unit.path, unit_path))
        .group_by(User.unit_id)
    )


def _took_part(selection: Selection) -> Any:
    return select(Attempt.id).where(Attempt.user_id == User.id, *attempt_conditions(selection)).exists()


async def _selection_out(session: AsyncSession, selection: Selection) -> SelectionOut:
    quizzes: list[QuizRef] = []
    if selection.quiz_ids:
        rows = await session.execute(
            select(Quiz.id, Quiz.title).where(Quiz.id.in_(selection.quiz_ids)).order_by(Quiz.id)
        )
        quizzes = [QuizRef(id=quiz_id, title=title) for quiz_id, title in rows]
    return SelectionOut(
        quiz_ids=list(selection.quiz_ids),
        quizzes=quizzes,
        date_from=selection.date_from,
        date_to=selection.date_to,
        attempts=selection.attempts,
    )


def _score_key(score: ScoreCount) -> tuple[int, int, int, bool]:
    return score.unit_id, score.score_milli, score.max_score_milli, score.passed


def _add(sums: dict[Any, Any], key: Any, values: tuple[int, ...], sign: int = 1) -> None:
    """sums[key] += sign × values, element by element (a missing entry counts zeros)."""
    before = sums.get(key, (0,) * len(values))
    sums[key] = tuple(b + sign * v for b, v in zip(before, values, strict=True))


@dataclass(frozen=True)
class ReportSums:
    """What a unit report adds up, per unit where the attempts were made."""

    scores: list[ScoreCount]
    areas: dict[tuple[int, int], tuple[int, int]]  # (unit, area) → (awarded, possible) milli-points
    questions: dict[int, tuple[int, int, int]]  # question → (answered, awarded, possible)

    def corrected(self, minus: "ReportSums", plus: "ReportSums") -> "ReportSums":
        """These sums without `minus` and with `plus` (entries left empty disappear)."""
        scores = Counter({_score_key(c): c.attempts for c in self.scores})
        areas = dict(self.areas)
        questions = dict(self.questions)
        for sign, other in ((-1, minus), (1, plus)):
            for c in other.scores:
                scores[_score_key(c)] += sign * c.attempts
            for key, sums in other.areas.items():
                _add(areas, key, sums, sign)
            for question_id, sums3 in other.questions.items():
                _add(questions, question_id, sums3, sign)
        if any(n < 0 for n in scores.values()):
            raise RuntimeError("statistics totals lack attempts they should hold: run `yingzhi stats-check`")
        return ReportSums(
            scores=[ScoreCount(*key, n) for key, n in scores.items() if n],
            areas={key: sums for key, sums in areas.items() if sums[1]},
            questions={key: sums for key, sums in questions.items() if sums[0]},
        )


async def _sums_from_totals(
    session: AsyncSession, selection: Selection, unit_path: str, unit_ids: Sequence[int]
) -> ReportSums:
    """First attempts: a few rows per unit, quiz and day from the running totals (`unit_ids`: the
    subtree at `unit_path`)."""

    whole_tree = (await session.execute(select(func.count(Unit.id)))).scalar_one() == len(unit_ids)

    def where(model: type[ScoreTally] | type[AreaTally] | type[QuestionTally]) -> list[Any]:
        # A report on the whole tree filters no units (the largest report, and the commonest).
        conditions: list[Any] = [] if whole_tree else [model.unit_id.in_(unit_ids)]
        if selection.quiz_ids:
            conditions.append(model.quiz_id.in_(selection.quiz_ids))
        if selection.date_from is not None:
            conditions.append(model.day >= selection.date_from)
        if selection.date_to is not None:
            conditions.append(model.day <= selection.date_to)
        return conditions

    score_key = (ScoreTally.unit_id, ScoreTally.score_milli, ScoreTally.max_score_milli, ScoreTally.passed)
    scores = await session.execute(
        select(*score_key, func.sum(ScoreTally.attempts)).where(*where(ScoreTally)).group_by(*score_key)
    )
    areas = await session.execute(
        select(
            AreaTally.unit_id,
            AreaTally.knowledge_area_id,
            func.sum(AreaTally.awarded_milli),
            func.sum(AreaTally.possible_milli),
        )
        .where(*where(AreaTally))
        .group_by(AreaTally.unit_id, AreaTally.knowledge_area_id)
    )
    questions = await session.execute(
        select(
            QuestionTally.question_id,
            func.sum(QuestionTally.answered),
            func.sum(QuestionTally.awarded_milli),
            func.sum(QuestionTally.possible_milli),
        )
        .where(*where(QuestionTally))
        .group_by(QuestionTally.question_id)
    )
    return ReportSums(
        scores=[
            ScoreCount(u, score, maximum, bool(passed), int(n)) for u, score, maximum, passed, n in scores
        ],
        areas={(u, a): (int(awarded), int(possible)) for u, a, awarded, possible in areas},
        questions={q: (int(n), int(awarded), int(possible)) for q, n, awarded, possible in questions},
    )


@dataclass(frozen=True)
class _Counted:
    unit_id: int
    score_milli: int
    max_score_milli: int
    passed: bool


async def _sums_of(session: AsyncSession, attempts: dict[int, _Counted]) -> ReportSums:
    """Sums over the given attempts (by id) and their items, from the raw rows."""
    scores = Counter((a.unit_id, a.score_milli, a.max_score_milli, a.passed) for a in attempts.values())
    areas: dict[tuple[int, int], tuple[int, int]] = {}
    questions: dict[int, tuple[int, int, int]] = {}
    awarded = func.sum(func.coalesce(AttemptItem.awarded_milli, literal_column("0")))
    possible = func.sum(AttemptItem.points) * 1000
    ids = sorted(attempts)
    postgresql = (await session.connection()).dialect.name == "postgresql"
    # One array parameter on PostgreSQL (index lookups); bounded IN lists on SQLite.
    for chunk in [ids] if postgresql else [ids[i : i + 5000] for i in range(0, len(ids), 5000)]:
        if not chunk:
            continue
        among = (
            AttemptItem.attempt_id == any_(bindparam("ids", chunk, type_=ARRAY(Integer)))
            if postgresql
            else AttemptItem.attempt_id.in_(chunk)
        )
        for attempt_id, area_id, got, top in await session.execute(
            select(AttemptItem.attempt_id, AttemptItem.knowledge_area_id, awarded, possible)
            .where(among)
            .group_by(AttemptItem.attempt_id, AttemptItem.knowledge_area_id)
        ):
            _add(areas, (attempts[attempt_id].unit_id, area_id), (int(got), int(top)))
        for question_id, n, got, top in await session.execute(
            select(AttemptItem.question_id, func.count(), awarded, possible)
            .where(among)
            .group_by(AttemptItem.question_id)
        ):
            _add(questions, question_id, (int(n), int(got), int(top)))
    return ReportSums(
        scores=[ScoreCount(*key, n) for key, n in scores.items()], areas=areas, questions=questions
    )


async def _counted(session: AsyncSession, query: Any) -> dict[int, _Counted]:
    rows = await session.execute(
        select(query.c.id, query.c.unit_id, query.c.score_milli, query.c.max_score_milli, query.c.passed)
    )
    return {
        attempt_id: _Counted(unit_id, score or 0, maximum, bool(passed))
        for attempt_id, unit_id, score, maximum, passed in rows
    }


async def _sums_from_attempts(session: AsyncSession, selection: Selection, unit_path: str) -> ReportSums:
    """The counted attempts' sums straight from the raw rows (what the totals must agree with)."""
    return await _sums_of(session, await _counted(session, chosen_attempts(selection, unit_path).subquery()))


async def _report_sums(
    session: AsyncSession, selection: Selection, unit_path: str, unit_ids: Sequence[int]
) -> ReportSums:
    """First attempts from the running totals. Best and last: the same totals, corrected where an
    officer's counted attempt is a later one (taken out: that first attempt; put in: the later one),
    so only those few attempts' answer rows are read."""
    sums = await _sums_from_totals(session, selection, unit_path, unit_ids)
    if selection.attempts == "first":
        return sums
    # Only officers with a retake can count a later attempt: rank just their attempts.
    chosen = chosen_attempts(selection, unit_path, retaken_only=True).subquery()
    later = await _counted(session, select(chosen).where(chosen.c.number > 1).subquery())
    if not later:
        return sums
    # The first attempts these replace, exactly as the totals counted them (the same conditions).
    replaced = (
        select(*CHOSEN_COLUMNS)
        .join(Unit, Unit.id == Attempt.unit_id)
        .where(
            *attempt_conditions(selection),
            Attempt.number == 1,
            in_subtree(Unit.path, unit_path),
            select(chosen.c.id)
            .where(
                chosen.c.number > 1, chosen.c.user_id == Attempt.user_id, chosen.c.quiz_id == Attempt.quiz_id
            )
            .exists(),
        )
        .subquery()
    )
    taken_out = await _sums_of(session, await _counted(session, replaced))
    return sums.corrected(taken_out, await _sums_of(session, later))


async def unit_report(
    session: AsyncSession,
    principal: Principal,
    unit_id: int,
    selection: Selection,
    evaluation: Evaluation | None = None,
) -> UnitReport:
    await plan_each_query(session)
    unit = await get_unit_in_scope(session, principal, unit_id)
    units = await _subtree_units(session, unit)
    paths = {uid: path for uid, (path, _) in units.items()}
    names = {uid: name for uid, (_, name) in units.items()}

    roster = dict((await session.execute(_roster_query(unit.path))).all())
    participants = dict((await session.execute(_roster_query(unit.path).where(_took_part(selection)))).all())
    sums = await _report_sums(session, selection, unit.path, list(units))
    thresholds = thresholds_of(evaluation)

    tallies = aggregate.tally_units(paths, roster, participants, sums.scores)
    total, buckets = aggregate.roll_up(tallies, paths, unit.id)
    children = sorted(
        (uid for uid in buckets if uid != unit.id), key=lambda uid: (paths[uid].count("/"), names[uid], uid)
    )
    own_tally = buckets.get(unit.id)
    own = (
        aggregate.figures(unit.id, names[unit.id], own_tally, thresholds)
        if own_tally and (own_tally.roster or own_tally.percents)
        else None
    )

    area_rows = await session.execute(
        select(KnowledgeArea.id, KnowledgeArea.full_name, KnowledgeArea.path, KnowledgeArea.depth)
    )
    areas = {area_id: (full_name, path, depth) for area_id, full_name, path, depth in area_rows}
    mastery, matrix = aggregate.area_mastery(
        [AreaMarks(u, a, got, top) for (u, a), (got, top) in sums.areas.items()], areas, paths, unit.id
    )
    return UnitReport(
        unit=UnitRef(id=unit.id, name=unit.name, full_name=await _full_name(session, unit)),
        selection=await _selection_out(session, selection),
        generated_at=utcnow(),
        evaluation=EvaluationRef(
            id=evaluation.id,
            name=evaluation.name,
            min_participation_percent=evaluation.min_participation_percent,
            min_pass_rate_percent=evaluation.min_pass_rate_percent,
            min_mean_percent=evaluation.min_mean_percent,
        )
        if evaluation
        else None,
        summary=aggregate.figures(unit.id, unit.name, total, thresholds),
        own=own,
        children=[aggregate.figures(uid, names[uid], buckets[uid], thresholds) for uid in children],
        areas=mastery,
        area_matrix=matrix,
        weakest_questions=await _weakest(session, sums.questions, areas),
        non_participants=await _non_participants(
            session, unit.path, selection, total.roster - total.participants
        ),
        spot_sessions=await spot_summaries(session, unit.path, selection),
    )


async def _weakest(
    session: AsyncSession, sums: dict[int, tuple[int, int, int]], areas: dict[int, tuple[str, str, int]]
) -> list[WeakQuestion]:
    ranked = sorted(
        (awarded / possible, question_id, answered)
        for question_id, (answered, awarded, possible) in sums.items()
        if answered >= WEAKEST_MIN_ANSWERS and possible
    )[:WEAKEST]
    if not ranked:
        return []
    rows = await session.execute(
        select(Question.id, Question.stem, Question.type, Question.knowledge_area_id).where(
            Question.id.in_([question_id for _, question_id, _ in ranked])
        )
    )
    questions = {qid: (stem, qtype, area_id) for qid, stem, qtype, area_id in rows}
    return [
        WeakQuestion(
            question_id=question_id,
            stem=questions[question_id][0],
            type=questions[question_id][1],
            knowledge_area=areas.get(questions[question_id][2], ("", "", 0))[0],
            answered=answered,
            facility_percent=round(facility * 100, 2),
        )
        for facility, question_id, answered in ranked
        if question_id in questions
    ]


async def _non_participants(
    session: AsyncSession, unit_path: str, selection: Selection, total: int
) -> NonParticipants:
    """The first NON_PARTICIPANTS_LISTED active officers of the subtree without a counted attempt;
    `total` (roster − participants) says how many there are in all."""
    conditions = (
        User.role == Role.officer,
        User.is_active.is_(True),
        in_subtree(Unit.path, unit_path),
        ~_took_part(selection),
    )
    rows = await session.execute(
        select(User.id, User.name, User.police_number, User.unit_id, Unit.name)
        .join(Unit, Unit.id == User.unit_id)
        .where(*conditions)
        .order_by(Unit.path, User.police_number, User.id)
        .limit(NON_PARTICIPANTS_LISTED)
    )
    return NonParticipants(
        total=total,
        items=[
            NonParticipant(user_id=uid, name=name, police_number=number, unit_id=unit_id, unit_name=unit_name)
            for uid, name, number, unit_id, unit_name in rows
        ],
    )


async def trend(
    session: AsyncSession, principal: Principal, unit_id: int, selection: Selection, bucket: str
) -> list[TrendPoint]:
    """Per day (or week, starting Monday) where the units are: attempts counted, mean and pass
    rate of that period, and officers who had taken part by its end."""
    await plan_each_query(session)
    unit = await get_unit_in_scope(session, principal, unit_id)
    rows = (await session.execute(chosen_attempts(selection, unit.path))).all()
    periods: dict[date, list[Any]] = defaultdict(list)
    for row in rows:
        day = row.finished_at.astimezone(REPORT_TIMEZONE).date()
        if bucket == "week":
            day -= timedelta(days=day.weekday())
        periods[day].append(row)
    seen: set[int] = set()
    points = []
    for period in sorted(periods):
        members = periods[period]
        seen.update(r.user_id for r in members)
        percents = [(r.score_milli or 0) * 100 / r.max_score_milli for r in members if r.max_score_milli]
        points.append(
            TrendPoint(
                period=period,
                scored=len(members),
                participants_cumulative=len(seen),
                mean_percent=round(sum(percents) / len(percents), 2) if percents else None,
                pass_rate_percent=round(sum(1 for r in members if r.passed) * 100 / len(members), 2),
            )
        )
    return points


async def item_analysis(
    session: AsyncSession, principal: Principal, quiz_id: int, unit_id: int | None, attempts: AttemptChoice
) -> ItemAnalysisOut:
    """Moodle's item analysis (app.stats.formulas) over the quiz's counted attempts in a unit's
    subtree (default: the caller's unit; every unit for an administrator). A slot is a rule's
    k-th question of the paper, like one of Moodle's random slots."""
    await plan_each_query(session)
    quiz = await session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(f"Quiz {quiz_id} does not exist", code="quiz_not_found")
    if unit_id is None and principal.role == Role.admin:
        unit_path, unit_ref = "/", UnitRef(id=0, name="全部单位", full_name="全部单位")
    else:
        unit = await get_unit_in_scope(
            session, principal, unit_id if unit_id is not None else principal.unit_id
        )
        unit_path = unit.path
        unit_ref = UnitRef(id=unit.id, name=unit.name, full_name=await _full_name(session, unit))
    chosen = chosen_attempts(Selection((quiz.id,), attempts=attempts), unit_path).subquery()
    if (await session.connection()).dialect.name == "postgresql":
        # An index lookup per counted attempt, rather than the hash join over every quiz's answer
        # rows that PostgreSQL plans for `IN (subquery)`: 2-3 times faster on a million rows.
        counted = AttemptItem.attempt_id == any_(func.array(select(chosen.c.id).scalar_subquery()))
    else:
        counted = AttemptItem.attempt_id.in_(select(chosen.c.id))
    table = await fetch_integers(
        session,
        select(
            AttemptItem.attempt_id,
            AttemptItem.rule_position,
            AttemptItem.position,
            AttemptItem.question_id,
            func.coalesce(AttemptItem.awarded_milli, literal_column("0")),
            AttemptItem.points,
        ).where(counted),
        width=6,
    )
    items = formulas.item_rows(table)
    analysis = formulas.analyse_rows(items)
    attempts_counted = analysis.test.count
    info = await session.execute(
        select(Question.id, Question.stem, Question.type, KnowledgeArea.full_name)
        .join(KnowledgeArea, KnowledgeArea.id == Question.knowledge_area_id)
        .where(Question.id.in_([q.question_id for q in analysis.questions]))
    )
    about = {qid: (stem, qtype, area) for qid, stem, qtype, area in info}

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    test = analysis.test
    return ItemAnalysisOut(
        quiz=QuizRef(id=quiz.id, title=quiz.title),
        unit=unit_ref,
        attempts=attempts_counted,
        small_sample=attempts_counted < aggregate.SMALL_SAMPLE,
        test=TestStatsOut(
            mean=r(test.mean),
            median=r(test.median),
            sd=r(test.sd),
            skewness=r(test.skewness),
            kurtosis=r(test.kurtosis),
            cic=r(test.cic),
            error_ratio=r(test.error_ratio),
            standard_error=r(test.standard_error),
        ),
        questions=[
            QuestionStatsOut(
                question_id=q.question_id,
                stem=about.get(q.question_id, ("", "", ""))[0],
                type=about.get(q.question_id, ("", "", ""))[1],
                knowledge_area=about.get(q.question_id, ("", "", ""))[2],
                count=q.count,
                facility=r(q.facility),
                sd=r(q.sd),
                discrimination_index=r(q.discrimination_index),
                discriminative_efficiency=r(q.discriminative_efficiency),
                flags=list(q.flags),
            )
            for q in analysis.questions
        ],
    )


async def spot_summaries(session: AsyncSession, unit_path: str, selection: Selection) -> list[dict[str, Any]]:
    """Spot sessions in the subtree (within the date range, when one is given), labelled."""
    from app.spot.service import summaries_for_units

    found = await summaries_for_units(session, unit_path)
    if selection.date_from or selection.date_to:
        start = _day_start(selection.date_from).isoformat() if selection.date_from else ""
        end = _day_start(selection.date_to + timedelta(days=1)).isoformat() if selection.date_to else "~"
        found = [s for s in found if s["drawn_at"] and start <= s["drawn_at"] < end]
    return found
