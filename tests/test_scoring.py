"""Marking and response-shape checks (app/quizzes/scoring.py): pure functions, no I/O."""

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.quizzes.models import MultipleScoring, Outcome
from app.quizzes.scoring import (
    MAX_BLANK_LENGTH,
    MILLI,
    is_blank,
    mark,
    normalise_blank,
    passed,
    response_error,
)

AON, PARTIAL, HALF = MultipleScoring.all_or_nothing, MultipleScoring.partial, MultipleScoring.half
MODES = [AON, PARTIAL, HALF]

KEY = ["a", "b", "c"]  # a multiple-choice key; "d" and "e" are wrong options
OPTIONS = {"a", "b", "c", "d", "e"}
BLANKS = [["12337"], ["1月10日", "一月十日"]]


# ---------------------------------------------------------------- single and true/false


@pytest.mark.parametrize("mode", MODES)
def test_single_choice_is_all_or_nothing(mode: str) -> None:
    assert mark("single", "a", "a", 2, mode) == (2000, Outcome.correct)
    assert mark("single", "a", "b", 2, mode) == (0, Outcome.wrong)
    assert mark("single", "a", None, 2, mode) == (0, Outcome.blank)


def test_true_false() -> None:
    assert mark("true_false", True, True, 1, AON) == (1000, Outcome.correct)
    assert mark("true_false", False, False, 1, AON) == (1000, Outcome.correct)
    assert mark("true_false", True, False, 1, AON) == (0, Outcome.wrong)
    assert mark("true_false", False, True, 1, AON) == (0, Outcome.wrong)
    # False is an answer, not a blank.
    assert mark("true_false", True, None, 1, AON) == (0, Outcome.blank)
    assert not is_blank(False)


# ---------------------------------------------------------------- multiple choice


@pytest.mark.parametrize("mode", MODES)
def test_multiple_full_and_wrong_and_blank_are_the_same_in_every_mode(mode: str) -> None:
    assert mark("multiple", KEY, ["c", "a", "b"], 3, mode) == (3000, Outcome.correct)  # order does not matter
    assert mark("multiple", KEY, ["a", "b", "c", "d"], 3, mode) == (0, Outcome.wrong)  # extra wrong option
    assert mark("multiple", KEY, ["a", "d"], 3, mode) == (0, Outcome.wrong)  # any wrong option -> 0
    assert mark("multiple", KEY, ["d"], 3, mode) == (0, Outcome.wrong)
    assert mark("multiple", KEY, [], 3, mode) == (0, Outcome.blank)
    assert mark("multiple", KEY, None, 3, mode) == (0, Outcome.blank)


def test_multiple_all_or_nothing_gives_nothing_for_too_few() -> None:  # 少选不得分
    assert mark("multiple", KEY, ["a", "b"], 3, AON) == (0, Outcome.wrong)
    assert mark("multiple", KEY, ["a"], 3, AON) == (0, Outcome.wrong)


def test_multiple_partial_gives_each_chosen_option_its_share() -> None:  # 少选得部分分
    assert mark("multiple", KEY, ["a", "b"], 3, PARTIAL) == (2000, Outcome.partial)
    assert mark("multiple", KEY, ["c"], 3, PARTIAL) == (1000, Outcome.partial)
    # 1 point over 3 options: thousandths rounded half up.
    assert mark("multiple", KEY, ["a"], 1, PARTIAL) == (333, Outcome.partial)
    assert mark("multiple", KEY, ["a", "b"], 1, PARTIAL) == (667, Outcome.partial)
    assert mark("multiple", ["a", "b", "c", "d"], ["a"], 1, PARTIAL) == (250, Outcome.partial)
    # 1/8 of a point is 125 thousandths exactly; 1/16 of a point is 62.5 -> 63 (half up).
    eight = [str(i) for i in range(8)]
    assert mark("multiple", eight, ["0"], 1, PARTIAL) == (125, Outcome.partial)
    sixteen = [str(i) for i in range(16)]
    assert mark("multiple", sixteen, ["0"], 1, PARTIAL) == (63, Outcome.partial)
    assert mark("multiple", sixteen, ["0", "1", "2"], 1, PARTIAL) == (188, Outcome.partial)  # 187.5 -> 188


