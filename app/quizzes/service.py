"""Quizzes: authoring, publishing (pool freeze), and the officer's attempt flow.

Concurrency notes (see tests/test_concurrency.py):
- A save is one INSERT .. SELECT .. ON CONFLICT statement. Its SELECT takes a share lock on the
  attempt row (PostgreSQL), and finishing takes the row's write lock first, so a save either lands
  before the marks are computed (and is counted) or is refused with 409: never acknowledged and lost.
- Finishing is a compare-and-set on status, so submit, the sweeper and lazy finishing can race
  across processes and exactly one of them marks the attempt.
- SQLite runs with one connection per process, so statements never interleave there.
"""

import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import BigInteger, Integer, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.auth.models import AuthSession
from app.bank.models import Bank, KnowledgeArea, Question, QuestionStatus
from app.bank.service import area_subtree_ids
from app.core.config import Settings
from app.core.deps import Principal, check_login
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.security import AccessClaims
from app.db.session import Database, get_or_raise
from app.db.types import JSONType, UTCDateTime, utcnow
from app.practice import service as practice_service
from app.quizzes import drawing, scoring
from app.quizzes.models import (
    Attempt,
    AttemptItem,
    AttemptResponse,
    AttemptStatus,
    FinishReason,
    Quiz,
    QuizRule,
    QuizStatus,
    QuizTarget,
    ReviewPolicy,
)
from app.quizzes.schemas import (
    AttemptOut,
    AttemptResult,
    ItemOut,
    MyQuiz,
    OptionOut,
    PaperCheck,
    QuizIn,
    QuizOut,
    ReviewItem,
    RuleOut,
    SaveOut,
    ShortageOut,
    TargetIn,
)
from app.stats import totals as stats_totals
from app.units.models import Unit, User

# ---------------------------------------------------------------- authoring


async def _check_references(session: AsyncSession, principal: Principal, body: QuizIn) -> None:
    for i, rule in enumerate(body.rules, start=1):
        if rule.bank_id is not None and await session.get(Bank, rule.bank_id) is None:
            raise Unprocessable(f"Rule {i}: bank {rule.bank_id} does not exist", code="bank_not_found")
        if (
            rule.knowledge_area_id is not None
            and await session.get(KnowledgeArea, rule.knowledge_area_id) is None
        ):
            raise Unprocessable(
                f"Rule {i}: knowledge area {rule.knowledge_area_id} does not exist",
                code="knowledge_area_not_found",
            )
    seen: set[int] = set()
    for target in body.targets:
        unit = await session.get(Unit, target.unit_id)
        if unit is None or not principal.covers_unit_path(unit.path):
            raise Unprocessable(f"Unit {target.unit_id} does not exist", code="unit_not_found")
        if target.unit_id in seen:
            raise Unprocessable(f"Unit {target.unit_id} is targeted twice", code="duplicate_target")
        seen.add(target.unit_id)


def _apply(quiz: Quiz, body: QuizIn) -> None:
    for field in (
        "title",
        "description",
        "time_limit_seconds",
        "opens_at",
        "closes_at",
        "attempts_allowed",
        "pass_percent",
        "multiple_scoring",
        "review_policy",
        "shuffle_questions",
        "shuffle_options",
    ):
        setattr(quiz, field, getattr(body, field))


async def _replace_rules_and_targets(session: AsyncSession, quiz: Quiz, body: QuizIn) -> None:
    for model in (QuizRule, QuizTarget):
        for row in (await session.execute(select(model).where(model.quiz_id == quiz.id))).scalars():
            await session.delete(row)
    await session.flush()
    for position, rule in enumerate(body.rules, start=1):
        session.add(QuizRule(quiz_id=quiz.id, position=position, **rule.model_dump()))
    for target in body.targets:
        session.add(
            QuizTarget(quiz_id=quiz.id, unit_id=target.unit_id, include_subunits=target.include_subunits)
        )


async def create_quiz(session: AsyncSession, principal: Principal, body: QuizIn) -> QuizOut:
    await _check_references(session, principal, body)
    quiz = Quiz(status=QuizStatus.draft, created_by_id=principal.id, draw_counter=0)
    _apply(quiz, body)
    session.add(quiz)
    await session.flush()
    await _replace_rules_and_targets(session, quiz, body)
    await session.commit()
    return await quiz_out(session, quiz.id)


async def get_quiz(session: AsyncSession, quiz_id: int) -> Quiz:
    return await get_or_raise(
        session, Quiz, quiz_id, NotFound(f"Quiz {quiz_id} does not exist", code="quiz_not_found")
    )


def _reaches_subtree(targets: Sequence[tuple[int, str, bool]], subtree_path: str) -> bool:
    """A quiz concerns a subtree when it targets a unit inside it, or an ancestor with its sub-units."""
    return any(
        path.startswith(subtree_path) or (include and subtree_path.startswith(path))
        for _, path, include in targets
    )


async def get_quiz_in_scope(session: AsyncSession, principal: Principal, quiz_id: int) -> Quiz:
    """Staff below admin see only quizzes that concern their subtree."""
    quiz = await get_quiz(session, quiz_id)
    if principal.is_admin:
        return quiz
    targets = await _quiz_targets(session, [quiz.id])
    if not _reaches_subtree(targets.get(quiz.id, []), principal.unit_path):
        raise NotFound(f"Quiz {quiz_id} does not exist", code="quiz_not_found")
    return quiz


