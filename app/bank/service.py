"""Knowledge areas, banks and questions."""

import hashlib
import re
import secrets
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.bank.models import Bank, KnowledgeArea, Question, QuestionStatus, QuestionVersion
from app.bank.schemas import (
    AreaCreate,
    AreaOut,
    AreaUpdate,
    BankCreate,
    BankOut,
    BankUpdate,
    OptionOut,
    QuestionIn,
    QuestionOut,
    QuestionPage,
    QuestionUpdate,
    QuestionVersionOut,
)
from app.bank.validation import answer_indexes, check_authoring
from app.core.errors import Conflict, NotFound, Unprocessable
from app.db.session import get_or_raise
from app.db.types import utcnow
from app.quizzes.models import AttemptItem, QuizRule

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_for_fingerprint(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).casefold()


def fingerprint(stem: str, option_texts: list[str]) -> str:
    """Same normalised stem and options (in any order) give the same fingerprint: a duplicate."""
    parts = [normalise_for_fingerprint(stem), *sorted(normalise_for_fingerprint(t) for t in option_texts)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def new_option_id(taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A random option id: it says nothing about the option's position or correctness, so
    shuffling defeats shared "选A" answer sheets. Unique within the question."""
    while True:
        oid = secrets.token_hex(5)
        if oid not in taken:
            return oid


def split_area_path(full_name: str) -> list[str]:
    return [part.strip() for part in full_name.replace("／", "/").split("/") if part.strip()]


async def get_or_create_area(session: AsyncSession, full_name: str) -> KnowledgeArea:
    """The area at a '/'-separated path, creating it and any missing ancestors."""
    parts = split_area_path(full_name)
    if not parts:
        raise ValueError("empty knowledge-area path")
    parent: KnowledgeArea | None = None
    for depth in range(len(parts)):
        name = "/".join(parts[: depth + 1])
        area = (
            await session.execute(select(KnowledgeArea).where(KnowledgeArea.full_name == name))
        ).scalar_one_or_none()
        if area is None:
            area = KnowledgeArea(
                name=parts[depth],
                full_name=name,
                parent_id=parent.id if parent else None,
                depth=depth,
                path="",
            )
            session.add(area)
            await session.flush()
            area.path = f"{parent.path if parent else '/'}{area.id}/"
        parent = area
    assert parent is not None
    return parent


async def area_subtree_ids(session: AsyncSession, area_id: int, include_subareas: bool) -> frozenset[int]:
    area = await session.get(KnowledgeArea, area_id)
    if area is None:
        return frozenset()
    if not include_subareas:
        return frozenset({area.id})
    rows = await session.execute(select(KnowledgeArea.id).where(KnowledgeArea.path.startswith(area.path)))
    return frozenset(rows.scalars())


async def get_or_create_bank(session: AsyncSession, name: str, description: str = "") -> Bank:
    bank = (await session.execute(select(Bank).where(Bank.name == name))).scalar_one_or_none()
    if bank is None:
        bank = Bank(name=name, description=description)
        session.add(bank)
        await session.flush()
    return bank


def question_row(
    *,
    bank_id: int,
    area_id: int,
    qtype: str,
    stem: str,
    option_texts: list[str],
    answer: Any,
    explanation: str,
    difficulty: int,
    points: int,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """A new question's column values from authoring form (`answer` uses 0-based option
    indexes for choice types): for one ORM object or a bulk insert of thousands."""
    ids: set[str] = set()
    options = []
    for text in option_texts:
        ids.add(oid := new_option_id(ids))
        options.append({"id": oid, "text": text})
    now = utcnow()
    return {
        "bank_id": bank_id,
        "knowledge_area_id": area_id,
        "type": qtype,
        "stem": stem,
        "options": options,
        "answer": stored_answer(qtype, options, answer),
        "explanation": explanation,
        "difficulty": difficulty,
        "points": points,
        "status": QuestionStatus.active,
        "version": 1,
        "tags": tags or [],
        "fingerprint": fingerprint(stem, option_texts),
        "created_at": now,
        "updated_at": now,
    }


def new_question(*, bank: Bank, area: KnowledgeArea, **authoring: Any) -> Question:
    """A question from authoring form (see `question_row`)."""
    return Question(**question_row(bank_id=bank.id, area_id=area.id, **authoring))


# ---------------------------------------------------------------- admin API: knowledge areas

FULL_NAME_MAX = 500
_AREA_SEPARATORS = ("/", "／")


def _ids_in_path(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


async def get_area(session: AsyncSession, area_id: int) -> KnowledgeArea:
    return await get_or_raise(
        session,
        KnowledgeArea,
        area_id,
        NotFound(f"Knowledge area {area_id} does not exist", code="knowledge_area_not_found"),
    )


async def _area_ref(session: AsyncSession, area_id: int) -> KnowledgeArea:
    """An area named in a request body: a missing one is invalid input."""
    return await get_or_raise(
        session,
        KnowledgeArea,
        area_id,
        Unprocessable(f"Knowledge area {area_id} does not exist", code="knowledge_area_not_found"),
    )


async def _area_counts(session: AsyncSession) -> tuple[dict[int, int], dict[int, int]]:
    """(active questions directly in each area, active questions in each area's subtree)."""
    rows = await session.execute(
        select(KnowledgeArea.id, KnowledgeArea.path, func.count(Question.id))
        .join(Question, Question.knowledge_area_id == KnowledgeArea.id)
        .where(Question.status == QuestionStatus.active)
        .group_by(KnowledgeArea.id, KnowledgeArea.path)
    )
    direct: dict[int, int] = {}
    subtree: dict[int, int] = {}
    for area_id, path, count in rows:
        direct[area_id] = count
        for ancestor in _ids_in_path(path):
            subtree[ancestor] = subtree.get(ancestor, 0) + count
    return direct, subtree


def _area_out(area: KnowledgeArea, direct: dict[int, int], subtree: dict[int, int]) -> AreaOut:
    return AreaOut(
        id=area.id,
        parent_id=area.parent_id,
        name=area.name,
        full_name=area.full_name,
        path=area.path,
        depth=area.depth,
        question_count=direct.get(area.id, 0),
        subtree_question_count=subtree.get(area.id, 0),
    )


async def area_out(session: AsyncSession, area: KnowledgeArea) -> AreaOut:
    direct, subtree = await _area_counts(session)
    return _area_out(area, direct, subtree)


async def list_areas(session: AsyncSession) -> list[AreaOut]:
    areas = (await session.execute(select(KnowledgeArea))).scalars().all()
    direct, subtree = await _area_counts(session)
    # Sorted here, not in SQL: code-point order keeps every subtree contiguous on any collation.
    return [_area_out(a, direct, subtree) for a in sorted(areas, key=lambda a: a.path)]


def _check_area_name(name: str) -> str:
    if any(sep in name for sep in _AREA_SEPARATORS):
        raise Unprocessable("An area name cannot contain '/': it separates levels", code="invalid_area_name")
    return name


async def _full_name_taken(session: AsyncSession, full_name: str) -> bool:
    found = await session.execute(select(KnowledgeArea.id).where(KnowledgeArea.full_name == full_name))
    return found.first() is not None


async def create_area(session: AsyncSession, body: AreaCreate) -> AreaOut:
    name = _check_area_name(body.name)
    parent = await _area_ref(session, body.parent_id) if body.parent_id is not None else None
    full_name = f"{parent.full_name}/{name}" if parent else name
    if len(full_name) > FULL_NAME_MAX:
        raise Unprocessable(
            f"The full name is longer than {FULL_NAME_MAX} characters", code="full_name_too_long"
        )
    if await _full_name_taken(session, full_name):
        raise Conflict(f"Knowledge area {full_name!r} already exists", code="knowledge_area_exists")
    area = KnowledgeArea(
        name=name,
        full_name=full_name,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        path="",
    )
    session.add(area)
    await session.flush()  # the id is part of the path
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"Knowledge area {full_name!r} already exists", code="knowledge_area_exists") from None
    return await area_out(session, area)


async def rename_area(session: AsyncSession, area_id: int, body: AreaUpdate) -> AreaOut:
    """Rename an area; the full names of all its sub-areas follow (one UPDATE)."""
    area = await get_area(session, area_id)
    name = _check_area_name(body.name)
    old_full = area.full_name
    new_full = f"{old_full[: len(old_full) - len(area.name)]}{name}"
    if new_full != old_full:
        if await _full_name_taken(session, new_full):
            raise Conflict(f"Knowledge area {new_full!r} already exists", code="knowledge_area_exists")
        longest = (
            await session.execute(
                select(func.max(func.length(KnowledgeArea.full_name))).where(
                    KnowledgeArea.path.startswith(area.path, autoescape=True)
                )
            )
        ).scalar_one()
        if int(longest or 0) - len(old_full) + len(new_full) > FULL_NAME_MAX:
            raise Unprocessable(
                f"A sub-area's full name would exceed {FULL_NAME_MAX} characters", code="full_name_too_long"
            )
        await session.execute(
            update(KnowledgeArea)
            .where(KnowledgeArea.path.startswith(area.path, autoescape=True), KnowledgeArea.id != area.id)
            .values(
                full_name=literal(f"{new_full}/", String).concat(
                    func.substr(KnowledgeArea.full_name, len(old_full) + 2)
                )
            )
            .execution_options(synchronize_session=False)
        )
        area.name = name
        area.full_name = new_full
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            raise Conflict(
                f"Knowledge area {new_full!r} already exists", code="knowledge_area_exists"
            ) from None
        session.expire_all()
        area = await get_area(session, area_id)
    return await area_out(session, area)


# ---------------------------------------------------------------- admin API: banks


async def get_bank(session: AsyncSession, bank_id: int) -> Bank:
    return await get_or_raise(
        session, Bank, bank_id, NotFound(f"Bank {bank_id} does not exist", code="bank_not_found")
    )


async def _bank_ref(session: AsyncSession, bank_id: int) -> Bank:
    return await get_or_raise(
        session, Bank, bank_id, Unprocessable(f"Bank {bank_id} does not exist", code="bank_not_found")
    )


async def _bank_counts(session: AsyncSession, bank_id: int | None = None) -> dict[tuple[int, str], int]:
    stmt = select(Question.bank_id, Question.status, func.count(Question.id)).group_by(
        Question.bank_id, Question.status
    )
    if bank_id is not None:
        stmt = stmt.where(Question.bank_id == bank_id)
    return {(b, status): count for b, status, count in await session.execute(stmt)}


def _bank_out(bank: Bank, counts: dict[tuple[int, str], int]) -> BankOut:
    return BankOut(
        id=bank.id,
        name=bank.name,
        description=bank.description,
        created_at=bank.created_at,
        question_count=counts.get((bank.id, QuestionStatus.active), 0),
        retired_count=counts.get((bank.id, QuestionStatus.retired), 0),
    )


async def bank_out(session: AsyncSession, bank: Bank) -> BankOut:
    return _bank_out(bank, await _bank_counts(session, bank.id))


async def list_banks(session: AsyncSession) -> list[BankOut]:
    banks = (await session.execute(select(Bank).order_by(Bank.name, Bank.id))).scalars().all()
    counts = await _bank_counts(session)
    return [_bank_out(b, counts) for b in banks]


async def _bank_name_taken(session: AsyncSession, name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Bank.id).where(Bank.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Bank.id != exclude_id)
    return (await session.execute(stmt)).first() is not None


async def create_bank(session: AsyncSession, body: BankCreate) -> BankOut:
    if await _bank_name_taken(session, body.name):
        raise Conflict(f"A bank named {body.name!r} already exists", code="bank_exists")
    bank = Bank(name=body.name, description=body.description)
    session.add(bank)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"A bank named {body.name!r} already exists", code="bank_exists") from None
    return await bank_out(session, bank)


