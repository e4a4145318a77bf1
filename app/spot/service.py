"""Spot sessions: create (seed committed, roster fixed), draw, join, answer through an ordinary
attempt, oral questioning, close, overrides; every step in the audit log.

The database is the truth: the live board is rebuilt from it (`board`) whenever something changes.
"""

import secrets
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bank.models import Question
from app.core.config import Settings
from app.core.deps import Principal
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.db.session import Database
from app.db.types import utcnow
from app.quizzes import scoring
from app.quizzes import service as quizzes
from app.quizzes.models import (
    Attempt,
    AttemptItem,
    AttemptResponse,
    AttemptStatus,
    Quiz,
    QuizRule,
    QuizTarget,
)
from app.quizzes.schemas import QuizIn, TargetIn
from app.spot import draw
from app.spot.models import OralCheck, SpotAudit, SpotMode, SpotParticipant, SpotSession, SpotStatus
from app.spot.schemas import (
    AuditOut,
    DrawCheck,
    DrawRecord,
    DrawVerification,
    JoinOut,
    OptionCount,
    OralCheckOut,
    OralDrawIn,
    OralMarkIn,
    OverrideIn,
    ParticipantOut,
    QuestionLive,
    SpotBoard,
    SpotCreate,
    SpotOut,
)
from app.units.models import Role, Unit, User
from app.units.service import get_unit_in_scope, in_subtree

HOSTS = (Role.inspector, Role.admin)


def audit(session: AsyncSession, spot: SpotSession, actor_id: int | None, action: str, **detail: Any) -> None:
    session.add(SpotAudit(session_id=spot.id, actor_id=actor_id, action=action, detail=detail))


async def _new_code(session: AsyncSession) -> str:
    """Six digits no open session uses."""
    while True:
        code = f"{secrets.randbelow(1_000_000):06d}"
        taken = await session.execute(
            select(SpotSession.id).where(SpotSession.code == code, SpotSession.status != SpotStatus.closed)
        )
        if taken.first() is None:
            return code


async def _roster(session: AsyncSession, unit: Unit, include_subunits: bool) -> list[tuple[str, int, str]]:
    """Active officers with a police number, in the unit (and its subtree), by police number."""
    where = in_subtree(Unit.path, unit.path) if include_subunits else Unit.id == unit.id
    rows = await session.execute(
        select(User.police_number, User.id, User.name)
        .join(Unit, Unit.id == User.unit_id)
        .where(where, User.role == Role.officer, User.is_active.is_(True), User.police_number.is_not(None))
    )
    return sorted(((str(n), uid, name) for n, uid, name in rows), key=lambda r: r[0])


def _entries(roster: list[list[Any]] | list[tuple[str, int, str]]) -> list[draw.RosterEntry]:
    return [draw.RosterEntry(str(row[0]), int(row[1])) for row in roster]