async def update_quiz(session: AsyncSession, principal: Principal, quiz_id: int, body: QuizIn) -> QuizOut:
    quiz = await get_quiz(session, quiz_id)
    if quiz.status != QuizStatus.draft:
        raise Conflict(
            "Only a draft quiz can be edited; close it and create a new one", code="quiz_not_draft"
        )
    await _check_references(session, principal, body)
    _apply(quiz, body)
    await _replace_rules_and_targets(session, quiz, body)
    await session.commit()
    return await quiz_out(session, quiz.id)


async def _rule_filters(session: AsyncSession, rules: Sequence[QuizRule]) -> list[drawing.RuleFilter]:
    filters = []
    for rule in rules:
        area_ids = (
            await area_subtree_ids(session, rule.knowledge_area_id, rule.include_subareas)
            if rule.knowledge_area_id is not None
            else None
        )
        filters.append(
            drawing.RuleFilter(
                position=rule.position,
                count=rule.count,
                bank_id=rule.bank_id,
                area_ids=area_ids,
                question_type=rule.question_type,
                difficulty_min=rule.difficulty_min,
                difficulty_max=rule.difficulty_max,
            )
        )
    return filters


def shortage_message(s: drawing.RuleShortage) -> str:
    taken = s.matching - s.available
    extra = f" ({taken} more match but earlier rules take them)" if taken else ""
    return f"Rule {s.position} needs {s.needed} questions but only {s.available} are available{extra}"


async def publish_quiz(session: AsyncSession, quiz_id: int) -> QuizOut:
    quiz = await get_quiz(session, quiz_id)
    if quiz.status != QuizStatus.draft:
        raise Conflict("The quiz is already published", code="quiz_not_draft")
    rules = list(
        (
            await session.execute(
                select(QuizRule).where(QuizRule.quiz_id == quiz.id).order_by(QuizRule.position)
            )
        )
        .scalars()
        .all()
    )
    candidates = [
        drawing.Candidate(r.id, r.bank_id, r.knowledge_area_id, r.type, r.difficulty)
        for r in await session.execute(
            select(
                Question.id, Question.bank_id, Question.knowledge_area_id, Question.type, Question.difficulty
            ).where(Question.status == QuestionStatus.active)
        )
    ]
    pools, shortages = drawing.assign_pools(await _rule_filters(session, rules), candidates)
    if shortages:
        raise Unprocessable(
            [
                ShortageOut(
                    rule=s.position,
                    needed=s.needed,
                    available=s.available,
                    matching=s.matching,
                    message=shortage_message(s),
                ).model_dump()
                for s in shortages
            ],
            code="quiz_rules_unsatisfiable",
        )
    by_position = {p.position: p for p in pools}
    for rule in rules:
        rule.pool = list(by_position[rule.position].question_ids)
    quiz.draw_seed = secrets.token_hex(32)
    quiz.status = QuizStatus.published
    quiz.published_at = utcnow()
    await session.commit()
    return await quiz_out(session, quiz.id)


async def close_quiz(session: AsyncSession, quiz_id: int) -> QuizOut:
    """Close now: no new starts, and attempts in progress are finished from their saved answers."""
    quiz = await get_quiz(session, quiz_id)
    if quiz.status == QuizStatus.draft:
        raise Conflict("A draft quiz cannot be closed; delete or publish it", code="quiz_not_published")
    now = utcnow()
    quiz.status = QuizStatus.closed
    if quiz.closes_at is None or quiz.closes_at > now:
        quiz.closes_at = now
    await session.commit()
    live = (
        (
            await session.execute(
                select(Attempt.id).where(
                    Attempt.quiz_id == quiz_id, Attempt.status == AttemptStatus.in_progress
                )
            )
        )
        .scalars()
        .all()
    )
    for attempt_id in live:
        await finish_attempt(session, attempt_id, FinishReason.closed, now)
    return await quiz_out(session, quiz.id)


def _max_score(rules: Sequence[QuizRule]) -> float | None:
    total = 0
    for rule in rules:
        if rule.points is None:
            return None  # depends on which questions each paper draws
        total += rule.points * rule.count
    return float(total)


async def quiz_out(session: AsyncSession, quiz_id: int) -> QuizOut:
    quiz = await get_quiz(session, quiz_id)
    await session.refresh(quiz)
    rules = (
        (
            await session.execute(
                select(QuizRule).where(QuizRule.quiz_id == quiz_id).order_by(QuizRule.position)
            )
        )
        .scalars()
        .all()
    )
    targets = (await session.execute(select(QuizTarget).where(QuizTarget.quiz_id == quiz_id))).scalars().all()
    return QuizOut(
        id=quiz.id,
        title=quiz.title,
        description=quiz.description,
        status=quiz.status,
        time_limit_seconds=quiz.time_limit_seconds,
        opens_at=quiz.opens_at,
        closes_at=quiz.closes_at,
        attempts_allowed=quiz.attempts_allowed,
        pass_percent=quiz.pass_percent,
        multiple_scoring=quiz.multiple_scoring,
        review_policy=quiz.review_policy,
        shuffle_questions=quiz.shuffle_questions,
        shuffle_options=quiz.shuffle_options,
        published_at=quiz.published_at,
        rules=[
            RuleOut(
                id=r.id,
                position=r.position,
                bank_id=r.bank_id,
                knowledge_area_id=r.knowledge_area_id,
                include_subareas=r.include_subareas,
                question_type=r.question_type,
                difficulty_min=r.difficulty_min,
                difficulty_max=r.difficulty_max,
                count=r.count,
                points=r.points,
                pool_size=len(r.pool) if r.pool is not None else None,
            )
            for r in rules
        ],
        targets=[TargetIn(unit_id=t.unit_id, include_subunits=t.include_subunits) for t in targets],
        question_count=sum(r.count for r in rules),
        max_score=_max_score(rules),
    )