def test_multiple_half_gives_half_for_too_few() -> None:  # 少选得一半分
    assert mark("multiple", KEY, ["a", "b"], 3, HALF) == (1500, Outcome.partial)
    assert mark("multiple", KEY, ["a"], 3, HALF) == (1500, Outcome.partial)
    assert mark("multiple", KEY, ["a"], 1, HALF) == (500, Outcome.partial)


# ---------------------------------------------------------------- fill in the blank


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("１２３３７", "12337"),  # full-width digits
        ("ＡＢＣ", "abc"),  # full-width letters, case folded
        ("  a b\tc\n", "abc"),  # every kind of white space removed
        ("a\u3000b", "ab"),  # the ideographic (full-width) space
        ("Straße", "strasse"),  # case folding, not just lower()
        ("1 月 10 日", "1月10日"),
        ("（刑法）", "(刑法)"),  # full-width brackets
    ],
)
def test_normalise_blank(given: str, expected: str) -> None:
    assert normalise_blank(given) == expected


def test_fill_blank_matches_alternatives_after_normalising() -> None:
    assert mark("fill_blank", BLANKS, ["12337", "1月10日"], 2, AON) == (2000, Outcome.correct)
    assert mark("fill_blank", BLANKS, ["１２３３７", "一月十日"], 2, AON) == (2000, Outcome.correct)
    assert mark("fill_blank", BLANKS, [" 1 2 3 3 7 ", "1 月 10 日"], 2, AON) == (2000, Outcome.correct)
    assert mark("fill_blank", [["ABC"]], ["abc"], 1, AON) == (1000, Outcome.correct)
    assert mark("fill_blank", [["abc"]], ["ＡＢＣ"], 1, AON) == (1000, Outcome.correct)


def test_fill_blank_marks_each_blank() -> None:
    # The multiple-choice mode never changes fill-in-the-blank marking.
    for mode in MODES:
        assert mark("fill_blank", BLANKS, ["12337", "wrong"], 2, mode) == (1000, Outcome.partial)
        assert mark("fill_blank", BLANKS, ["wrong", "一月十日"], 2, mode) == (1000, Outcome.partial)
        assert mark("fill_blank", BLANKS, ["1233", "1月1日"], 2, mode) == (0, Outcome.wrong)
    three = [["x"], ["y"], ["z"]]
    assert mark("fill_blank", three, ["x", "", ""], 1, AON) == (333, Outcome.partial)
    assert mark("fill_blank", three, ["x", "y", ""], 1, AON) == (667, Outcome.partial)
    # A near miss is wrong: no substring or fuzzy matching.
    assert mark("fill_blank", [["12337"]], ["123370"], 1, AON) == (0, Outcome.wrong)
    assert mark("fill_blank", [["12337"]], ["1233"], 1, AON) == (0, Outcome.wrong)


def test_fill_blank_blank_responses() -> None:
    assert mark("fill_blank", BLANKS, ["", ""], 2, AON) == (0, Outcome.blank)
    assert mark("fill_blank", BLANKS, ["  ", "\u3000"], 2, AON) == (0, Outcome.blank)
    assert mark("fill_blank", BLANKS, None, 2, AON) == (0, Outcome.blank)
    # One blank filled (wrongly) is an answer, not a blank.
    assert mark("fill_blank", BLANKS, ["x", ""], 2, AON) == (0, Outcome.wrong)


def test_is_blank() -> None:
    assert is_blank(None)
    assert is_blank([])
    assert is_blank(["", " "])
    assert not is_blank(["", "x"])
    assert not is_blank("a")
    assert not is_blank(["a"])
    assert not is_blank(True)
    assert not is_blank(False)


def test_unknown_type_raises() -> None:
    with pytest.raises(ValueError, match="unknown question type"):
        mark("essay", "x", "x", 1, AON)


# ---------------------------------------------------------------- passed


