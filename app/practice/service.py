"""Practice sessions with immediate feedback, mastery per knowledge area, and the wrong-answer book.

What counts as the officer's history (mastery, "answered right before", the wrong-answer book):
every practice answer, and the marked items of finished quiz attempts, except attempts at quizzes
whose review policy is score_only (their per-item correctness is never shown, and the book or the
mastery figures would give it away).

Invariant 1 here:
- Practice items never carry a key, an explanation or correctness until the officer has answered
  them; the answer's feedback then shows the key and explanation of that item.
- While the officer has a quiz attempt that can still save answers, everything that can show a key
  (starting or viewing a practice session, answering, the wrong-answer book) answers 409
  `quiz_in_progress`, so practice cannot be used to look up a quiz's answers mid-attempt.
- A quiz's wrong answers reach the book at once only when the quiz's review shows its answers at
  finish (policy `full`). Otherwise (`correctness`, `full_after_close`) the entry is held: neither
  listed nor served until that quiz's review shows answers, unless it was already in the book or a
  later wrong answer in practice releases it.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.bank.models import KnowledgeArea, Question, QuestionStatus
from app.bank.service import area_subtree_ids
from app.core.config import Settings
from app.core.deps import Principal
from app.core.errors import Conflict, NotFound, Unprocessable
from app.db.session import upsert_insert
from app.db.types import UTCDateTime, utcnow
from app.practice import selection
from app.practice.models import PracticeAnswer, PracticeItem, PracticeMode, PracticeSession, WrongBookEntry
from app.practice.schemas import (
    AnswerResult,
    PracticeArea,
    PracticeItemOut,
    SessionIn,
    SessionOut,
    WrongBook,
    WrongBookItem,
)
from app.quizzes import drawing, scoring
from app.quizzes import service as quiz_service
from app.quizzes.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    MultipleScoring,
    Outcome,
    Quiz,
    ReviewPolicy,
)
from app.quizzes.schemas import OptionOut

_WRONG_BOOK = cast(Table, WrongBookEntry.__table__)


# ---------------------------------------------------------------- guards and loading


async def refuse_during_attempt(session: AsyncSession, settings: Settings, user_id: int) -> None:
    """409 while the officer has a quiz attempt that can still save answers."""
    cutoff = utcnow() - timedelta(seconds=settings.save_grace_seconds)
    live = await session.execute(
        select(Attempt.id)
        .where(
            Attempt.user_id == user_id,
            Attempt.status == AttemptStatus.in_progress,
            Attempt.deadline > cutoff,
        )
        .limit(1)
    )
    if live.first() is not None:
        raise Conflict(
            "Finish the quiz you are taking first: practice and the wrong-answer book show answers",
            code="quiz_in_progress",
        )


async def get_own_session(session: AsyncSession, principal: Principal, session_id: int) -> PracticeSession:
    practice = await session.get(PracticeSession, session_id)
    if practice is None or practice.user_id != principal.id:
        raise NotFound(f"Practice session {session_id} does not exist", code="practice_session_not_found")
    return practice


def _ids_in_path(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


# ---------------------------------------------------------------- the officer's history


@dataclass
class Tally:
    awarded_milli: int = 0
    possible_milli: int = 0
    questions: set[int] = field(default_factory=set)

    def add(self, awarded_milli: int, possible_milli: int, question_id: int | None) -> None:
        self.awarded_milli += awarded_milli
        self.possible_milli += possible_milli
        if question_id is not None:
            self.questions.add(question_id)

    @property
    def mastery(self) -> Fraction | None:
        return Fraction(self.awarded_milli, self.possible_milli) if self.possible_milli else None


@dataclass(frozen=True)
class Marked:
    """One officer's marks for one question in one knowledge area (as served), summed."""

    area_id: int
    question_id: int | None
    awarded_milli: int
    possible_milli: int
    ever_right: bool