async def list_quizzes(session: AsyncSession, principal: Principal) -> list[QuizOut]:
    ids = list(
        (await session.execute(select(Quiz.id).where(Quiz.kind == "quiz").order_by(Quiz.id.desc()))).scalars()
    )
    if not principal.is_admin:
        targets = await _quiz_targets(session, ids)
        ids = [qid for qid in ids if _reaches_subtree(targets.get(qid, []), principal.unit_path)]
    return [await quiz_out(session, qid) for qid in ids]


# ---------------------------------------------------------------- taking a quiz


def _targets_cover(targets: Sequence[tuple[int, str, bool]], unit_id: int, unit_path: str) -> bool:
    return any(
        unit_id == target_unit or (include and unit_path.startswith(target_path))
        for target_unit, target_path, include in targets
    )


async def _quiz_targets(
    session: AsyncSession, quiz_ids: Sequence[int]
) -> dict[int, list[tuple[int, str, bool]]]:
    rows = await session.execute(
        select(QuizTarget.quiz_id, QuizTarget.unit_id, Unit.path, QuizTarget.include_subunits)
        .join(Unit, Unit.id == QuizTarget.unit_id)
        .where(QuizTarget.quiz_id.in_(quiz_ids))
    )
    result: dict[int, list[tuple[int, str, bool]]] = {}
    for quiz_id, unit_id, path, include in rows:
        result.setdefault(quiz_id, []).append((unit_id, path, include))
    return result


def _is_closed(quiz: Quiz, now: datetime) -> bool:
    return quiz.status == QuizStatus.closed or (quiz.closes_at is not None and now >= quiz.closes_at)


def _milli_to_points(milli: int | None) -> float:
    return 0.0 if milli is None else milli / scoring.MILLI


async def my_quizzes(session: AsyncSession, settings: Settings, principal: Principal) -> list[MyQuiz]:
    now = utcnow()
    quizzes = (
        (
            await session.execute(
                select(Quiz)
                .where(Quiz.status != QuizStatus.draft, Quiz.kind == "quiz")
                .order_by(Quiz.id.desc())
            )
        )
        .scalars()
        .all()
    )
    targets = await _quiz_targets(session, [q.id for q in quizzes])
    mine = [
        q for q in quizzes if _targets_cover(targets.get(q.id, []), principal.unit_id, principal.unit_path)
    ]
    if not mine:
        return []
    attempts = (
        (
            await session.execute(
                select(Attempt)
                .where(Attempt.user_id == principal.id, Attempt.quiz_id.in_([q.id for q in mine]))
                .order_by(Attempt.number)
            )
        )
        .scalars()
        .all()
    )
    rules = (
        (await session.execute(select(QuizRule).where(QuizRule.quiz_id.in_([q.id for q in mine]))))
        .scalars()
        .all()
    )
    grace = timedelta(seconds=settings.save_grace_seconds)
    out = []
    for quiz in mine:
        own = [a for a in attempts if a.quiz_id == quiz.id]
        live = next(
            (a for a in own if a.status == AttemptStatus.in_progress and now <= a.deadline + grace), None
        )
        finished = [a for a in own if a.status == AttemptStatus.finished]
        quiz_rules = [r for r in rules if r.quiz_id == quiz.id]
        closed = _is_closed(quiz, now)
        upcoming = quiz.opens_at is not None and now < quiz.opens_at
        used = len(own)
        if live:
            state = "in_progress"
        elif closed:
            state = "closed"
        elif upcoming:
            state = "upcoming"
        elif used >= quiz.attempts_allowed:
            state = "finished"
        else:
            state = "open"
        last = finished[-1] if finished else None
        out.append(
            MyQuiz(
                id=quiz.id,
                title=quiz.title,
                description=quiz.description,
                opens_at=quiz.opens_at,
                closes_at=quiz.closes_at,
                time_limit_seconds=quiz.time_limit_seconds,
                question_count=sum(r.count for r in quiz_rules),
                max_score=_max_score(quiz_rules),
                pass_percent=quiz.pass_percent,
                attempts_allowed=quiz.attempts_allowed,
                attempts_used=used,
                state=state,
                can_start=state in ("open", "in_progress"),
                attempt_in_progress_id=live.id if live else None,
                last_score=_milli_to_points(last.score_milli) if last else None,
                last_passed=last.passed if last else None,
                best_score=max((_milli_to_points(a.score_milli) for a in finished), default=None),
            )
        )
    return out


def _blanks(item: AttemptItem) -> int:
    return len(item.answer) if item.type == "fill_blank" else 0


def _item_out(item: AttemptItem, saved: AttemptResponse | None) -> ItemOut:
    return ItemOut(
        id=item.id,
        position=item.position,
        type=item.type,
        stem=item.stem,
        options=[OptionOut(id=o["id"], text=o["text"]) for o in item.options],
        blanks=_blanks(item),
        points=float(item.points),
        response=saved.response if saved else None,
        seq=saved.seq if saved else None,
    )