def test_passed_threshold_is_inclusive_and_exact() -> None:
    assert passed(6000, 10000, 60)
    assert not passed(5999, 10000, 60)
    assert passed(4800, 8000, 60)
    assert not passed(4799, 8000, 60)
    assert passed(0, 8000, 0)
    assert passed(8000, 8000, 100)
    assert not passed(7999, 8000, 100)
    # 2/3 of the marks is 66.67 %: passes 66, fails 67.
    assert passed(2000, 3000, 66)
    assert not passed(2000, 3000, 67)


# ---------------------------------------------------------------- response shapes


@pytest.mark.parametrize(
    ("qtype", "response", "code"),
    [
        ("single", None, None),
        ("single", "a", None),
        ("single", "z", "unknown_option"),
        ("single", 1, "response_not_option_id"),
        ("single", ["a"], "response_not_option_id"),
        ("single", True, "response_not_option_id"),
        ("single", {"id": "a"}, "response_not_option_id"),
        ("multiple", None, None),
        ("multiple", [], None),
        ("multiple", ["a", "b"], None),
        ("multiple", "a", "response_not_option_list"),
        ("multiple", ["a", 1], "response_not_option_list"),
        ("multiple", [["a"]], "response_not_option_list"),
        ("multiple", ["a", "a"], "duplicate_option"),
        ("multiple", ["a", "z"], "unknown_option"),
        ("true_false", None, None),
        ("true_false", True, None),
        ("true_false", False, None),
        ("true_false", 1, "response_not_boolean"),
        ("true_false", 0, "response_not_boolean"),
        ("true_false", "true", "response_not_boolean"),
        ("true_false", [True], "response_not_boolean"),
        ("fill_blank", None, None),
        ("fill_blank", ["x", "y"], None),
        ("fill_blank", ["", ""], None),
        ("fill_blank", "x", "response_not_text_list"),
        ("fill_blank", ["x", 2], "response_not_text_list"),
        ("fill_blank", ["x"], "wrong_blank_count"),
        ("fill_blank", ["x", "y", "z"], "wrong_blank_count"),
        ("fill_blank", ["x" * MAX_BLANK_LENGTH, "y"], None),
        ("fill_blank", ["x" * (MAX_BLANK_LENGTH + 1), "y"], "blank_too_long"),
        ("essay", "x", "unknown_question_type"),
    ],
)
def test_response_error(qtype: str, response: Any, code: str | None) -> None:
    blanks = 2 if qtype == "fill_blank" else 0
    options = {"a", "b", "c"} if qtype in ("single", "multiple") else set()
    assert response_error(qtype, response, options, blanks) == code


# ---------------------------------------------------------------- properties

option_ids = st.sampled_from(["a", "b", "c", "d", "e", "f"])
points_st = st.integers(min_value=1, max_value=100)
mode_st = st.sampled_from(MODES)


