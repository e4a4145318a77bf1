"""Practice selection and the wrong-answer book's schedule (app/practice/selection.py): pure functions."""

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.practice.selection import (
    CLEAR_AFTER,
    UNKNOWN_WEIGHT,
    WEIGHT_FLOOR,
    BookEntry,
    BookState,
    Candidate,
    after_answer,
    allocate,
    area_weight,
    is_right,
    pick_area,
    pick_weak,
    pick_wrong_book,
    review_interval,
)

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def areas_of(candidates: list[Candidate]) -> dict[int, int]:
    return {c.question_id: c.area_id for c in candidates}


def bank(sizes: dict[int, int]) -> list[Candidate]:
    """`sizes[area]` questions per area, ids area*100 + i."""
    return [Candidate(area * 100 + i, area) for area, n in sizes.items() for i in range(n)]


# ---------------------------------------------------------------- weights and allocation


def test_area_weight_unknown_is_weakest_and_mastered_keeps_a_floor() -> None:
    assert area_weight(None) == UNKNOWN_WEIGHT == area_weight(Fraction(0)) == 1
    assert area_weight(Fraction(1, 4)) == Fraction(3, 4)
    assert area_weight(Fraction(1)) == WEIGHT_FLOOR == Fraction(1, 10)
    assert area_weight(Fraction(19, 20)) == WEIGHT_FLOOR


def test_allocate_by_hand() -> None:
    # 3 : 1 of 8 places.
    assert allocate({1: Fraction(3, 4), 2: Fraction(1, 4)}, {1: 20, 2: 20}, 8, "s") == {1: 6, 2: 2}
    # An area short of questions gives its unused share away.
    assert allocate({1: Fraction(3, 4), 2: Fraction(1, 4)}, {1: 2, 2: 20}, 8, "s") == {1: 2, 2: 6}
    # Never more than exists.
    assert allocate({1: Fraction(1), 2: Fraction(1)}, {1: 1, 2: 2}, 10, "s") == {1: 1, 2: 2}
    # Areas with nothing to give are left out.
    assert allocate({1: Fraction(1), 2: Fraction(1)}, {1: 0, 2: 5}, 3, "s") == {2: 3}
    # Fewer places than areas: the heaviest get one each.
    shares = allocate({1: Fraction(1, 10), 2: Fraction(1), 3: Fraction(1, 2)}, {1: 5, 2: 5, 3: 5}, 2, "s")
    assert shares == {1: 0, 2: 1, 3: 1}


def test_allocate_ties_follow_the_seed() -> None:
    weights = dict.fromkeys(range(1, 7), Fraction(1))
    available = dict.fromkeys(range(1, 7), 3)
    winners = {
        frozenset(a for a, n in allocate(weights, available, 1, f"seed{i}").items() if n) for i in range(40)
    }
    assert len(winners) > 1  # not always the lowest id
    assert allocate(weights, available, 1, "x") == allocate(weights, available, 1, "x")


weights_st = st.fractions(min_value=Fraction(1, 10), max_value=1, max_denominator=20)


@st.composite
def allocation_case(draw: st.DrawFn) -> tuple[dict[int, Fraction], dict[int, int], int, str]:
    areas = draw(st.lists(st.integers(1, 30), min_size=1, max_size=8, unique=True))
    weights = {a: draw(weights_st) for a in areas}
    available = {a: draw(st.integers(0, 15)) for a in areas}
    return weights, available, draw(st.integers(0, 60)), draw(st.text(max_size=8))


@given(allocation_case())
def test_allocate_properties(case: tuple[dict[int, Fraction], dict[int, int], int, str]) -> None:
    weights, available, total, seed = case
    shares = allocate(weights, available, total, seed)
    assert sum(shares.values()) == min(total, sum(available.values()))
    assert all(0 <= shares[a] <= available[a] for a in shares)
    assert set(shares) == {a for a, n in available.items() if n > 0}
    for a in shares:
        for b in shares:
            if weights[a] > weights[b]:
                # A weaker area gets at least as much, unless it has run out of questions.
                assert shares[a] >= shares[b] or shares[a] == available[a]
    assert allocate(weights, available, total, seed) == shares


@given(allocation_case())
def test_allocate_is_close_to_proportional_without_caps(
    case: tuple[dict[int, Fraction], dict[int, int], int, str],
) -> None:
    weights, _, total, seed = case
    plenty = dict.fromkeys(weights, 100)
    shares = allocate(weights, plenty, total, seed)
    whole = sum(weights.values())
    for a, n in shares.items():
        assert abs(n - total * weights[a] / whole) < 1


# ---------------------------------------------------------------- area mode