async def update_bank(session: AsyncSession, bank_id: int, body: BankUpdate) -> BankOut:
    bank = await get_bank(session, bank_id)
    if body.name is not None and body.name != bank.name:
        if await _bank_name_taken(session, body.name, exclude_id=bank.id):
            raise Conflict(f"A bank named {body.name!r} already exists", code="bank_exists")
        bank.name = body.name
    if body.description is not None:
        bank.description = body.description
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"A bank named {body.name!r} already exists", code="bank_exists") from None
    return await bank_out(session, bank)


# ---------------------------------------------------------------- admin API: questions


def carry_option_ids(old_options: list[dict[str, str]], stem: str, texts: list[str]) -> list[dict[str, str]]:
    """Options for `texts`: a text that was already an option keeps its id; a new text gets a new
    id that no current or former option of the question has used."""
    by_text = {o["text"]: o["id"] for o in old_options}
    taken = set(by_text.values())
    result: list[dict[str, str]] = []
    for text in texts:
        oid = by_text.get(text) or new_option_id(taken)
        taken.add(oid)
        result.append({"id": oid, "text": text})
    return result


def stored_answer(qtype: str, options: list[dict[str, str]], answer: Any) -> Any:
    """An authoring-form answer (indexes) in stored form (option ids)."""
    if qtype == "single":
        return options[int(answer)]["id"]
    if qtype == "multiple":
        return [options[int(i)]["id"] for i in answer]
    return answer