async def _items_and_responses(
    session: AsyncSession, attempt_id: int
) -> tuple[list[AttemptItem], dict[int, AttemptResponse]]:
    items = list(
        (
            await session.execute(
                select(AttemptItem).where(AttemptItem.attempt_id == attempt_id).order_by(AttemptItem.position)
            )
        )
        .scalars()
        .all()
    )
    responses = {
        r.item_id: r
        for r in (
            await session.execute(select(AttemptResponse).where(AttemptResponse.attempt_id == attempt_id))
        )
        .scalars()
        .all()
    }
    return items, responses


async def _review_flags(
    session: AsyncSession, settings: Settings, quiz: Quiz, now: datetime
) -> tuple[bool, bool]:
    """(shows correctness, shows answer keys and explanations) for this quiz's review policy.

    full_after_close waits until nobody can change an answer any more: the quiz is closed and no
    attempt that can still save is left (closing early finishes them; after a natural close they
    can save until their deadline, capped at the closing time, plus the grace).
    """
    policy = quiz.review_policy
    shows_correctness = policy != ReviewPolicy.score_only
    if policy == ReviewPolicy.full:
        return shows_correctness, True
    if policy != ReviewPolicy.full_after_close or not _is_closed(quiz, now):
        return shows_correctness, False
    # Attempts still able to save: capped at the closing time, they save until deadline + grace.
    cutoff = now - timedelta(seconds=settings.save_grace_seconds)
    still_saving = (
        await session.execute(
            select(Attempt.id)
            .where(
                Attempt.quiz_id == quiz.id,
                Attempt.status == AttemptStatus.in_progress,
                Attempt.deadline > cutoff,
            )
            .limit(1)
        )
    ).first()
    return shows_correctness, still_saving is None


def _result(
    attempt: Attempt,
    quiz: Quiz,
    items: Sequence[AttemptItem],
    responses: dict[int, AttemptResponse],
    flags: tuple[bool, bool],
) -> AttemptResult:
    shows_correctness, shows_answers = flags
    review: list[ReviewItem] = []
    if shows_correctness:
        for item in items:
            review.append(
                ReviewItem(
                    **_item_out(item, responses.get(item.id)).model_dump(),
                    outcome=item.outcome,
                    awarded=_milli_to_points(item.awarded_milli),
                    correct_response=item.answer if shows_answers else None,
                    explanation=item.explanation if shows_answers else None,
                )
            )
    return AttemptResult(
        attempt_id=attempt.id,
        quiz_id=attempt.quiz_id,
        status=attempt.status,
        finish_reason=attempt.finish_reason,
        finished_at=attempt.finished_at,
        score=_milli_to_points(attempt.score_milli),
        max_score=_milli_to_points(attempt.max_score_milli),
        passed=bool(attempt.passed),
        review_policy=quiz.review_policy,
        shows_correctness=shows_correctness,
        shows_answers=shows_answers,
        items=review,
    )


async def attempt_view(session: AsyncSession, settings: Settings, attempt: Attempt) -> AttemptOut:
    now = utcnow()
    quiz = await get_quiz(session, attempt.quiz_id)
    items, responses = await _items_and_responses(session, attempt.id)
    result = None
    if attempt.status == AttemptStatus.finished:
        flags = await _review_flags(session, settings, quiz, now)
        result = _result(attempt, quiz, items, responses, flags)
    return AttemptOut(
        id=attempt.id,
        quiz_id=attempt.quiz_id,
        quiz_title=quiz.title,
        number=attempt.number,
        status=attempt.status,
        started_at=attempt.started_at,
        deadline=attempt.deadline,
        server_time=now,
        save_grace_seconds=settings.save_grace_seconds,
        items=[_item_out(i, responses.get(i.id)) for i in items],
        result=result,
    )


@dataclass(frozen=True)
class FrozenQuiz:
    """What publishing fixed for good (rules, pools, targets): safe to keep in every process."""

    published_at: datetime | None
    pools: tuple[drawing.RulePool, ...]
    rule_points: dict[int, int | None]
    targets: tuple[tuple[int, str, bool], ...]


class FrozenQuizCache:
    def __init__(self) -> None:
        self._data: dict[int, FrozenQuiz] = {}

    async def get(self, session: AsyncSession, quiz: Quiz) -> FrozenQuiz:
        frozen = self._data.get(quiz.id)
        if frozen is not None and frozen.published_at == quiz.published_at:
            return frozen
        rules = (
            (
                await session.execute(
                    select(QuizRule).where(QuizRule.quiz_id == quiz.id).order_by(QuizRule.position)
                )
            )
            .scalars()
            .all()
        )
        targets = await _quiz_targets(session, [quiz.id])
        frozen = FrozenQuiz(
            published_at=quiz.published_at,
            pools=tuple(drawing.RulePool(r.position, r.count, tuple(r.pool or ())) for r in rules),
            rule_points={r.position: r.points for r in rules},
            targets=tuple(targets.get(quiz.id, [])),
        )
        if quiz.status != QuizStatus.draft:
            self._data[quiz.id] = frozen
        return frozen


_NEXT_DRAW_INDEX = (
    update(Quiz)
    .where(Quiz.id == bindparam("quiz_id"))
    .values(draw_counter=Quiz.draw_counter + 1)
    .returning(Quiz.draw_counter)
)


async def _claim_draw_index(session: AsyncSession, database: Database, quiz_id: int) -> int:
    """The next paper index for the quiz.

    On PostgreSQL it is one autocommit statement on a small pool of its own: the quiz row is locked
    only while PostgreSQL runs it, so simultaneous starts never queue behind each other's
    transactions, and no request ever waits for a second connection from the main pool. SQLite runs
    everything on one connection anyway, so there it joins the start's transaction.
    """
    if session.get_bind().dialect.name == "sqlite":
        value = (await session.execute(_NEXT_DRAW_INDEX, {"quiz_id": quiz_id})).scalar_one()
    else:
        async with database.counter_engine.connect() as conn:
            value = (await conn.execute(_NEXT_DRAW_INDEX, {"quiz_id": quiz_id})).scalar_one()
    return int(value) - 1