async def history(session: AsyncSession, user_id: int) -> list[Marked]:
    """Marks from finished quiz attempts (not score_only) and from practice, per area and question."""
    right = func.max(case((AttemptItem.outcome == Outcome.correct, 1), else_=0))
    quiz_rows = await session.execute(
        select(
            AttemptItem.knowledge_area_id,
            AttemptItem.question_id,
            func.sum(AttemptItem.awarded_milli),
            func.sum(AttemptItem.points),
            right,
        )
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.user_id == user_id,
            Attempt.status == AttemptStatus.finished,
            Quiz.review_policy != ReviewPolicy.score_only,
            AttemptItem.outcome.is_not(None),
        )
        .group_by(AttemptItem.knowledge_area_id, AttemptItem.question_id)
    )
    practice_right = func.max(case((PracticeAnswer.outcome == Outcome.correct, 1), else_=0))
    practice_rows = await session.execute(
        select(
            PracticeItem.knowledge_area_id,
            PracticeItem.question_id,
            func.sum(PracticeAnswer.awarded_milli),
            func.sum(PracticeItem.points),
            practice_right,
        )
        .join(PracticeItem, PracticeItem.id == PracticeAnswer.item_id)
        .join(PracticeSession, PracticeSession.id == PracticeAnswer.session_id)
        .where(PracticeSession.user_id == user_id)
        .group_by(PracticeItem.knowledge_area_id, PracticeItem.question_id)
    )
    return [
        Marked(area, qid, int(awarded or 0), int(points or 0) * scoring.MILLI, bool(ever_right))
        for rows in (quiz_rows, practice_rows)
        for area, qid, awarded, points, ever_right in rows
    ]


def _right_before(marks: Iterable[Marked]) -> set[int]:
    return {m.question_id for m in marks if m.ever_right and m.question_id is not None}


async def list_areas(session: AsyncSession, principal: Principal) -> list[PracticeArea]:
    areas = (await session.execute(select(KnowledgeArea))).scalars().all()
    path_of = {a.id: a.path for a in areas}
    questions: dict[int, int] = {}
    for area_id, count in await session.execute(
        select(Question.knowledge_area_id, func.count(Question.id))
        .where(Question.status == QuestionStatus.active)
        .group_by(Question.knowledge_area_id)
    ):
        for ancestor in _ids_in_path(path_of.get(area_id, "")):
            questions[ancestor] = questions.get(ancestor, 0) + count
    tallies: dict[int, Tally] = {}
    for m in await history(session, principal.id):
        for ancestor in _ids_in_path(path_of.get(m.area_id, "")):
            tallies.setdefault(ancestor, Tally()).add(m.awarded_milli, m.possible_milli, m.question_id)
    out = []
    # Sorted here, not in SQL: code-point order keeps every subtree contiguous on any collation.
    for area in sorted(areas, key=lambda a: a.path):
        if not questions.get(area.id):
            continue
        tally = tallies.get(area.id, Tally())
        mastery = tally.mastery
        out.append(
            PracticeArea(
                id=area.id,
                name=area.name,
                full_name=area.full_name,
                depth=area.depth,
                questions=questions[area.id],
                answered=len(tally.questions),
                mastery=float(mastery) if mastery is not None else None,
            )
        )
    return out


# ---------------------------------------------------------------- the wrong-answer book


async def _book_entries(
    session: AsyncSession, settings: Settings, user_id: int, now: datetime
) -> list[WrongBookEntry]:
    """The officer's entries in the book: not cleared, and not held back by a quiz's review policy."""
    rows = (
        (
            await session.execute(
                select(WrongBookEntry).where(
                    WrongBookEntry.user_id == user_id, WrongBookEntry.cleared_at.is_(None)
                )
            )
        )
        .scalars()
        .all()
    )
    released: set[int] = set()
    for quiz_id in sorted({r.held_by_quiz_id for r in rows if r.held_by_quiz_id is not None}):
        quiz = await session.get(Quiz, quiz_id)
        if quiz is not None and (await quiz_service._review_flags(session, settings, quiz, now))[1]:
            released.add(quiz_id)
    return [r for r in rows if r.held_by_quiz_id is None or r.held_by_quiz_id in released]


