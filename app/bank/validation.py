"""Checks on questions in authoring form: pure functions, no I/O.

Authoring form is what people type: options as a list of texts, and the answer as option indexes
(0-based) for choice types, a bool for true/false, and a list of blanks (each a list of accepted
texts) for fill-in-the-blank. Every problem raises `QuestionInvalid` with a stable code.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from app.bank.models import QuestionType
from app.core.errors import Unprocessable

BLANK = "____"
MIN_OPTIONS = 2
MAX_OPTIONS = 8

_SPACE = re.compile(r"\s+")


class QuestionInvalid(Unprocessable):
    code = "invalid_question"


@dataclass(frozen=True)
class Authoring:
    """A checked question in authoring form, texts stripped, multiple-choice answers sorted."""

    type: QuestionType
    stem: str
    options: list[str]
    answer: Any


def _same_text_key(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_options(qtype: QuestionType, options: list[str]) -> list[str]:
    texts = [text.strip() for text in options]
    if qtype in (QuestionType.true_false, QuestionType.fill_blank):
        if texts:
            raise QuestionInvalid(f"A {qtype} question has no options", code="options_not_allowed")
        return []
    if len(texts) < MIN_OPTIONS:
        raise QuestionInvalid(
            f"A choice question needs at least {MIN_OPTIONS} options", code="too_few_options"
        )
    if len(texts) > MAX_OPTIONS:
        raise QuestionInvalid(f"A choice question has at most {MAX_OPTIONS} options", code="too_many_options")
    for number, text in enumerate(texts, start=1):
        if not text:
            raise QuestionInvalid(f"Option {number} is empty", code="empty_option")
    seen: dict[str, int] = {}
    for number, text in enumerate(texts, start=1):
        key = _same_text_key(text)
        if key in seen:
            raise QuestionInvalid(f"Options {seen[key]} and {number} are the same", code="duplicate_option")
        seen[key] = number
    return texts


def check_answer(qtype: QuestionType, stem: str, option_count: int, answer: Any) -> Any:
    """The answer in normalised authoring form, or QuestionInvalid."""
    if answer is None:
        raise QuestionInvalid("The answer is missing", code="answer_required")
    if qtype == QuestionType.single:
        if isinstance(answer, list):
            raise QuestionInvalid(
                "A single-choice question has exactly one answer (one option index)",
                code="single_needs_one_answer",
            )
        if not _is_index(answer):
            raise QuestionInvalid("A single-choice answer is an option index", code="invalid_answer")
        if not 0 <= answer < option_count:
            raise QuestionInvalid(f"Answer {answer} names no option", code="answer_out_of_range")
        return answer
    if qtype == QuestionType.multiple:
        if _is_index(answer):
            answer = [answer]
        if not isinstance(answer, list) or not all(_is_index(a) for a in answer):
            raise QuestionInvalid(
                "A multiple-choice answer is a list of option indexes", code="invalid_answer"
            )
        for index in answer:
            if not 0 <= index < option_count:
                raise QuestionInvalid(f"Answer {index} names no option", code="answer_out_of_range")
        if len(set(answer)) != len(answer):
            raise QuestionInvalid("The answer names an option twice", code="duplicate_answer")
        if len(answer) < 2:
            raise QuestionInvalid(
                "A multiple-choice question has at least two correct options",
                code="multiple_needs_two_answers",
            )
        return sorted(answer)
    if qtype == QuestionType.true_false:
        if not isinstance(answer, bool):
            raise QuestionInvalid("A true/false answer is true or false", code="invalid_answer")
        return answer
    if not isinstance(answer, list) or not all(
        isinstance(blank, list) and all(isinstance(text, str) for text in blank) for blank in answer
    ):
        raise QuestionInvalid(
            "A fill-in-the-blank answer is a list of blanks, each a list of accepted texts",
            code="invalid_answer",
        )
    blanks = [[text.strip() for text in blank] for blank in answer]
    for number, blank in enumerate(blanks, start=1):
        if not blank or not all(blank):
            raise QuestionInvalid(
                f"Blank {number} needs at least one non-empty accepted text", code="empty_blank"
            )
    if not blanks:
        raise QuestionInvalid(f"Mark each blank in the stem with {BLANK}", code="no_blanks")
    if stem.count(BLANK) != len(blanks):
        raise QuestionInvalid(
            f"The stem has {stem.count(BLANK)} blanks ({BLANK}) but the answer has {len(blanks)}",
            code="blank_count_mismatch",
        )
    return blanks


def check_authoring(qtype: str, stem: str, options: list[str], answer: Any) -> Authoring:
    """Check a whole question in authoring form; returns it normalised."""
    try:
        kind = QuestionType(qtype)
    except ValueError:
        raise QuestionInvalid(f"Unknown question type {qtype!r}", code="unknown_type") from None
    stem = stem.strip()
    if not stem:
        raise QuestionInvalid("The question text is empty", code="empty_stem")
    texts = check_options(kind, options)
    return Authoring(kind, stem, texts, check_answer(kind, stem, len(texts), answer))


def answer_indexes(qtype: str, stored_answer: Any, option_ids: list[str]) -> int | list[int] | None:
    """A stored choice answer (option ids) as indexes into `option_ids`; None for other types or
    when an answer option is not among `option_ids`."""
    position = {oid: i for i, oid in enumerate(option_ids)}
    if qtype == QuestionType.single:
        return position.get(stored_answer) if isinstance(stored_answer, str) else None
    if qtype == QuestionType.multiple and isinstance(stored_answer, list):
        found = [position.get(oid) for oid in stored_answer if isinstance(oid, str)]
        if len(found) != len(stored_answer) or any(i is None for i in found):
            return None
        return sorted(i for i in found if i is not None)
    return None