def _served_options(
    options: list[dict[str, str]], seed: str, question_id: int, shuffle: bool
) -> list[dict[str, str]]:
    by_id = {o["id"]: o for o in options}
    order = drawing.order_options([o["id"] for o in options], seed, question_id, shuffle)
    return [{"id": oid, "text": by_id[oid]["text"]} for oid in order]


# Core tables for the start's inserts: the ORM's bulk-insert bookkeeping costs more than the SQL.
_ATTEMPTS = cast(Table, Attempt.__table__)
_ATTEMPT_ITEMS = cast(Table, AttemptItem.__table__)

_QUESTION_SNAPSHOT = select(
    Question.id,
    Question.version,
    Question.knowledge_area_id,
    Question.type,
    Question.difficulty,
    Question.stem,
    Question.options,
    Question.answer,
    Question.explanation,
    Question.points,
).where(Question.id.in_(bindparam("ids", expanding=True)))


async def start_attempt(
    session: AsyncSession,
    database: Database,
    frozen_cache: FrozenQuizCache,
    settings: Settings,
    principal: Principal,
    quiz_id: int,
    *,
    allow_spot: bool = False,
) -> tuple[AttemptOut, bool]:
    """(the attempt, True when newly created). Resumes the attempt in progress if there is one.
    A spot session's hidden quiz starts only through joining the session (`allow_spot`)."""
    now = utcnow()
    quiz = await session.get(Quiz, quiz_id)
    if quiz is None or quiz.status == QuizStatus.draft or (quiz.kind == "spot" and not allow_spot):
        raise NotFound(f"Quiz {quiz_id} does not exist", code="quiz_not_found")
    frozen = await frozen_cache.get(session, quiz)
    if not _targets_cover(frozen.targets, principal.unit_id, principal.unit_path):
        raise NotFound(f"Quiz {quiz_id} is not open to you", code="quiz_not_found")
    grace = timedelta(seconds=settings.save_grace_seconds)
    own = (
        await session.execute(
            select(Attempt.id, Attempt.number, Attempt.status, Attempt.deadline).where(
                Attempt.quiz_id == quiz.id, Attempt.user_id == principal.id
            )
        )
    ).all()
    for row in own:
        if row.status == AttemptStatus.in_progress:
            if now <= row.deadline + grace:
                attempt = await session.get(Attempt, row.id)
                assert attempt is not None
                return await attempt_view(session, settings, attempt), False
            await finish_attempt(session, row.id, FinishReason.timeout, now)
    if _is_closed(quiz, now):
        raise Conflict("This quiz has closed", code="quiz_closed")
    if quiz.opens_at is not None and now < quiz.opens_at:
        raise Conflict("This quiz has not opened yet", code="quiz_not_open")
    if len(own) >= quiz.attempts_allowed:
        raise Conflict("You have used all your attempts at this quiz", code="attempts_exhausted")
    draw_index = await _claim_draw_index(session, database, quiz.id)
    seed = secrets.token_hex(16)
    paper = drawing.draw_paper(frozen.pools, quiz.draw_seed or "", draw_index, seed, quiz.shuffle_questions)
    questions = {
        q.id: q for q in await session.execute(_QUESTION_SNAPSHOT, {"ids": [qid for _, qid in paper]})
    }
    deadline = now + timedelta(seconds=quiz.time_limit_seconds)
    if quiz.closes_at is not None and quiz.closes_at < deadline:
        deadline = quiz.closes_at  # nobody writes past the quiz's closing time
    items: list[dict[str, Any]] = []
    for position, (rule_position, qid) in enumerate(paper, start=1):
        q = questions[qid]
        items.append(
            {
                "position": position,
                "question_id": q.id,
                "question_version": q.version,
                "rule_position": rule_position,
                "knowledge_area_id": q.knowledge_area_id,
                "type": q.type,
                "difficulty": q.difficulty,
                "stem": q.stem,
                "options": _served_options(q.options, seed, q.id, quiz.shuffle_options),
                "answer": q.answer,
                "explanation": q.explanation,
                "points": frozen.rule_points[rule_position] or q.points,
            }
        )
    number = max((row.number for row in own), default=0) + 1
    try:
        attempt_id = (
            await session.execute(
                insert(_ATTEMPTS).returning(_ATTEMPTS.c.id),
                {
                    "quiz_id": quiz.id,
                    "user_id": principal.id,
                    "unit_id": principal.unit_id,
                    "number": number,
                    "status": AttemptStatus.in_progress,
                    "seed": seed,
                    "draw_index": draw_index,
                    "started_at": now,
                    "deadline": deadline,
                    "max_score_milli": sum(i["points"] for i in items) * scoring.MILLI,
                },
            )
        ).scalar_one()
        for item in items:
            item["attempt_id"] = attempt_id
        item_ids = (
            (
                await session.execute(
                    insert(_ATTEMPT_ITEMS).returning(_ATTEMPT_ITEMS.c.id, sort_by_parameter_order=True),
                    items,
                )
            )
            .scalars()
            .all()
        )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(
            "This quiz is being started on another device at the same moment; open it again to resume",
            code="attempt_start_conflict",
        ) from None
    out = AttemptOut(
        id=attempt_id,
        quiz_id=quiz.id,
        quiz_title=quiz.title,
        number=number,
        status=AttemptStatus.in_progress,
        started_at=now,
        deadline=deadline,
        server_time=utcnow(),
        save_grace_seconds=settings.save_grace_seconds,
        items=[
            ItemOut(
                id=item_id,
                position=item["position"],
                type=item["type"],
                stem=item["stem"],
                options=[OptionOut(id=o["id"], text=o["text"]) for o in item["options"]],
                blanks=len(item["answer"]) if item["type"] == "fill_blank" else 0,
                points=float(item["points"]),
                response=None,
                seq=None,
            )
            for item_id, item in zip(item_ids, items, strict=True)
        ],
    )
    return out, True


