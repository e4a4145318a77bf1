"""Bank exports in the formats that import back losslessly (xlsx template, JSON, GIFT)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.bank import service as bank_service
from app.bank.schemas import QuestionOut
from app.imports.common import ParsedQuestion

MEDIA_TYPES = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "json": ("application/json", ".json"),
    "gift": ("text/plain; charset=utf-8", ".gift.txt"),
}


def as_parsed(question: QuestionOut) -> ParsedQuestion:
    """A stored question in authoring form (answers as option indexes), as the writers take it."""
    answer: Any = question.answer_indexes if question.type in ("single", "multiple") else question.answer
    return ParsedQuestion(
        type=question.type,
        stem=question.stem,
        options=[o.text for o in question.options],
        answer=answer,
        explanation=question.explanation,
        difficulty=question.difficulty,
        points=question.points,
        area=question.knowledge_area_full_name,
        tags=list(question.tags),
    )


async def bank_questions(
    session: AsyncSession, bank_id: int, **filters: Any
) -> tuple[str, list[ParsedQuestion]]:
    bank = await bank_service.get_bank(session, bank_id)
    page = await bank_service.list_questions(session, bank_id=bank.id, limit=1_000_000, offset=0, **filters)
    return bank.name, [as_parsed(q) for q in page.items]


def render(fmt: str, bank_name: str, questions: list[ParsedQuestion]) -> tuple[bytes, str, str]:
    """The file's bytes, suffix and media type."""
    media_type, suffix = MEDIA_TYPES[fmt]
    if fmt == "xlsx":
        from app.imports.writers.xlsx import write_xlsx

        return write_xlsx(questions), suffix, media_type
    if fmt == "json":
        from app.imports.writers.native_json import write_json

        return write_json(bank_name, questions), suffix, media_type
    from app.imports.writers.gift import write_gift

    return write_gift(questions).encode("utf-8"), suffix, media_type
