"""Questions in our lossless native JSON format (read by `app.imports.parsers.native_json`)."""

import json
from typing import Any

from app.bank.models import QuestionType
from app.imports.common import LETTERS, ParsedQuestion
from app.imports.parsers.native_json import FORMAT, VERSION


def _answer(question: ParsedQuestion) -> Any:
    """As question_bank/README.md writes it: letters, true/false, or blanks of accepted texts."""
    if question.type == QuestionType.single:
        return LETTERS[question.answer]
    if question.type == QuestionType.multiple:
        return "".join(LETTERS[index] for index in question.answer)
    if question.type == QuestionType.true_false:
        return bool(question.answer)
    return [list(blank) for blank in question.answer]


def _entry(question: ParsedQuestion) -> dict[str, Any]:
    return {
        "type": question.type,
        "stem": question.stem,
        "options": list(question.options),
        "answer": _answer(question),
        "explanation": question.explanation,
        "difficulty": question.difficulty,
        "points": question.points,
        "area": question.area,
        "tags": list(question.tags),
    }


def write_json(bank_name: str, questions: list[ParsedQuestion]) -> bytes:
    """UTF-8, readable (indented, Chinese as is), keys always in the same order."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "bank": bank_name,
        "questions": [_entry(question) for question in questions],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