async def get_own_attempt(
    session: AsyncSession, settings: Settings, principal: Principal, attempt_id: int
) -> Attempt:
    attempt = await session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != principal.id:
        raise NotFound(f"Attempt {attempt_id} does not exist", code="attempt_not_found")
    if attempt.status == AttemptStatus.in_progress and utcnow() > attempt.deadline + timedelta(
        seconds=settings.save_grace_seconds
    ):
        # Nobody submitted in time: finish it now rather than wait for the sweeper.
        await finish_attempt(session, attempt.id, FinishReason.timeout, utcnow())
        await session.refresh(attempt)
    return attempt


# ---------------------------------------------------------------- saving answers


@dataclass(frozen=True)
class ItemShape:
    type: str
    option_ids: frozenset[str]
    blanks: int


@dataclass(frozen=True)
class AttemptShape:
    """What never changes once an attempt exists: safe to cache in every process."""

    user_id: int
    deadline: datetime
    items: dict[int, ItemShape]
    quiz_id: int = 0


class ShapeCache:
    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._data: OrderedDict[int, AttemptShape] = OrderedDict()

    def get(self, attempt_id: int) -> AttemptShape | None:
        shape = self._data.get(attempt_id)
        if shape is not None:
            self._data.move_to_end(attempt_id)
        return shape

    def put(self, attempt_id: int, shape: AttemptShape) -> None:
        self._data[attempt_id] = shape
        if len(self._data) > self._size:
            self._data.popitem(last=False)


async def _attempt_shape(
    conn: AsyncConnection, shape_cache: ShapeCache, attempt_id: int
) -> AttemptShape | None:
    shape = shape_cache.get(attempt_id)
    if shape is not None:
        return shape
    head = (
        await conn.execute(
            select(Attempt.user_id, Attempt.deadline, Attempt.quiz_id).where(Attempt.id == attempt_id)
        )
    ).one_or_none()
    if head is None:
        return None
    rows = await conn.execute(
        select(AttemptItem.id, AttemptItem.type, AttemptItem.options, AttemptItem.answer).where(
            AttemptItem.attempt_id == attempt_id
        )
    )
    items = {
        item_id: ItemShape(
            type=qtype,
            option_ids=frozenset(o["id"] for o in options),
            blanks=len(answer) if qtype == "fill_blank" else 0,
        )
        for item_id, qtype, options, answer in rows
    }
    shape = AttemptShape(user_id=head.user_id, deadline=head.deadline, items=items, quiz_id=head.quiz_id)
    shape_cache.put(attempt_id, shape)
    return shape


def _build_save_statement(insert: Any) -> Any:
    """The whole save as one statement, built once per dialect with named parameters.

    Its SELECT yields a row only when the attempt is the caller's and still open, the caller's
    account is active and this login (session) is live; it takes a share lock on the attempt row
    (PostgreSQL), so a concurrent finish either waits for it or makes it find the attempt closed.
    """
    source = (
        select(
            bindparam("attempt_id", type_=Integer),
            bindparam("item_id", type_=Integer),
            bindparam("response", type_=JSONType),
            bindparam("seq", type_=BigInteger),
            bindparam("saved_at", type_=UTCDateTime),
        )
        .select_from(Attempt)
        .join(User, User.id == Attempt.user_id)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            Attempt.id == bindparam("attempt_id"),
            Attempt.user_id == bindparam("user_id"),
            Attempt.status == AttemptStatus.in_progress,
            Attempt.deadline > bindparam("cutoff", type_=UTCDateTime),
            User.is_active.is_(True),
            User.must_change_password.is_(False),
            AuthSession.id == bindparam("session_id"),
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > bindparam("saved_at", type_=UTCDateTime),
        )
        .with_for_update(read=True, of=Attempt)
    )
    stmt = insert(AttemptResponse).from_select(
        ["attempt_id", "item_id", "response", "seq", "saved_at"], source
    )
    return stmt.on_conflict_do_update(
        index_elements=["attempt_id", "item_id"],
        set_={
            "response": stmt.excluded.response,
            "seq": stmt.excluded.seq,
            "saved_at": stmt.excluded.saved_at,
        },
        where=AttemptResponse.seq < stmt.excluded.seq,
    ).returning(AttemptResponse.seq, AttemptResponse.saved_at)


SAVE_STATEMENTS = {
    "postgresql": _build_save_statement(postgresql.insert),
    "sqlite": _build_save_statement(sqlite.insert),
}