async def record_outcomes(
    session: AsyncSession,
    user_id: int,
    outcomes: Iterable[tuple[int, str]],
    now: datetime,
    held_by_quiz_id: int | None = None,
) -> None:
    """Apply (question id, outcome) answers to the officer's book (selection.after_answer, in SQL).

    Each change is one statement on the row, so answers arriving together (a quiz finishing while a
    practice answer lands) never lose an update. Rows are touched in question-id order.
    """
    wrong = sorted({qid for qid, outcome in outcomes if not selection.is_right(outcome)})
    right = sorted({qid for qid, outcome in outcomes if selection.is_right(outcome)} - set(wrong))
    table = _WRONG_BOOK
    if wrong:
        stmt = upsert_insert(session)(table)
        visible = and_(table.c.cleared_at.is_(None), table.c.held_by_quiz_id.is_(None))
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "question_id"],
            set_={
                "wrong_count": table.c.wrong_count + 1,
                "right_streak": 0,
                "last_wrong_at": stmt.excluded.last_wrong_at,
                "due_at": stmt.excluded.due_at,
                "cleared_at": null(),
                # An entry already in view stays in view; otherwise it follows this answer's source.
                "held_by_quiz_id": case((visible, null()), else_=stmt.excluded.held_by_quiz_id),
            },
        )
        await session.execute(
            stmt,
            [
                {
                    "user_id": user_id,
                    "question_id": qid,
                    "wrong_count": 1,
                    "right_streak": 0,
                    "last_wrong_at": now,
                    "due_at": now,
                    "cleared_at": None,
                    "held_by_quiz_id": held_by_quiz_id,
                }
                for qid in wrong
            ],
        )
    if right:
        streak = table.c.right_streak + 1
        due_after = [
            (table.c.right_streak == n - 1, literal(now + selection.review_interval(n), UTCDateTime()))
            for n in range(1, selection.CLEAR_AFTER)
        ]
        stmt_right = (
            update(table)
            .where(
                table.c.user_id == bindparam("b_user_id"),
                table.c.question_id == bindparam("b_question_id"),
                table.c.cleared_at.is_(None),
            )
            .values(
                right_streak=streak,
                due_at=case(*due_after, else_=table.c.due_at) if due_after else table.c.due_at,
                cleared_at=case((streak >= selection.CLEAR_AFTER, literal(now, UTCDateTime())), else_=null()),
            )
        )
        await session.execute(stmt_right, [{"b_user_id": user_id, "b_question_id": qid} for qid in right])


async def record_attempt(session: AsyncSession, attempt_id: int, finished_at: datetime) -> None:
    """Feed a just-marked quiz attempt into its officer's book (called inside finish_attempt)."""
    rows = (
        await session.execute(
            select(
                Attempt.user_id,
                Attempt.quiz_id,
                Quiz.review_policy,
                AttemptItem.question_id,
                AttemptItem.outcome,
            )
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
            .where(Attempt.id == attempt_id)
        )
    ).all()
    if not rows or rows[0].review_policy == ReviewPolicy.score_only:
        return
    first = rows[0]
    held = None if first.review_policy == ReviewPolicy.full else first.quiz_id
    outcomes = [(r.question_id, r.outcome) for r in rows if r.outcome is not None]
    await record_outcomes(session, first.user_id, outcomes, finished_at, held)


