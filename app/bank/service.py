"""Knowledge areas, banks and questions."""

import hashlib
import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bank.models import Bank, KnowledgeArea, Question, QuestionStatus

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_for_fingerprint(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).casefold()


def fingerprint(stem: str, option_texts: list[str]) -> str:
    """Same normalised stem and options (in any order) give the same fingerprint: a duplicate."""
    parts = [normalise_for_fingerprint(stem), *sorted(normalise_for_fingerprint(t) for t in option_texts)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def option_id(stem: str, text: str, index: int) -> str:
    """Stable, opaque option id: says nothing about position or correctness."""
    return hashlib.sha256(f"{normalise_for_fingerprint(stem)}\x1f{text}\x1f{index}".encode()).hexdigest()[:10]


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


def new_question(
    *,
    bank: Bank,
    area: KnowledgeArea,
    qtype: str,
    stem: str,
    option_texts: list[str],
    answer: Any,
    explanation: str,
    difficulty: int,
    points: int,
    tags: list[str] | None = None,
) -> Question:
    """A question from authoring form: `answer` uses option indexes (0-based) for choice types."""
    options = [{"id": option_id(stem, text, i), "text": text} for i, text in enumerate(option_texts)]
    if qtype == "single":
        stored: Any = options[int(answer)]["id"]
    elif qtype == "multiple":
        stored = [options[int(i)]["id"] for i in answer]
    else:
        stored = answer
    return Question(
        bank_id=bank.id,
        knowledge_area_id=area.id,
        type=qtype,
        stem=stem,
        options=options,
        answer=stored,
        explanation=explanation,
        difficulty=difficulty,
        points=points,
        status=QuestionStatus.active,
        version=1,
        tags=tags or [],
        fingerprint=fingerprint(stem, option_texts),
    )