async def create_session(session: AsyncSession, principal: Principal, body: SpotCreate) -> SpotOut:
    if principal.role not in HOSTS:
        raise Forbidden("Inspectors and administrators run spot sessions", code="role_forbidden")
    unit = await get_unit_in_scope(session, principal, body.unit_id)
    roster = await _roster(session, unit, body.include_subunits)
    if not roster:
        raise Unprocessable("The unit has no active officers with a police number", code="spot_roster_empty")
    total = sum(rule.count for rule in body.rules)
    limit = body.time_limit_seconds or (body.seconds_per_question or 60) * total
    quiz_body = QuizIn(
        title=f"现场抽查：{body.title}",
        time_limit_seconds=limit,
        attempts_allowed=1,
        pass_percent=body.pass_percent,
        review_policy="full_after_close",
        rules=body.rules,
        targets=[TargetIn(unit_id=unit.id, include_subunits=body.include_subunits)],
    )
    created = await quizzes.create_quiz(session, principal, quiz_body)
    hidden = await session.get(Quiz, created.id)
    assert hidden is not None
    hidden.kind = "spot"
    quiz_id = hidden.id
    await session.commit()
    try:
        await quizzes.publish_quiz(session, quiz_id)
    except Unprocessable:
        # The rules cannot be met: nothing of this session stays behind.
        await session.rollback()
        await session.execute(delete(QuizTarget).where(QuizTarget.quiz_id == quiz_id))
        await session.execute(delete(QuizRule).where(QuizRule.quiz_id == quiz_id))
        await session.execute(delete(Quiz).where(Quiz.id == quiz_id))
        await session.commit()
        raise
    seed = draw.new_seed()
    spot = SpotSession(
        title=body.title,
        code=await _new_code(session),
        unit_id=unit.id,
        include_subunits=body.include_subunits,
        mode=body.mode,
        draw_count=body.draw_count,
        status=SpotStatus.lobby,
        quiz_id=quiz_id,
        seed=seed,
        seed_commitment=draw.commitment(seed),
        roster_hash=draw.roster_hash(_entries(roster)),
        roster=[list(row) for row in roster],
        allow_repeat_oral=body.allow_repeat_oral,
        late_after_seconds=body.late_after_seconds,
        created_by_id=principal.id,
    )
    session.add(spot)
    await session.flush()
    audit(
        session,
        spot,
        principal.id,
        "created",
        seed_commitment=spot.seed_commitment,
        roster_hash=spot.roster_hash,
        roster_size=len(roster),
    )
    await session.commit()
    return await spot_out(session, spot)


async def get_session(session: AsyncSession, spot_id: int) -> SpotSession:
    spot = await session.get(SpotSession, spot_id)
    if spot is None:
        raise NotFound(f"Spot session {spot_id} does not exist", code="spot_not_found")
    return spot


async def get_hosted(session: AsyncSession, principal: Principal, spot_id: int) -> SpotSession:
    """A session the caller runs (its creator, or an administrator); others get 404."""
    spot = await session.get(SpotSession, spot_id)
    if spot is None or not (spot.created_by_id == principal.id or principal.role == Role.admin):
        raise NotFound(f"Spot session {spot_id} does not exist", code="spot_not_found")
    return spot


async def spot_out(session: AsyncSession, spot: SpotSession) -> SpotOut:
    unit_name = (await session.execute(select(Unit.name).where(Unit.id == spot.unit_id))).scalar_one()
    host = (await session.execute(select(User.name).where(User.id == spot.created_by_id))).scalar_one()
    revealed = spot.status != SpotStatus.lobby
    return SpotOut(
        id=spot.id,
        title=spot.title,
        code=spot.code,
        unit_id=spot.unit_id,
        unit_name=unit_name,
        include_subunits=spot.include_subunits,
        mode=spot.mode,
        draw_count=spot.draw_count,
        status=spot.status,
        quiz_id=spot.quiz_id,
        seed_commitment=spot.seed_commitment,
        roster_hash=spot.roster_hash,
        roster_size=len(spot.roster),
        seed=spot.seed if revealed else None,
        drawn=spot.drawn if revealed else None,
        created_by=host,
        created_at=spot.created_at,
        drawn_at=spot.drawn_at,
        closed_at=spot.closed_at,
        join_path=f"/spot/join?code={spot.code}",
    )


async def list_sessions(session: AsyncSession, principal: Principal) -> list[SpotOut]:
    stmt = select(SpotSession).order_by(SpotSession.id.desc()).limit(200)
    if principal.role != Role.admin:
        stmt = stmt.where(SpotSession.created_by_id == principal.id)
    return [await spot_out(session, spot) for spot in (await session.execute(stmt)).scalars()]


async def draw_officers(session: AsyncSession, principal: Principal, spot_id: int) -> SpotOut:
    """Draw (or open to all), reveal the seed and start: officers may join from now on."""
    spot = await get_hosted(session, principal, spot_id)
    if spot.status != SpotStatus.lobby:
        raise Conflict("This session has already been drawn", code="spot_already_drawn")
    now = utcnow()
    if spot.draw_count is not None:
        spot.drawn = draw.draw(_entries(spot.roster), spot.seed, spot.draw_count)
        by_number = {str(row[0]): int(row[1]) for row in spot.roster}
        for number in spot.drawn:
            session.add(SpotParticipant(session_id=spot.id, user_id=by_number[number], drawn=True))
    spot.status = SpotStatus.running
    spot.drawn_at = now
    audit(session, spot, principal.id, "drawn", seed=spot.seed, drawn=spot.drawn, count=spot.draw_count)
    await session.commit()
    return await spot_out(session, spot)