async def wrong_book(
    session: AsyncSession, settings: Settings, principal: Principal, limit: int, offset: int
) -> WrongBook:
    """The book as it stands: due first, then by due time. Retired questions are left out (they are
    neither listed nor served) and come back if restored; the key and explanation are the bank's."""
    now = utcnow()
    await refuse_during_attempt(session, settings, principal.id)
    entries = await _book_entries(session, settings, principal.id, now)
    by_question = {e.question_id: e for e in entries}
    rows = (
        await session.execute(
            select(Question, KnowledgeArea.full_name)
            .join(KnowledgeArea, KnowledgeArea.id == Question.knowledge_area_id)
            .where(Question.id.in_(list(by_question)), Question.status == QuestionStatus.active)
        )
    ).all()
    listed = sorted(rows, key=lambda r: (by_question[r[0].id].due_at, r[0].id))
    items = []
    for question, area_name in listed[offset : offset + limit]:
        entry = by_question[question.id]
        items.append(
            WrongBookItem(
                question_id=question.id,
                type=question.type,
                stem=question.stem,
                options=[OptionOut(id=o["id"], text=o["text"]) for o in question.options],
                correct_response=question.answer,
                explanation=question.explanation,
                knowledge_area=area_name,
                wrong_count=entry.wrong_count,
                right_streak=entry.right_streak,
                last_wrong_at=entry.last_wrong_at,
                due_at=entry.due_at,
            )
        )
    return WrongBook(items=items, total=len(listed))


# ---------------------------------------------------------------- sessions


def _blanks(item: PracticeItem) -> int:
    return len(item.answer) if item.type == "fill_blank" else 0


def _result(item: PracticeItem, answer: PracticeAnswer) -> AnswerResult:
    return AnswerResult(
        item_id=item.id,
        outcome=cast(Any, answer.outcome),
        awarded=answer.awarded_milli / scoring.MILLI,
        correct_response=item.answer,
        explanation=item.explanation,
    )


def _item_out(item: PracticeItem, answer: PracticeAnswer | None) -> PracticeItemOut:
    return PracticeItemOut(
        id=item.id,
        position=item.position,
        type=item.type,
        stem=item.stem,
        options=[OptionOut(id=o["id"], text=o["text"]) for o in item.options],
        blanks=_blanks(item),
        points=float(item.points),
        response=answer.response if answer is not None else None,
        seq=None,
        feedback=_result(item, answer) if answer is not None else None,
    )


async def _session_out(session: AsyncSession, practice: PracticeSession) -> SessionOut:
    items = (
        (
            await session.execute(
                select(PracticeItem)
                .where(PracticeItem.session_id == practice.id)
                .order_by(PracticeItem.position)
            )
        )
        .scalars()
        .all()
    )
    answers = {
        a.item_id: a
        for a in (
            await session.execute(select(PracticeAnswer).where(PracticeAnswer.session_id == practice.id))
        ).scalars()
    }
    return SessionOut(
        id=practice.id,
        mode=PracticeMode(practice.mode),
        items=[_item_out(i, answers.get(i.id)) for i in items],
    )


async def _choose(
    session: AsyncSession,
    settings: Settings,
    user_id: int,
    body: SessionIn,
    scope: frozenset[int] | None,
    seed: str,
    now: datetime,
) -> list[int]:
    stmt = select(Question.id, Question.knowledge_area_id).where(Question.status == QuestionStatus.active)
    if scope is not None:
        stmt = stmt.where(Question.knowledge_area_id.in_(sorted(scope)))
    candidates = [selection.Candidate(qid, area) for qid, area in await session.execute(stmt)]
    if not candidates:
        return []
    if body.mode == PracticeMode.area:
        marks = await history(session, user_id)
        ids = [c.question_id for c in candidates]
        return selection.pick_area(ids, _right_before(marks), body.count, seed)
    servable = {c.question_id for c in candidates}
    entries = [
        selection.BookEntry(e.question_id, e.due_at)
        for e in await _book_entries(session, settings, user_id, now)
        if e.question_id in servable
    ]
    if body.mode == PracticeMode.wrong_book:
        return selection.pick_wrong_book(entries, now, body.count)
    marks = await history(session, user_id)
    tallies: dict[int, Tally] = {}
    for m in marks:
        tallies.setdefault(m.area_id, Tally()).add(m.awarded_milli, m.possible_milli, m.question_id)
    mastery = {area: t.mastery for area, t in tallies.items() if t.mastery is not None}
    return selection.pick_weak(candidates, mastery, entries, _right_before(marks), now, body.count, seed)