def question_out(question: Question, area_full_name: str) -> QuestionOut:
    return QuestionOut(
        id=question.id,
        bank_id=question.bank_id,
        knowledge_area_id=question.knowledge_area_id,
        knowledge_area_full_name=area_full_name,
        type=question.type,
        stem=question.stem,
        options=[OptionOut(id=o["id"], text=o["text"]) for o in question.options],
        answer=question.answer,
        answer_indexes=answer_indexes(question.type, question.answer, [o["id"] for o in question.options]),
        explanation=question.explanation,
        difficulty=question.difficulty,
        points=question.points,
        status=question.status,
        version=question.version,
        tags=list(question.tags),
        created_at=question.created_at,
        updated_at=question.updated_at,
    )


async def get_question(session: AsyncSession, question_id: int) -> Question:
    question = await session.get(Question, question_id)
    if question is None:
        raise NotFound(f"Question {question_id} does not exist", code="question_not_found")
    return question


async def question_view(session: AsyncSession, question_id: int) -> QuestionOut:
    row = (
        await session.execute(
            select(Question, KnowledgeArea.full_name)
            .join(KnowledgeArea, KnowledgeArea.id == Question.knowledge_area_id)
            .where(Question.id == question_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"Question {question_id} does not exist", code="question_not_found")
    return question_out(row[0], row[1])


async def list_questions(
    session: AsyncSession,
    *,
    bank_id: int | None = None,
    knowledge_area_id: int | None = None,
    include_subareas: bool = True,
    qtype: str | None = None,
    difficulty: int | None = None,
    status: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> QuestionPage:
    conditions: list[ColumnElement[bool]] = []
    if bank_id is not None:
        conditions.append(Question.bank_id == (await get_bank(session, bank_id)).id)
    if knowledge_area_id is not None:
        area = await get_area(session, knowledge_area_id)
        if include_subareas:
            conditions.append(KnowledgeArea.path.startswith(area.path, autoescape=True))
        else:
            conditions.append(Question.knowledge_area_id == area.id)
    if qtype is not None:
        conditions.append(Question.type == qtype)
    if difficulty is not None:
        conditions.append(Question.difficulty == difficulty)
    if status is not None:
        conditions.append(Question.status == status)
    if q and q.strip():
        conditions.append(Question.stem.icontains(q.strip(), autoescape=True))
    base = select(Question, KnowledgeArea.full_name).join(
        KnowledgeArea, KnowledgeArea.id == Question.knowledge_area_id
    )
    total = (
        await session.execute(
            select(func.count(Question.id))
            .join(KnowledgeArea, KnowledgeArea.id == Question.knowledge_area_id)
            .where(*conditions)
        )
    ).scalar_one()
    rows = await session.execute(base.where(*conditions).order_by(Question.id).limit(limit).offset(offset))
    return QuestionPage(
        items=[question_out(question, full_name) for question, full_name in rows], total=total
    )


async def _check_not_duplicate(
    session: AsyncSession, bank_id: int, mark: str, exclude_id: int | None = None
) -> None:
    stmt = select(Question.id).where(Question.bank_id == bank_id, Question.fingerprint == mark)
    if exclude_id is not None:
        stmt = stmt.where(Question.id != exclude_id)
    existing = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"The bank already holds this question (question {existing})", code="duplicate_question"
        )


async def create_question(session: AsyncSession, body: QuestionIn) -> QuestionOut:
    authoring = check_authoring(body.type, body.stem, body.options, body.answer)
    bank = await _bank_ref(session, body.bank_id)
    area = await _area_ref(session, body.knowledge_area_id)
    question = new_question(
        bank=bank,
        area=area,
        qtype=authoring.type,
        stem=authoring.stem,
        option_texts=authoring.options,
        answer=authoring.answer,
        explanation=body.explanation.strip(),
        difficulty=body.difficulty,
        points=body.points,
        tags=list(dict.fromkeys(body.tags)),
    )
    await _check_not_duplicate(session, bank.id, question.fingerprint)
    session.add(question)
    await session.commit()
    return await question_view(session, question.id)


def _answer_following_texts(question: Question, texts: list[str]) -> Any:
    """The current answer in authoring form against the option list `texts`, matched by text.
    A correct option that is no longer there leaves an index that fails the range check."""
    if question.type not in ("single", "multiple"):
        return question.answer
    text_of = {o["id"]: o["text"] for o in question.options}
    position = {text: i for i, text in enumerate(texts)}

    def index(oid: Any) -> int:
        return position.get(text_of.get(str(oid), ""), len(texts))

    if question.type == "single":
        return index(question.answer)
    return [index(oid) for oid in question.answer]


VERSIONED_FIELDS = (
    "bank_id",
    "knowledge_area_id",
    "type",
    "stem",
    "options",
    "answer",
    "explanation",
    "difficulty",
    "points",
    "tags",
)


def archive_version(question: Question, actor_id: int | None) -> QuestionVersion:
    """The question's current content as a history row, before an edit replaces it."""
    return QuestionVersion(
        question_id=question.id,
        version=question.version,
        content={name: getattr(question, name) for name in VERSIONED_FIELDS},
        made_at=question.updated_at,
        replaced_by_id=actor_id,
    )


async def update_question(
    session: AsyncSession, question_id: int, body: QuestionUpdate, actor_id: int | None = None
) -> QuestionOut:
    """Edit a question: when anything changes the old content is archived as a version and
    `version` goes up. Attempts keep their own snapshot, so finished ones never change."""
    question = await get_question(session, question_id)
    qtype = body.type if body.type is not None else question.type
    stem = body.stem if body.stem is not None else question.stem
    texts = body.options if body.options is not None else [o["text"] for o in question.options]
    if body.answer is not None:
        answer = body.answer
    elif qtype == question.type:
        answer = _answer_following_texts(question, [t.strip() for t in texts])
    else:
        answer = None  # a new type needs a new answer
    authoring = check_authoring(qtype, stem, texts, answer)
    bank_id = (await _bank_ref(session, body.bank_id)).id if body.bank_id is not None else question.bank_id
    area_id = (
        (await _area_ref(session, body.knowledge_area_id)).id
        if body.knowledge_area_id is not None
        else question.knowledge_area_id
    )
    options = carry_option_ids(question.options, authoring.stem, authoring.options)
    mark = fingerprint(authoring.stem, authoring.options)
    if bank_id != question.bank_id or mark != question.fingerprint:
        await _check_not_duplicate(session, bank_id, mark, exclude_id=question.id)
    new_values: dict[str, Any] = {
        "bank_id": bank_id,
        "knowledge_area_id": area_id,
        "type": str(authoring.type),
        "stem": authoring.stem,
        "options": options,
        "answer": stored_answer(authoring.type, options, authoring.answer),
        "explanation": body.explanation.strip() if body.explanation is not None else question.explanation,
        "difficulty": body.difficulty if body.difficulty is not None else question.difficulty,
        "points": body.points if body.points is not None else question.points,
        "tags": list(dict.fromkeys(body.tags)) if body.tags is not None else question.tags,
        "fingerprint": mark,
    }
    changed = {k: v for k, v in new_values.items() if getattr(question, k) != v}
    if changed:
        session.add(archive_version(question, actor_id))
        for field, value in changed.items():
            setattr(question, field, value)
        question.version = question.version + 1
        await session.commit()
    return await question_view(session, question.id)


async def question_in_use(session: AsyncSession, question_id: int) -> bool:
    """True when an attempt served the question, or a published quiz's frozen pool holds it."""
    served = await session.execute(
        select(AttemptItem.id).where(AttemptItem.question_id == question_id).limit(1)
    )
    if served.first() is not None:
        return True
    pools = await session.execute(select(QuizRule.pool).where(QuizRule.pool.is_not(None)))
    return any(question_id in (pool or ()) for pool in pools.scalars())


async def delete_question(session: AsyncSession, question_id: int) -> str:
    """Delete a question nobody has used; retire one that is in use. Returns "deleted" or "retired"."""
    question = await get_question(session, question_id)
    if await question_in_use(session, question.id):
        question.status = QuestionStatus.retired
        await session.commit()
        return "retired"
    await session.delete(question)
    await session.commit()
    return "deleted"


async def restore_question(session: AsyncSession, question_id: int) -> QuestionOut:
    question = await get_question(session, question_id)
    if question.status != QuestionStatus.active:
        question.status = QuestionStatus.active
        await session.commit()
    return await question_view(session, question.id)


async def question_versions(session: AsyncSession, question_id: int) -> list[QuestionVersionOut]:
    """Every version of a question, newest (the current one) first."""
    question = await get_question(session, question_id)
    area_rows = await session.execute(select(KnowledgeArea.id, KnowledgeArea.full_name))
    areas: dict[int, str] = {area_id: full_name for area_id, full_name in area_rows}
    current = {name: getattr(question, name) for name in VERSIONED_FIELDS}
    history = (
        await session.execute(
            select(QuestionVersion)
            .where(QuestionVersion.question_id == question.id)
            .order_by(QuestionVersion.version.desc())
        )
    ).scalars()
    rows = [(question.version, current, question.updated_at, True)]
    rows += [(v.version, v.content, v.made_at, False) for v in history]
    return [
        QuestionVersionOut(
            version=version,
            current=is_current,
            made_at=made_at,
            knowledge_area_full_name=areas.get(content["knowledge_area_id"], ""),
            **{name: content[name] for name in VERSIONED_FIELDS},
        )
        for version, content, made_at, is_current in rows
    ]