def draw_record(spot: SpotSession) -> DrawRecord:
    revealed = spot.status != SpotStatus.lobby
    return DrawRecord(
        algorithm=draw.ALGORITHM,
        seed_commitment=spot.seed_commitment,
        roster_hash=spot.roster_hash,
        roster=[(str(row[0]), int(row[1])) for row in spot.roster],
        count=spot.draw_count,
        seed=spot.seed if revealed else None,
        drawn=spot.drawn if revealed else None,
    )


def verify_record(record: DrawRecord) -> DrawVerification:
    if record.seed is None or record.drawn is None or record.count is None:
        raise Conflict(
            "Nothing to verify: the seed is revealed only after the draw", code="spot_not_drawn_yet"
        )
    checks = draw.verify(
        roster=[draw.RosterEntry(n, uid) for n, uid in record.roster],
        seed=record.seed,
        count=record.count,
        published_commitment=record.seed_commitment,
        published_roster_hash=record.roster_hash,
        published_drawn=record.drawn,
    )
    return DrawVerification(ok=all(c.ok for c in checks), checks=[DrawCheck(**c.__dict__) for c in checks])


async def visible_record(session: AsyncSession, principal: Principal, spot_id: int) -> DrawRecord:
    """The draw's published inputs: for its host, staff over the unit, and officers on its roster."""
    spot = await get_session(session, spot_id)
    unit = await session.get(Unit, spot.unit_id)
    assert unit is not None
    on_roster = any(int(row[1]) == principal.id for row in spot.roster)
    staff_over = principal.role != Role.officer and principal.covers_unit_path(unit.path)
    if not (on_roster or staff_over or spot.created_by_id == principal.id):
        raise NotFound(f"Spot session {spot_id} does not exist", code="spot_not_found")
    return draw_record(spot)


# Officers -------------------------------------------------------------------------------------