def test_pick_area_prefers_questions_never_answered_right() -> None:
    ids = list(range(1, 21))
    right = set(range(1, 16))
    picked = pick_area(ids, right, 8, "seed")
    assert len(picked) == 8 and len(set(picked)) == 8
    assert picked[:5] and set(picked[:5]) == {16, 17, 18, 19, 20}
    assert set(picked[5:]) <= right
    assert pick_area(ids, right, 8, "seed") == picked
    assert pick_area(ids, right, 100, "seed")[:5] == picked[:5]
    assert len(pick_area(ids, right, 100, "seed")) == 20


def test_pick_area_shuffles_with_the_seed() -> None:
    ids = list(range(50))
    assert len({tuple(pick_area(ids, set(), 10, f"s{i}")) for i in range(5)}) == 5


@given(
    st.lists(st.integers(1, 200), max_size=60),
    st.sets(st.integers(1, 200), max_size=60),
    st.integers(0, 80),
    st.text(max_size=8),
)
def test_pick_area_properties(ids: list[int], right: set[int], count: int, seed: str) -> None:
    picked = pick_area(ids, right, count, seed)
    assert len(picked) == min(count, len(set(ids)))
    assert len(set(picked)) == len(picked)
    assert set(picked) <= set(ids)
    fresh = [q for q in picked if q not in right]
    assert picked[: len(fresh)] == fresh  # never-right ones lead
    assert len(fresh) == min(count, len(set(ids) - right))
    assert pick_area(ids, right, count, seed) == picked


# ---------------------------------------------------------------- wrong-book mode


def test_pick_wrong_book_due_first_most_overdue_first() -> None:
    entries = [
        BookEntry(1, NOW + timedelta(days=1)),
        BookEntry(2, NOW - timedelta(hours=1)),
        BookEntry(3, NOW - timedelta(days=2)),
        BookEntry(4, NOW + timedelta(hours=2)),
        BookEntry(5, NOW),
    ]
    assert pick_wrong_book(entries, NOW, 10) == [3, 2, 5, 4, 1]
    assert pick_wrong_book(entries, NOW, 2) == [3, 2]
    assert pick_wrong_book([], NOW, 5) == []


@given(
    st.lists(st.tuples(st.integers(1, 40), st.integers(-100, 100)), max_size=50),
    st.integers(0, 60),
)
def test_pick_wrong_book_properties(raw: list[tuple[int, int]], count: int) -> None:
    entries = [BookEntry(q, NOW + timedelta(hours=h)) for q, h in raw]
    picked = pick_wrong_book(entries, NOW, count)
    distinct = {q for q, _ in raw}
    assert len(picked) == min(count, len(distinct)) and len(set(picked)) == len(picked)
    due = {e.question_id for e in entries if e.due_at <= NOW}
    flags = [q in due for q in picked]
    assert flags == sorted(flags, reverse=True)  # every due one before any other
    assert len([q for q in picked if q in due]) == min(count, len(due))


# ---------------------------------------------------------------- weak-areas mode


def test_weak_areas_get_more_questions() -> None:
    candidates = bank({1: 30, 2: 30, 3: 30})
    mastery = {1: Fraction(1, 5), 2: Fraction(9, 10)}  # area 3 never answered
    picked = pick_weak(candidates, mastery, [], set(), NOW, 20, "seed")
    per_area = Counter(areas_of(candidates)[q] for q in picked)
    assert len(picked) == 20 and len(set(picked)) == 20
    # Weights 1 (unknown), 4/5 and 1/10: 20 places → about 10.8, 8.6 and 1.
    assert per_area[3] > per_area[1] > per_area[2] >= 1
    assert per_area == {3: 11, 1: 8, 2: 1}


def test_weak_mastered_area_still_appears_and_short_areas_give_way() -> None:
    candidates = bank({1: 2, 2: 30})
    picked = pick_weak(candidates, {1: Fraction(0), 2: Fraction(1)}, [], set(), NOW, 10, "seed")
    per_area = Counter(areas_of(candidates)[q] for q in picked)
    assert per_area == {1: 2, 2: 8}


def test_weak_due_reviews_come_first_and_take_at_most_half() -> None:
    candidates = bank({1: 10, 2: 10})
    entries = [
        BookEntry(205, NOW - timedelta(days=3)),
        BookEntry(101, NOW - timedelta(days=1)),
        BookEntry(102, NOW - timedelta(hours=1)),
        BookEntry(103, NOW - timedelta(minutes=1)),
        BookEntry(104, NOW + timedelta(days=1)),  # not due yet
        BookEntry(999, NOW - timedelta(days=9)),  # retired question: not a candidate
    ]
    picked = pick_weak(candidates, {}, entries, set(), NOW, 6, "seed")
    assert picked[:3] == [205, 101, 102]  # ceil(6 / 2) = 3 places for due reviews, most overdue first
    assert len(picked) == 6 and len(set(picked)) == 6 and 999 not in picked
    # With room, every due question leads.
    picked = pick_weak(candidates, {}, entries, set(), NOW, 10, "seed")
    assert picked[:4] == [205, 101, 102, 103]
    # One place: the most overdue.
    assert pick_weak(candidates, {}, entries, set(), NOW, 1, "seed") == [205]