# The same statement as _build_save_statement, written out for asyncpg: on PostgreSQL the save
# skips SQLAlchemy's execution layer, which cost more than the statement itself (bench/README.md).
PG_SAVE_SQL = """
INSERT INTO attempt_responses (attempt_id, item_id, response, seq, saved_at)
SELECT $1, $2, $3::jsonb, $4, $5
FROM attempts
JOIN users ON users.id = attempts.user_id
JOIN auth_sessions ON auth_sessions.user_id = users.id
WHERE attempts.id = $1 AND attempts.user_id = $6 AND attempts.status = 'in_progress'
  AND attempts.deadline > $7
  AND users.is_active AND NOT users.must_change_password
  AND auth_sessions.id = $8 AND auth_sessions.revoked_at IS NULL AND auth_sessions.expires_at > $5
FOR SHARE OF attempts
ON CONFLICT (attempt_id, item_id) DO UPDATE
  SET response = excluded.response, seq = excluded.seq, saved_at = excluded.saved_at
  WHERE attempt_responses.seq < excluded.seq
RETURNING seq, saved_at
"""


async def save_response(
    database: Database,
    settings: Settings,
    shape_cache: ShapeCache,
    claims: AccessClaims,
    attempt_id: int,
    item_id: int,
    response: Any,
    seq: int,
) -> SaveOut:
    """The hot path: one autocommit statement when the shape is cached (see _build_save_statement)."""
    shape = shape_cache.get(attempt_id)
    if shape is None:
        async with database.autocommit_engine.connect() as conn:
            shape = await _attempt_shape(conn, shape_cache, attempt_id)
    if shape is None or shape.user_id != claims.user_id:
        raise NotFound(f"Attempt {attempt_id} does not exist", code="attempt_not_found")
    item = shape.items.get(item_id)
    if item is None:
        raise NotFound(f"Item {item_id} is not part of attempt {attempt_id}", code="item_not_found")
    problem = scoring.response_error(item.type, response, set(item.option_ids), item.blanks)
    if problem:
        raise Unprocessable(f"This answer does not fit a {item.type} question", code=problem)
    now = utcnow()
    cutoff = now - timedelta(seconds=settings.save_grace_seconds)
    if database.raw_pool is not None:
        async with database.raw_pool.acquire() as raw:
            row = await raw.fetchrow(
                PG_SAVE_SQL,
                attempt_id, item_id, orjson.dumps(response).decode(), seq, now,
                claims.user_id, cutoff, claims.session_id,
            )  # fmt: skip
        saved = (row["seq"], row["saved_at"]) if row is not None else None
    else:
        params = {
            "attempt_id": attempt_id,
            "item_id": item_id,
            "response": response,
            "seq": seq,
            "saved_at": now,
            "user_id": claims.user_id,
            "session_id": claims.session_id,
            "cutoff": cutoff,
        }
        async with database.autocommit_engine.connect() as conn:
            found = (await conn.execute(SAVE_STATEMENTS[conn.dialect.name], params)).one_or_none()
        saved = (found.seq, found.saved_at) if found is not None else None
    if saved is not None:
        return SaveOut(item_id=item_id, seq=saved[0], saved_at=saved[1], accepted=True, server_time=now)
    # Nothing written. Say why: the login ended, the attempt closed, or a higher seq is stored.
    async with database.autocommit_engine.connect() as conn:
        await check_login(conn, claims)
        status = (await conn.execute(select(Attempt.status).where(Attempt.id == attempt_id))).scalar_one()
        if status != AttemptStatus.in_progress or shape.deadline <= cutoff:
            raise Conflict(
                "This attempt has finished; answers can no longer be changed", code="attempt_closed"
            )
        stored = (
            await conn.execute(
                select(AttemptResponse.seq, AttemptResponse.response, AttemptResponse.saved_at).where(
                    AttemptResponse.attempt_id == attempt_id, AttemptResponse.item_id == item_id
                )
            )
        ).one()
    return SaveOut(
        item_id=item_id,
        seq=stored.seq,
        saved_at=stored.saved_at,
        accepted=stored.seq == seq and stored.response == response,
        server_time=now,
    )


# ---------------------------------------------------------------- finishing


async def finish_attempt(session: AsyncSession, attempt_id: int, reason: FinishReason, now: datetime) -> bool:
    """Mark and close an attempt; False when someone else already finished it."""
    deadline = (await session.execute(select(Attempt.deadline).where(Attempt.id == attempt_id))).scalar_one()
    finished_at = deadline if reason == FinishReason.timeout else min(now, deadline)
    claimed = await session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.status == AttemptStatus.in_progress)
        .values(status=AttemptStatus.finished, finish_reason=reason, finished_at=finished_at)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return False
    quiz_id, unit_id, number, max_score_milli = (
        await session.execute(
            select(Attempt.quiz_id, Attempt.unit_id, Attempt.number, Attempt.max_score_milli).where(
                Attempt.id == attempt_id
            )
        )
    ).one()
    multiple_scoring, pass_percent, quiz_kind = (
        await session.execute(
            select(Quiz.multiple_scoring, Quiz.pass_percent, Quiz.kind).where(Quiz.id == quiz_id)
        )
    ).one()
    items = (
        await session.execute(
            select(
                AttemptItem.id,
                AttemptItem.type,
                AttemptItem.answer,
                AttemptItem.points,
                AttemptItem.question_id,
                AttemptItem.knowledge_area_id,
            ).where(AttemptItem.attempt_id == attempt_id)
        )
    ).all()
    responses = {
        row.item_id: row.response
        for row in await session.execute(
            select(AttemptResponse.item_id, AttemptResponse.response).where(
                AttemptResponse.attempt_id == attempt_id
            )
        )
    }
    marks = []
    item_marks = []
    total = maximum = 0
    for item in items:
        awarded, outcome = scoring.mark(
            item.type, item.answer, responses.get(item.id), item.points, multiple_scoring
        )
        marks.append({"id": item.id, "awarded_milli": awarded, "outcome": str(outcome)})
        item_marks.append(
            stats_totals.ItemMarks(item.knowledge_area_id, item.question_id, item.points, awarded)
        )
        total += awarded
        maximum += item.points * scoring.MILLI
    if marks:
        await session.execute(update(AttemptItem), marks)
    passed = scoring.passed(total, maximum, pass_percent)
    await session.execute(
        update(Attempt).where(Attempt.id == attempt_id).values(score_milli=total, passed=passed)
    )
    await practice_service.record_attempt(session, attempt_id, finished_at)
    if stats_totals.counts(number, quiz_kind):
        # Last before the commit: the totals' rows are shared by a unit's attempts, so hold them briefly.
        finished = stats_totals.FinishedAttempt(quiz_id, unit_id, finished_at, total, max_score_milli, passed)
        await stats_totals.add(session, finished, item_marks)
    await session.commit()
    return True


