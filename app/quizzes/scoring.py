"""Checking responses and marking them: pure functions. Marks are in thousandths of a point."""

import re
import unicodedata
from typing import Any

from app.quizzes.models import MultipleScoring, Outcome

MILLI = 1000
MAX_BLANK_LENGTH = 500

_SPACE = re.compile(r"\s+")


def normalise_blank(text: str) -> str:
    """Full-width to half-width (NFKC), no white space, case folded: how blanks are compared."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def _share(points: int, numerator: int, denominator: int) -> int:
    # Round half up in integers: exact and the same on every platform.
    return (2 * points * MILLI * numerator + denominator) // (2 * denominator)


def response_error(qtype: str, response: Any, option_ids: set[str], blanks: int) -> str | None:
    """None when `response` has the right shape for the item, else a stable error code."""
    if response is None:
        return None
    if qtype == "single":
        if not isinstance(response, str):
            return "response_not_option_id"
        return None if response in option_ids else "unknown_option"
    if qtype == "multiple":
        if not isinstance(response, list) or not all(isinstance(r, str) for r in response):
            return "response_not_option_list"
        if len(set(response)) != len(response):
            return "duplicate_option"
        return None if set(response) <= option_ids else "unknown_option"
    if qtype == "true_false":
        return None if isinstance(response, bool) else "response_not_boolean"
    if qtype == "fill_blank":
        if not isinstance(response, list) or not all(isinstance(r, str) for r in response):
            return "response_not_text_list"
        if len(response) != blanks:
            return "wrong_blank_count"
        if any(len(r) > MAX_BLANK_LENGTH for r in response):
            return "blank_too_long"
        return None
    return "unknown_question_type"


def is_blank(response: Any) -> bool:
    if response is None:
        return True
    if isinstance(response, list):
        return all((isinstance(r, str) and not r.strip()) for r in response) if response else True
    return False


def mark(qtype: str, answer: Any, response: Any, points: int, multiple_scoring: str) -> tuple[int, str]:
    """(awarded thousandths, outcome) for one item."""
    full = points * MILLI
    if is_blank(response):
        return 0, Outcome.blank
    if qtype in ("single", "true_false"):
        return (full, Outcome.correct) if response == answer else (0, Outcome.wrong)
    if qtype == "multiple":
        chosen, key = set(response), set(answer)
        if chosen == key:
            return full, Outcome.correct
        if not chosen <= key:
            return 0, Outcome.wrong
        if multiple_scoring == MultipleScoring.partial:
            return _share(points, len(chosen), len(key)), Outcome.partial
        if multiple_scoring == MultipleScoring.half:
            return _share(points, 1, 2), Outcome.partial
        return 0, Outcome.wrong
    if qtype == "fill_blank":
        right = sum(
            1
            for given, alternatives in zip(response, answer, strict=True)
            if normalise_blank(given) in {normalise_blank(a) for a in alternatives}
        )
        if right == len(answer):
            return full, Outcome.correct
        if right == 0:
            return 0, Outcome.wrong
        return _share(points, right, len(answer)), Outcome.partial
    raise ValueError(f"unknown question type {qtype!r}")


def passed(score_milli: int, max_score_milli: int, pass_percent: int) -> bool:
    return score_milli * 100 >= max_score_milli * pass_percent