def test_weak_prefers_questions_never_answered_right_within_an_area() -> None:
    candidates = bank({1: 10})
    right = {100 + i for i in range(7)}
    picked = pick_weak(candidates, {}, [], right, NOW, 3, "seed")
    assert set(picked) == {107, 108, 109}


def test_weak_is_deterministic_and_varies_with_the_seed() -> None:
    candidates = bank({1: 20, 2: 20, 3: 20})
    mastery = {1: Fraction(1, 2)}
    first = pick_weak(candidates, mastery, [], set(), NOW, 12, "a")
    assert pick_weak(candidates, mastery, [], set(), NOW, 12, "a") == first
    assert len({tuple(pick_weak(candidates, mastery, [], set(), NOW, 12, f"s{i}")) for i in range(5)}) > 1


@st.composite
def weak_case(
    draw: st.DrawFn,
) -> tuple[list[Candidate], dict[int, Fraction], list[BookEntry], set[int], int, str]:
    candidates = [
        Candidate(q, draw(st.integers(1, 6))) for q in draw(st.lists(st.integers(1, 120), max_size=60))
    ]
    mastery = {
        a: draw(st.fractions(0, 1, max_denominator=50)) for a in draw(st.sets(st.integers(1, 6), max_size=6))
    }
    entries = [
        BookEntry(q, NOW + timedelta(hours=h))
        for q, h in draw(st.lists(st.tuples(st.integers(1, 130), st.integers(-50, 50)), max_size=30))
    ]
    right = draw(st.sets(st.integers(1, 120), max_size=40))
    return candidates, mastery, entries, right, draw(st.integers(0, 70)), draw(st.text(max_size=6))


@given(weak_case())
def test_weak_properties(
    case: tuple[list[Candidate], dict[int, Fraction], list[BookEntry], set[int], int, str],
) -> None:
    candidates, mastery, entries, right, count, seed = case
    picked = pick_weak(candidates, mastery, entries, right, NOW, count, seed)
    servable = {c.question_id for c in candidates}
    assert len(picked) == min(count, len(servable))
    assert len(set(picked)) == len(picked)
    assert set(picked) <= servable
    due = {e.question_id for e in entries if e.due_at <= NOW and e.question_id in servable}
    leading = 0
    while leading < len(picked) and picked[leading] in due:
        leading += 1
    # Due reviews lead and take their share (at most half, as many as there are).
    assert leading >= min(math.ceil(len(picked) / 2), len(due))
    assert pick_weak(candidates, mastery, entries, right, NOW, count, seed) == picked


# ---------------------------------------------------------------- the review schedule


def test_review_schedule_wrong_right_right_clears() -> None:
    assert is_right("correct") and not any(is_right(o) for o in ("partial", "wrong", "blank"))
    state = after_answer(None, right=False, now=NOW)
    assert state == BookState(1, 0, NOW, NOW)  # due at once
    later = NOW + timedelta(hours=5)
    state = after_answer(state, right=True, now=later)
    assert state == BookState(1, 1, NOW, later + timedelta(days=1))
    again = later + timedelta(days=1)
    cleared = after_answer(state, right=True, now=again)
    assert cleared is not None and cleared.cleared and cleared.right_streak == CLEAR_AFTER == 2
    # A right answer after clearing, or for a question never in the book, changes nothing.
    assert after_answer(cleared, right=True, now=again) == cleared
    assert after_answer(None, right=True, now=again) is None
    # Missed again after clearing: back in the book, the count goes on.
    assert after_answer(cleared, right=False, now=again) == BookState(2, 0, again, again)


def test_review_schedule_wrong_resets_the_streak() -> None:
    state = after_answer(after_answer(None, right=False, now=NOW), right=True, now=NOW)
    assert state is not None and state.right_streak == 1
    state = after_answer(state, right=False, now=NOW + timedelta(hours=1))
    assert state == BookState(2, 0, NOW + timedelta(hours=1), NOW + timedelta(hours=1))


def test_review_intervals_grow() -> None:
    intervals = [review_interval(n) for n in range(1, 7)]
    assert intervals[:4] == [timedelta(days=d) for d in (1, 3, 7, 14)]
    assert intervals == sorted(intervals)
    with pytest.raises(ValueError):
        review_interval(0)