async def submit(
    session: AsyncSession, settings: Settings, principal: Principal, attempt_id: int
) -> AttemptResult:
    attempt = await get_own_attempt(session, settings, principal, attempt_id)
    if attempt.status == AttemptStatus.in_progress:
        await finish_attempt(session, attempt.id, FinishReason.submitted, utcnow())
    await session.refresh(attempt)
    quiz = await get_quiz(session, attempt.quiz_id)
    items, responses = await _items_and_responses(session, attempt.id)
    flags = await _review_flags(session, settings, quiz, utcnow())
    return _result(attempt, quiz, items, responses, flags)


async def sweep_expired(session: AsyncSession, settings: Settings, limit: int = 500) -> int:
    """Finish every attempt whose deadline plus grace has passed. Safe to run in many processes."""
    now = utcnow()
    cutoff = now - timedelta(seconds=settings.save_grace_seconds)
    ids = (
        (
            await session.execute(
                select(Attempt.id)
                .where(Attempt.status == AttemptStatus.in_progress, Attempt.deadline < cutoff)
                .order_by(Attempt.deadline)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    await session.commit()
    finished = 0
    for attempt_id in ids:
        if await finish_attempt(session, attempt_id, FinishReason.timeout, now):
            finished += 1
    return finished


# ---------------------------------------------------------------- staff views


async def attempts_for_quiz(
    session: AsyncSession, principal: Principal, quiz_id: int
) -> list[dict[str, Any]]:
    await get_quiz_in_scope(session, principal, quiz_id)
    stmt = (
        select(Attempt, User.username, User.name, Unit.name.label("unit_name"))
        .join(User, User.id == Attempt.user_id)
        .join(Unit, Unit.id == Attempt.unit_id)
        .where(Attempt.quiz_id == quiz_id)
        .order_by(Attempt.id)
    )
    if not principal.is_admin:
        stmt = stmt.where(Unit.path.startswith(principal.unit_path, autoescape=True))
    rows = await session.execute(stmt)
    return [
        {
            "id": a.id,
            "user_id": a.user_id,
            "username": username,
            "name": name,
            "unit_id": a.unit_id,
            "unit_name": unit_name,
            "number": a.number,
            "status": a.status,
            "finish_reason": a.finish_reason,
            "started_at": a.started_at,
            "finished_at": a.finished_at,
            "score": _milli_to_points(a.score_milli) if a.score_milli is not None else None,
            "max_score": _milli_to_points(a.max_score_milli),
            "passed": a.passed,
        }
        for a, username, name, unit_name in rows
    ]


async def check_paper(session: AsyncSession, principal: Principal, attempt_id: int) -> PaperCheck:
    """Recompute an attempt's paper from its recorded seed and the quiz's frozen pools (appeals)."""
    attempt = await session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(f"Attempt {attempt_id} does not exist", code="attempt_not_found")
    unit = await session.get(Unit, attempt.unit_id)
    if unit is None or not principal.covers_unit_path(unit.path):
        raise NotFound(f"Attempt {attempt_id} does not exist", code="attempt_not_found")
    quiz = await get_quiz(session, attempt.quiz_id)
    rules = (await session.execute(select(QuizRule).where(QuizRule.quiz_id == quiz.id))).scalars().all()
    pools = [drawing.RulePool(r.position, r.count, tuple(r.pool or ())) for r in rules]
    paper = drawing.draw_paper(
        pools, quiz.draw_seed or "", attempt.draw_index, attempt.seed, quiz.shuffle_questions
    )
    items, _ = await _items_and_responses(session, attempt.id)
    recorded = [i.question_id for i in items]
    recomputed = [qid for _, qid in paper]
    questions = {
        q.id: q for q in (await session.execute(select(Question).where(Question.id.in_(recorded)))).scalars()
    }
    options_match = all(
        [o["id"] for o in item.options]
        == drawing.order_options(
            [o["id"] for o in questions[item.question_id].options],
            attempt.seed,
            item.question_id,
            quiz.shuffle_options,
        )
        for item in items
        if item.question_id in questions and questions[item.question_id].version == item.question_version
    )
    return PaperCheck(
        attempt_id=attempt.id,
        seed=attempt.seed,
        draw_seed=quiz.draw_seed or "",
        draw_index=attempt.draw_index,
        recorded=recorded,
        recomputed=recomputed,
        options_match=options_match,
        matches=recorded == recomputed and options_match,
    )