async def create_session(
    session: AsyncSession, settings: Settings, principal: Principal, body: SessionIn
) -> SessionOut:
    now = utcnow()
    await refuse_during_attempt(session, settings, principal.id)
    scope = None
    if body.knowledge_area_id is not None:
        if await session.get(KnowledgeArea, body.knowledge_area_id) is None:
            raise Unprocessable(
                f"Knowledge area {body.knowledge_area_id} does not exist", code="knowledge_area_not_found"
            )
        scope = await area_subtree_ids(session, body.knowledge_area_id, include_subareas=True)
    seed = secrets.token_hex(16)
    chosen = await _choose(session, settings, principal.id, body, scope, seed, now)
    if not chosen:
        raise Unprocessable("There are no questions to practise here", code="no_practice_questions")
    questions = {
        q.id: q for q in (await session.execute(select(Question).where(Question.id.in_(chosen)))).scalars()
    }
    practice = PracticeSession(
        user_id=principal.id,
        mode=body.mode,
        knowledge_area_id=body.knowledge_area_id,
        seed=seed,
        created_at=now,
    )
    session.add(practice)
    await session.flush()
    for position, qid in enumerate(chosen, start=1):
        q = questions[qid]
        by_id = {o["id"]: o for o in q.options}
        order = drawing.order_options([o["id"] for o in q.options], seed, q.id, shuffle=True)
        session.add(
            PracticeItem(
                session_id=practice.id,
                position=position,
                question_id=q.id,
                question_version=q.version,
                knowledge_area_id=q.knowledge_area_id,
                type=q.type,
                stem=q.stem,
                options=[{"id": oid, "text": by_id[oid]["text"]} for oid in order],
                answer=q.answer,
                explanation=q.explanation,
                points=q.points,
            )
        )
    await session.commit()
    return await _session_out(session, practice)


async def session_view(
    session: AsyncSession, settings: Settings, principal: Principal, session_id: int
) -> SessionOut:
    practice = await get_own_session(session, principal, session_id)
    await refuse_during_attempt(session, settings, principal.id)
    return await _session_out(session, practice)


async def _stored_answer(session: AsyncSession, session_id: int, item_id: int) -> PracticeAnswer | None:
    return (
        await session.execute(
            select(PracticeAnswer).where(
                PracticeAnswer.session_id == session_id, PracticeAnswer.item_id == item_id
            )
        )
    ).scalar_one_or_none()


async def answer(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    session_id: int,
    item_id: int,
    response: Any,
) -> AnswerResult:
    """Mark one practice answer at once. Idempotent: a second answer returns the first result."""
    practice = await get_own_session(session, principal, session_id)
    item = await session.get(PracticeItem, item_id)
    if item is None or item.session_id != practice.id:
        raise NotFound(
            f"Item {item_id} is not part of practice session {session_id}", code="practice_item_not_found"
        )
    await refuse_during_attempt(session, settings, principal.id)
    stored = await _stored_answer(session, practice.id, item.id)
    if stored is not None:
        return _result(item, stored)
    problem = scoring.response_error(item.type, response, {o["id"] for o in item.options}, _blanks(item))
    if problem:
        raise Unprocessable(f"This answer does not fit a {item.type} question", code=problem)
    awarded, outcome = scoring.mark(
        item.type, item.answer, response, item.points, MultipleScoring.all_or_nothing
    )
    now = utcnow()
    stmt = (
        upsert_insert(session)(PracticeAnswer)
        .values(
            session_id=practice.id,
            item_id=item.id,
            response=response,
            awarded_milli=awarded,
            outcome=str(outcome),
            answered_at=now,
        )
        .on_conflict_do_nothing(index_elements=["session_id", "item_id"])
        .returning(PracticeAnswer.id)
    )
    inserted = (await session.execute(stmt)).first()
    if inserted is not None and item.question_id is not None:
        await record_outcomes(session, principal.id, [(item.question_id, outcome)], now)
    await session.commit()
    stored = await _stored_answer(session, practice.id, item.id)
    assert stored is not None
    return _result(item, stored)