async def join(
    session: AsyncSession,
    database: Database,
    frozen_cache: quizzes.FrozenQuizCache,
    settings: Settings,
    principal: Principal,
    code: str,
    device_id: str,
) -> JoinOut:
    spot = (
        await session.execute(
            select(SpotSession)
            .where(SpotSession.code == code, SpotSession.status != SpotStatus.closed)
            .order_by(SpotSession.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if spot is None:
        raise NotFound("No open spot session has this code", code="spot_code_invalid")
    if spot.status == SpotStatus.lobby:
        raise Conflict("The session has not started: wait for the draw", code="spot_not_started")
    participant = (
        await session.execute(
            select(SpotParticipant).where(
                SpotParticipant.session_id == spot.id, SpotParticipant.user_id == principal.id
            )
        )
    ).scalar_one_or_none()
    if spot.draw_count is not None:
        if participant is None or not participant.drawn:
            raise Forbidden("You were not drawn for this session", code="spot_not_drawn")
    elif participant is None:
        if not any(int(row[1]) == principal.id for row in spot.roster):
            raise Forbidden("This session is for another unit", code="spot_out_of_scope")
        participant = SpotParticipant(session_id=spot.id, user_id=principal.id, drawn=False)
        session.add(participant)
    if participant.device_id is not None and participant.device_id != device_id:
        raise Conflict(
            "You joined on another phone; ask the inspector to release it", code="spot_other_device"
        )
    now = utcnow()
    if participant.joined_at is None:
        assert spot.drawn_at is not None
        participant.joined_at = now
        participant.device_id = device_id
        participant.late = now > spot.drawn_at + timedelta(seconds=spot.late_after_seconds)
        audit(session, spot, principal.id, "joined", late=participant.late)
    await session.commit()
    if spot.mode == SpotMode.phone and spot.quiz_id is not None and participant.attempt_id is None:
        attempt, _ = await quizzes.start_attempt(
            session, database, frozen_cache, settings, principal, spot.quiz_id, allow_spot=True
        )
        participant.attempt_id = attempt.id
        await session.commit()
    return JoinOut(
        session_id=spot.id,
        title=spot.title,
        mode=spot.mode,
        status=spot.status,
        late=participant.late,
        attempt_id=participant.attempt_id,
    )


# The host's actions ---------------------------------------------------------------------------


def _open(spot: SpotSession) -> None:
    if spot.status == SpotStatus.closed:
        raise Conflict("The session is closed: change results only by an override", code="spot_closed")


async def _participant(session: AsyncSession, spot: SpotSession, user_id: int) -> SpotParticipant:
    found = (
        await session.execute(
            select(SpotParticipant).where(
                SpotParticipant.session_id == spot.id, SpotParticipant.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"Officer {user_id} is not in this session", code="spot_participant_not_found")
    return found


async def excuse(
    session: AsyncSession, principal: Principal, spot_id: int, user_id: int, reason: str
) -> None:
    spot = await get_hosted(session, principal, spot_id)
    _open(spot)
    participant = await _participant(session, spot, user_id)
    participant.excused = True
    participant.excuse_reason = reason
    audit(session, spot, principal.id, "excused", user_id=user_id, reason=reason)
    await session.commit()


async def release_device(session: AsyncSession, principal: Principal, spot_id: int, user_id: int) -> None:
    """Let an officer whose phone died continue on another one."""
    spot = await get_hosted(session, principal, spot_id)
    _open(spot)
    participant = await _participant(session, spot, user_id)
    participant.device_id = None
    audit(session, spot, principal.id, "device_released", user_id=user_id)
    await session.commit()


async def oral_draw(
    session: AsyncSession, principal: Principal, spot_id: int, body: OralDrawIn
) -> OralCheckOut:
    """Draw an officer (unless named) and a question from the session's rules, neither asked
    before unless the session allows repeats."""
    spot = await get_hosted(session, principal, spot_id)
    _open(spot)
    if spot.status != SpotStatus.running:
        raise Conflict("Draw the officers first", code="spot_not_started")
    asked = (
        await session.execute(
            select(OralCheck.user_id, OralCheck.question_id).where(OralCheck.session_id == spot.id)
        )
    ).all()
    asked_people = {row[0] for row in asked}
    asked_questions = {row[1] for row in asked}
    if spot.draw_count is not None:
        people = [
            int(uid)
            for uid in (
                await session.execute(
                    select(SpotParticipant.user_id).where(
                        SpotParticipant.session_id == spot.id, SpotParticipant.excused.is_(False)
                    )
                )
            ).scalars()
        ]
    else:
        people = [int(row[1]) for row in spot.roster]
    if body.user_id is not None:
        if body.user_id not in people:
            raise Unprocessable("That officer is not in this session", code="spot_participant_not_found")
        user_id = body.user_id
    else:
        choices = [p for p in people if spot.allow_repeat_oral or p not in asked_people]
        if not choices:
            raise Conflict("Every officer has been asked", code="spot_everyone_asked")
        user_id = secrets.choice(sorted(choices))
    pools = (await session.execute(select(QuizRule.pool).where(QuizRule.quiz_id == spot.quiz_id))).scalars()
    pool = sorted({qid for rule_pool in pools for qid in (rule_pool or [])} - asked_questions)
    if not pool:
        raise Conflict("Every question of the rules has been asked", code="spot_questions_used")
    question = await session.get(Question, secrets.choice(pool))
    assert question is not None
    if spot.draw_count is None:
        # Open to all: whoever is asked takes part from now on.
        existing = (
            await session.execute(
                select(SpotParticipant.id).where(
                    SpotParticipant.session_id == spot.id, SpotParticipant.user_id == user_id
                )
            )
        ).first()
        if existing is None:
            session.add(SpotParticipant(session_id=spot.id, user_id=user_id, drawn=False, joined_at=utcnow()))
    check = OralCheck(
        session_id=spot.id,
        user_id=user_id,
        question_id=question.id,
        question={
            "type": question.type,
            "stem": question.stem,
            "options": question.options,
            "answer": question.answer,
            "explanation": question.explanation,
            "version": question.version,
        },
    )
    session.add(check)
    await session.flush()
    audit(
        session, spot, principal.id, "oral_drawn", check_id=check.id, user_id=user_id, question_id=question.id
    )
    await session.commit()
    return (await _oral_out(session, [check]))[0]


async def oral_mark(
    session: AsyncSession, principal: Principal, spot_id: int, check_id: int, body: OralMarkIn
) -> OralCheckOut:
    spot = await get_hosted(session, principal, spot_id)
    _open(spot)
    check = await session.get(OralCheck, check_id)
    if check is None or check.session_id != spot.id:
        raise NotFound(f"Oral check {check_id} does not exist", code="oral_check_not_found")
    check.result = body.result
    check.note = body.note
    check.marked_at = utcnow()
    audit(session, spot, principal.id, "oral_marked", check_id=check.id, result=body.result, note=body.note)
    await session.commit()
    return (await _oral_out(session, [check]))[0]


async def close(session: AsyncSession, principal: Principal, spot_id: int) -> SpotOut:
    """Freeze the results: answers in progress are finished from what was saved."""
    spot = await get_hosted(session, principal, spot_id)
    _open(spot)
    spot.status = SpotStatus.closed
    spot.closed_at = utcnow()
    audit(session, spot, principal.id, "closed")
    await session.commit()
    if spot.quiz_id is not None:
        quiz = await session.get(Quiz, spot.quiz_id)
        if quiz is not None and quiz.status != "closed":
            await quizzes.close_quiz(session, spot.quiz_id)
    return await spot_out(session, spot)


async def override(session: AsyncSession, principal: Principal, spot_id: int, body: OverrideIn) -> None:
    """After closing, results change only this way: explicit, reasoned and in the audit log."""
    spot = await get_hosted(session, principal, spot_id)
    if spot.status != SpotStatus.closed:
        raise Conflict("Overrides are for closed sessions; change it directly", code="spot_not_closed")
    if body.kind == "oral":
        check = await session.get(OralCheck, body.check_id or 0)
        if check is None or check.session_id != spot.id or body.result is None:
            raise Unprocessable("Name the oral check and its new result", code="invalid_override")
        before: dict[str, Any] = {"result": check.result, "note": check.note}
        check.result = body.result
        check.note = body.note or check.note
        check.marked_at = utcnow()
        after: dict[str, Any] = {"result": check.result, "note": check.note}
        target: dict[str, Any] = {"check_id": check.id}
    else:
        if body.user_id is None or body.excused is None:
            raise Unprocessable("Name the officer and whether they are excused", code="invalid_override")
        participant = await _participant(session, spot, body.user_id)
        before = {"excused": participant.excused}
        participant.excused = body.excused
        participant.excuse_reason = body.reason if body.excused else None
        after = {"excused": participant.excused}
        target = {"user_id": body.user_id}
    audit(
        session,
        spot,
        principal.id,
        "override",
        kind=body.kind,
        reason=body.reason,
        before=before,
        after=after,
        **target,
    )
    await session.commit()


async def audit_log(session: AsyncSession, principal: Principal, spot_id: int) -> list[AuditOut]:
    spot = await get_hosted(session, principal, spot_id)
    rows = await session.execute(
        select(SpotAudit, User.name)
        .outerjoin(User, User.id == SpotAudit.actor_id)
        .where(SpotAudit.session_id == spot.id)
        .order_by(SpotAudit.id)
    )
    return [AuditOut(at=a.at, actor=name, action=a.action, detail=a.detail) for a, name in rows]


# The board ------------------------------------------------------------------------------------


async def _oral_out(session: AsyncSession, checks: list[OralCheck]) -> list[OralCheckOut]:
    names = (
        dict(
            (
                await session.execute(
                    select(User.id, User.name).where(User.id.in_({c.user_id for c in checks}))
                )
            ).all()
        )
        if checks
        else {}
    )
    return [
        OralCheckOut(
            id=c.id,
            user_id=c.user_id,
            name=names.get(c.user_id, ""),
            question_id=c.question_id,
            question=c.question,
            result=c.result,
            note=c.note,
            asked_at=c.asked_at,
            marked_at=c.marked_at,
        )
        for c in checks
    ]


@dataclass(frozen=True)
class ServedItem:
    """What the board needs of an item served in a spot attempt; it never changes once served."""

    item_id: int
    question_id: int
    stem: str
    type: str
    answer: Any
    options: tuple[tuple[str, str], ...]
    points: int


class ServedItems:
    """Per-process cache of the items of spot attempts (per app: attempt ids are per database)."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._data: OrderedDict[int, list[ServedItem]] = OrderedDict()

    async def get(self, session: AsyncSession, attempt_ids: list[int]) -> dict[int, list[ServedItem]]:
        missing = [a for a in attempt_ids if a not in self._data]
        if missing:
            rows = await session.execute(
                select(
                    AttemptItem.attempt_id,
                    AttemptItem.id,
                    AttemptItem.question_id,
                    AttemptItem.stem,
                    AttemptItem.type,
                    AttemptItem.answer,
                    AttemptItem.options,
                    AttemptItem.points,
                )
                .where(AttemptItem.attempt_id.in_(missing))
                .order_by(AttemptItem.attempt_id, AttemptItem.position)
            )
            found: dict[int, list[ServedItem]] = {a: [] for a in missing}
            for attempt_id, item_id, qid, stem, qtype, answer, options, points in rows:
                found[attempt_id].append(
                    ServedItem(
                        item_id,
                        qid,
                        stem,
                        qtype,
                        answer,
                        tuple((o["id"], o["text"]) for o in options),
                        points,
                    )
                )
            for attempt_id, items in found.items():
                self._data[attempt_id] = items
                if len(self._data) > self._size:
                    self._data.popitem(last=False)
        return {a: self._data[a] for a in attempt_ids if a in self._data}


async def board(session: AsyncSession, spot_id: int, served: ServedItems | None = None) -> SpotBoard:
    """The live state, read fresh from the database (the host's view: keys included). What
    changes — responses and attempt states — is read every time; served items come from `served`."""
    spot = await get_session(session, spot_id)
    rows = (
        await session.execute(
            select(
                SpotParticipant.user_id,
                SpotParticipant.drawn,
                SpotParticipant.joined_at,
                SpotParticipant.late,
                SpotParticipant.excused,
                SpotParticipant.excuse_reason,
                SpotParticipant.attempt_id,
                User.name,
                User.police_number,
                Unit.name,
                Attempt.status,
                Attempt.score_milli,
                Attempt.max_score_milli,
            )
            .join(User, User.id == SpotParticipant.user_id)
            .join(Unit, Unit.id == User.unit_id)
            .outerjoin(Attempt, Attempt.id == SpotParticipant.attempt_id)
            .where(SpotParticipant.session_id == spot.id)
        )
    ).all()
    attempt_ids = [r.attempt_id for r in rows if r.attempt_id is not None]
    items = await (served or ServedItems()).get(session, attempt_ids) if attempt_ids else {}
    responses: dict[int, Any] = (
        dict(
            (
                await session.execute(
                    select(AttemptResponse.item_id, AttemptResponse.response).where(
                        AttemptResponse.attempt_id.in_(attempt_ids)
                    )
                )
            ).all()
        )
        if attempt_ids
        else {}
    )
    scoring_mode = (
        (
            await session.execute(select(Quiz.multiple_scoring).where(Quiz.id == spot.quiz_id))
        ).scalar_one_or_none()
        if spot.quiz_id
        else None
    ) or "all_or_nothing"
    answered: dict[int, int] = defaultdict(int)
    live: dict[int, dict[str, Any]] = {}
    for attempt_id in attempt_ids:
        for item in items.get(attempt_id, []):
            entry = live.setdefault(
                item.question_id,
                {
                    "stem": item.stem,
                    "type": item.type,
                    "served": 0,
                    "answered": 0,
                    "correct": 0,
                    "options": {},
                },
            )
            entry["served"] += 1
            correct_ids = (
                set(item.answer if isinstance(item.answer, list) else [item.answer])
                if item.type in ("single", "multiple")
                else set()
            )
            for option_id, text in item.options:
                entry["options"].setdefault(option_id, [text, 0, option_id in correct_ids])
            response = responses.get(item.item_id)
            if response is None or scoring.is_blank(response):
                continue
            answered[attempt_id] += 1
            entry["answered"] += 1
            for option_id in response if isinstance(response, list) else [response]:
                if isinstance(option_id, str) and option_id in entry["options"]:
                    entry["options"][option_id][1] += 1
            awarded, _ = scoring.mark(item.type, item.answer, response, item.points, scoring_mode)
            entry["correct"] += int(awarded == item.points * 1000)
    participants = [
        ParticipantOut(
            user_id=r.user_id,
            name=r.name,
            police_number=r.police_number,
            unit_name=r[9],
            drawn=r.drawn,
            joined_at=r.joined_at,
            late=r.late,
            excused=r.excused,
            excuse_reason=r.excuse_reason,
            answered=answered.get(r.attempt_id or 0, 0),
            total=len(items.get(r.attempt_id or 0, [])),
            finished=r.status == AttemptStatus.finished,
            score_percent=round((r.score_milli or 0) * 100 / r.max_score_milli, 2)
            if r.status == AttemptStatus.finished and r.max_score_milli
            else None,
        )
        for r in sorted(rows, key=lambda r: (r.police_number or "", r.user_id))
    ]
    questions = [
        QuestionLive(
            question_id=qid,
            stem=entry["stem"],
            type=entry["type"],
            served=entry["served"],
            answered=entry["answered"],
            correct=entry["correct"],
            options=[
                OptionCount(id=oid, text=v[0], count=v[1], correct=v[2])
                for oid, v in entry["options"].items()
            ],
        )
        for qid, entry in sorted(live.items())
    ]
    checks = list(
        (
            await session.execute(
                select(OralCheck).where(OralCheck.session_id == spot.id).order_by(OralCheck.id)
            )
        ).scalars()
    )
    return SpotBoard(
        session=await spot_out(session, spot),
        participants=participants,
        questions=questions,
        oral=await _oral_out(session, checks),
        version=0,
    )


async def summaries_for_units(session: AsyncSession, unit_path: str) -> list[dict[str, Any]]:
    """Closed or running sessions in a subtree, for the statistics (labelled, never mixed in)."""
    sessions = (
        await session.execute(
            select(SpotSession, Unit.name)
            .join(Unit, Unit.id == SpotSession.unit_id)
            .where(in_subtree(Unit.path, unit_path), SpotSession.status != SpotStatus.lobby)
            .order_by(SpotSession.id)
        )
    ).all()
    out = []
    for spot, unit_name in sessions:
        counts = (
            await session.execute(
                select(func.count(SpotParticipant.id), func.count(SpotParticipant.joined_at)).where(
                    SpotParticipant.session_id == spot.id
                )
            )
        ).one()
        scores = (
            await session.execute(
                select(Attempt.score_milli, Attempt.max_score_milli).where(
                    Attempt.quiz_id == spot.quiz_id, Attempt.status == AttemptStatus.finished
                )
            )
        ).all()
        percents = [(s or 0) * 100 / m for s, m in scores if m]
        oral = dict(
            (
                await session.execute(
                    select(OralCheck.result, func.count(OralCheck.id))
                    .where(OralCheck.session_id == spot.id)
                    .group_by(OralCheck.result)
                )
            ).all()
        )
        out.append(
            {
                "kind": "spot_session",
                "label": "现场抽查",
                "id": spot.id,
                "title": spot.title,
                "unit": unit_name,
                "mode": spot.mode,
                "status": spot.status,
                "drawn_at": spot.drawn_at.isoformat() if spot.drawn_at else None,
                "closed_at": spot.closed_at.isoformat() if spot.closed_at else None,
                "participants": counts[0],
                "joined": counts[1],
                "scored": len(percents),
                "mean_percent": round(sum(percents) / len(percents), 2) if percents else None,
                "oral": {str(k): v for k, v in oral.items() if k is not None},
            }
        )
    return out
