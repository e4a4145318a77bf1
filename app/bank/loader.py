"""Loads the reviewable YAML bank in question_bank/ (format: question_bank/README.md).

The files go through the same parser and checks as an administrator's import
(`app.imports.yaml_bank`); any problem stops the load and names its file, line and fix.
"""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bank.models import KnowledgeArea, Question
from app.bank.service import fingerprint, get_or_create_area, get_or_create_bank, new_question
from app.imports.common import DEFAULT_AREA, ParsedQuestion
from app.imports.yaml_bank import parse_yaml


class BankFileError(ValueError):
    pass


def parse_bank_dir(folder: Path) -> list[tuple[str, ParsedQuestion]]:
    """(bank name, question) for every question of every *.yaml file, or BankFileError."""
    questions: list[tuple[str, ParsedQuestion]] = []
    for path in sorted(folder.glob("*.yaml")):
        parsed = parse_yaml(path.read_bytes())
        if parsed.issues:
            first = parsed.issues[0]
            raise BankFileError(
                f"{path.name} line {first.line}: [{first.code}] {first.message_en} "
                f"({len(parsed.issues)} problems in this file)"
            )
        if not parsed.bank_name:
            raise BankFileError(f"{path.name}: the file names no bank")
        questions.extend((parsed.bank_name, q) for q in parsed.questions)
    return questions


async def load_questions(session: AsyncSession, questions: list[tuple[str, ParsedQuestion]]) -> int:
    """Insert the questions not already in their bank (by fingerprint); returns how many were new."""
    added = 0
    areas: dict[str, KnowledgeArea] = {}
    for bank_name, q in questions:
        bank = await get_or_create_bank(session, bank_name)
        mark = fingerprint(q.stem, q.options)
        exists = await session.execute(
            select(Question.id).where(Question.bank_id == bank.id, Question.fingerprint == mark)
        )
        if exists.first() is not None:
            continue
        area_name = q.area or DEFAULT_AREA
        area = areas.get(area_name) or await get_or_create_area(session, area_name)
        areas[area_name] = area
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