@st.composite
def multiple_case(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    key = draw(st.lists(option_ids, min_size=1, max_size=6, unique=True))
    response = draw(st.lists(option_ids, max_size=6, unique=True))
    return key, response


@given(multiple_case(), points_st, mode_st)
def test_multiple_mark_is_within_range_and_consistent(
    case: tuple[list[str], list[str]], points: int, mode: str
) -> None:
    key, response = case
    awarded, outcome = mark("multiple", key, response, points, mode)
    assert 0 <= awarded <= points * MILLI
    assert (outcome == Outcome.correct) == (awarded == points * MILLI)
    if outcome in (Outcome.wrong, Outcome.blank):
        assert awarded == 0
    if outcome == Outcome.partial:
        assert 0 < awarded < points * MILLI


@given(multiple_case(), points_st, mode_st)
def test_full_correct_multiple_always_gets_full_marks(
    case: tuple[list[str], list[str]], points: int, mode: str
) -> None:
    key, _ = case
    shuffled = list(reversed(key))
    assert mark("multiple", key, shuffled, points, mode) == (points * MILLI, Outcome.correct)


@given(multiple_case(), option_ids, points_st, mode_st)
def test_adding_a_wrong_option_never_increases_the_mark(
    case: tuple[list[str], list[str]], extra: str, points: int, mode: str
) -> None:
    key, response = case
    assume(extra not in key and extra not in response)
    before, _ = mark("multiple", key, response, points, mode)
    after, outcome = mark("multiple", key, [*response, extra], points, mode)
    assert after <= before
    assert after == 0 and outcome == Outcome.wrong  # any wrong option -> 0


@given(multiple_case(), option_ids, points_st, mode_st)
def test_adding_a_correct_option_never_decreases_the_mark(
    case: tuple[list[str], list[str]], extra: str, points: int, mode: str
) -> None:
    key, response = case
    assume(extra in key and extra not in response)
    before, _ = mark("multiple", key, response, points, mode)
    after, _ = mark("multiple", key, [*response, extra], points, mode)
    assert after >= before


@given(multiple_case(), points_st)
def test_scoring_modes_order(case: tuple[list[str], list[str]], points: int) -> None:
    """all-or-nothing never beats the lenient modes; partial beats half exactly when at least half is chosen.

    For a non-empty strict subset of k of the n key options, partial gives k/n and half 1/2 of the
    points; every other response (blank, full, any wrong option) is marked the same in all modes.
    """
    key, response = case
    aon, _ = mark("multiple", key, response, points, AON)
    part, _ = mark("multiple", key, response, points, PARTIAL)
    half, _ = mark("multiple", key, response, points, HALF)
    assert aon <= part and aon <= half
    chosen, keyset = set(response), set(key)
    if chosen and chosen < keyset:
        assert aon == 0
        assert half == (points * MILLI + 1) // 2
        if 2 * len(chosen) >= len(keyset):
            assert part >= half
        else:
            assert part <= half
        # Exact: k/n of the points in thousandths, rounded half up.
        assert abs(part * len(keyset) - points * MILLI * len(chosen)) * 2 <= len(keyset)
    else:
        assert aon == part == half


blank_text = st.text(alphabet=st.sampled_from("abcABC１２３ 　\t月日"), max_size=6)


@st.composite
def fill_case(draw: st.DrawFn) -> tuple[list[list[str]], list[str]]:
    answer = draw(
        st.lists(
            st.lists(blank_text.filter(lambda t: normalise_blank(t) != ""), min_size=1, max_size=3),
            min_size=1,
            max_size=4,
        )
    )
    response = draw(st.lists(blank_text, min_size=len(answer), max_size=len(answer)))
    return answer, response


@given(fill_case(), points_st)
def test_fill_blank_mark_is_within_range(case: tuple[list[list[str]], list[str]], points: int) -> None:
    answer, response = case
    awarded, outcome = mark("fill_blank", answer, response, points, AON)
    assert 0 <= awarded <= points * MILLI
    right = sum(
        normalise_blank(r) in {normalise_blank(a) for a in alts}
        for r, alts in zip(response, answer, strict=True)
    )
    if outcome != Outcome.blank:
        assert abs(awarded * len(answer) - points * MILLI * right) * 2 <= len(answer)


@given(fill_case(), points_st, st.data())
def test_fill_blank_full_correct_gets_full_marks_however_it_is_typed(
    case: tuple[list[list[str]], list[str]], points: int, data: st.DataObject
) -> None:
    answer, _ = case
    # Pick any listed alternative per blank and disguise it: upper case, full-width, spaces.
    response = []
    for alternatives in answer:
        text = data.draw(st.sampled_from(alternatives))
        disguised = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text.upper())
        response.append(f" {disguised}　")
    assert mark("fill_blank", answer, response, points, AON) == (points * MILLI, Outcome.correct)


@given(st.sampled_from(["a", "b", "c"]), st.sampled_from(["a", "b", "c"]), points_st, mode_st)
def test_single_mark_range(key: str, response: str, points: int, mode: str) -> None:
    awarded, outcome = mark("single", key, response, points, mode)
    assert awarded == (points * MILLI if key == response else 0)
    assert outcome == (Outcome.correct if key == response else Outcome.wrong)


@given(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(0, 100))
def test_passed_matches_percentage(score: int, maximum: int, percent: int) -> None:
    assume(score <= maximum)
    assert passed(score, maximum, percent) == (Fraction(score, maximum) * 100 >= percent)
