"""Loads the reviewable YAML bank in question_bank/ (format: question_bank/README.md).

Parsing and checking are pure; `load_bank_dir` writes. Every problem names its file and question.
"""

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bank.models import Question
from app.bank.service import fingerprint, get_or_create_area, get_or_create_bank, new_question

DEFAULT_POINTS = {"single": 1, "multiple": 2, "true_false": 1, "fill_blank": 2}
LETTERS = string.ascii_uppercase[:8]
BLANK = "____"


@dataclass(frozen=True)
class BankQuestion:
    bank: str
    area: str
    type: str
    stem: str
    options: list[str]
    answer: Any  # authoring form: option indexes for choice types
    explanation: str
    difficulty: int
    points: int
    tags: list[str] = field(default_factory=list)


class BankFileError(ValueError):
    pass


def _answer(qtype: str, raw: Any, options: list[str], where: str) -> Any:
    if qtype in ("single", "multiple"):
        letters = str(raw).strip().upper()
        if not letters or any(ch not in LETTERS[: len(options)] for ch in letters):
            raise BankFileError(f"{where}: answer {raw!r} names an option that does not exist")
        indexes = [LETTERS.index(ch) for ch in letters]
        if len(set(indexes)) != len(indexes):
            raise BankFileError(f"{where}: answer {raw!r} repeats an option")
        if qtype == "single":
            if len(indexes) != 1:
                raise BankFileError(f"{where}: a single-choice question has exactly one answer")
            return indexes[0]
        if len(indexes) < 2:
            raise BankFileError(f"{where}: a multiple-choice question needs at least two answers")
        return sorted(indexes)
    if qtype == "true_false":
        if not isinstance(raw, bool):
            raise BankFileError(f"{where}: a true/false answer is true or false")
        return raw
    if (
        not isinstance(raw, list)
        or not raw
        or not all(
            isinstance(b, list) and b and all(isinstance(a, str) and a.strip() for a in b) for b in raw
        )
    ):
        raise BankFileError(f"{where}: a fill-in answer is a list of blanks, each a list of accepted texts")
    return [[a.strip() for a in b] for b in raw]


def parse_bank_file(path: Path) -> list[BankQuestion]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("bank"), str)
        or not isinstance(data.get("questions"), list)
    ):
        raise BankFileError(f"{path.name}: expected keys `bank` (text) and `questions` (list)")
    result = []
    for number, raw in enumerate(data["questions"], start=1):
        where = f"{path.name} question {number}"
        if not isinstance(raw, dict):
            raise BankFileError(f"{where}: not a mapping")
        qtype = raw.get("type")
        if qtype not in DEFAULT_POINTS:
            raise BankFileError(f"{where}: unknown type {qtype!r}")
        stem = str(raw.get("stem", "")).strip()
        if not stem:
            raise BankFileError(f"{where}: empty stem")
        options = [str(o).strip() for o in raw.get("options") or []]
        if qtype in ("single", "multiple"):
            if not 2 <= len(options) <= 8 or len(set(options)) != len(options):
                raise BankFileError(f"{where}: needs 2 to 8 distinct options")
        elif options:
            raise BankFileError(f"{where}: a {qtype} question has no options")
        answer = _answer(qtype, raw.get("answer"), options, where)
        if qtype == "fill_blank" and stem.count(BLANK) != len(answer):
            raise BankFileError(f"{where}: {stem.count(BLANK)} blanks in the stem but {len(answer)} answers")
        difficulty = raw.get("difficulty", 2)
        points = raw.get("points", DEFAULT_POINTS[qtype])
        if not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
            raise BankFileError(f"{where}: difficulty must be 1 to 5")
        if not isinstance(points, int) or points <= 0:
            raise BankFileError(f"{where}: points must be a positive whole number")
        explanation = str(raw.get("explanation", "")).strip()
        if not explanation:
            raise BankFileError(f"{where}: every question needs an explanation")
        result.append(
            BankQuestion(
                bank=data["bank"],
                area=str(raw.get("area", "")).strip(),
                type=qtype,
                stem=stem,
                options=options,
                answer=answer,
                explanation=explanation,
                difficulty=difficulty,
                points=points,
                tags=[str(t) for t in raw.get("tags") or []],
            )
        )
    return result


def parse_bank_dir(folder: Path) -> list[BankQuestion]:
    questions: list[BankQuestion] = []
    for path in sorted(folder.glob("*.yaml")):
        questions.extend(parse_bank_file(path))
    return questions


async def load_questions(session: AsyncSession, questions: list[BankQuestion]) -> int:
    """Insert the questions not already in their bank (by fingerprint); returns how many were new."""
    added = 0
    for q in questions:
        bank = await get_or_create_bank(session, q.bank)
        mark = fingerprint(q.stem, q.options)
        exists = await session.execute(
            select(Question.id).where(Question.bank_id == bank.id, Question.fingerprint == mark)
        )
        if exists.first() is not None:
            continue
        area = await get_or_create_area(session, q.area)
        session.add(
            new_question(
                bank=bank,
                area=area,
                qtype=q.type,
                stem=q.stem,
                option_texts=q.options,
                answer=q.answer,
                explanation=q.explanation,
                difficulty=q.difficulty,
                points=q.points,
                tags=q.tags,
            )
        )
        added += 1
    await session.flush()
    return added


async def load_bank_dir(session: AsyncSession, folder: Path) -> int:
    added = await load_questions(session, parse_bank_dir(folder))
    await session.commit()
    return added
