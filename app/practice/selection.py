"""Choosing practice questions, and the wrong-answer book's review schedule: pure functions.

Everything here takes plain data and is deterministic for a given seed (app.core.fair_random), so a
practice session can be recomputed from the officer's history at the time, the bank and its seed.

Wrong-answer book (错题本), keyed by bank question:
- A wrong answer (outcome wrong, partial or blank) in practice, or in a finished quiz, puts the
  question in the book, or keeps it there: wrong_count + 1, right_streak = 0, due at once.
- A right answer (outcome correct) to a question in the book: right_streak + 1. At CLEAR_AFTER (2)
  right answers in a row after the last wrong one the question leaves the book (cleared). Before
  that it is due again review_interval(right_streak) later: the intervals grow, 1 day after the
  first right answer, then 3, 7 and 14 days (only the first is reached while CLEAR_AFTER is 2).
  A right answer to a question that is not in the book changes nothing.
- Blank counts as wrong: an unanswered quiz question is one the officer did not know.

Modes (count = how many questions the session asks for; never more than exist, never a repeat):
- area: the area's questions (with its sub-areas). Questions this officer has never answered right
  come first, in seeded random order; then the ones already answered right, also shuffled.
- wrong_book: the officer's wrong-book questions, due ones first (most overdue first), then the
  rest by how soon they fall due (ties by question id).
- weak: first the due wrong-book questions, most overdue first, taking at most half the session
  (ceil(count / 2)); the remaining places are shared among knowledge areas in proportion to
  area_weight(mastery of the area):
      weight = 1                            when the officer has answered nothing in the area
      weight = max(1/10, 1 - mastery)       otherwise (mastery = points awarded / points possible)
  so an area never answered counts as weakest, and a fully mastered area still gets a tenth of the
  share of the weakest. The shares are handed out by allocate() (largest remainders; an area with
  too few questions gives all it has and the others share the rest). Within an area, questions never
  answered right come first. Areas are the questions' own knowledge areas (not their parents).
  The due questions lead the session; the rest follow in seeded random order.
"""

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from app.core.fair_random import HashStream

CLEAR_AFTER = 2
REVIEW_INTERVALS = (timedelta(days=1), timedelta(days=3), timedelta(days=7), timedelta(days=14))
WEIGHT_FLOOR = Fraction(1, 10)
UNKNOWN_WEIGHT = Fraction(1)
REVIEW_SHARE = Fraction(1, 2)  # of a weak-areas session, at most this much goes to due reviews


@dataclass(frozen=True)
class Candidate:
    """An active question that may be served, with its own knowledge area."""

    question_id: int
    area_id: int


@dataclass(frozen=True)
class BookEntry:
    """A question in the officer's wrong-answer book (cleared entries are not passed in)."""

    question_id: int
    due_at: datetime


@dataclass(frozen=True)
class BookState:
    wrong_count: int
    right_streak: int
    last_wrong_at: datetime
    due_at: datetime
    cleared: bool = False


# ---------------------------------------------------------------- the review schedule


def review_interval(right_streak: int) -> timedelta:
    """How long after its n-th right answer in a row (n >= 1) a book entry is due again."""
    if right_streak < 1:
        raise ValueError("right_streak must be at least 1")
    return REVIEW_INTERVALS[min(right_streak, len(REVIEW_INTERVALS)) - 1]


def is_right(outcome: str) -> bool:
    """Only a fully correct answer counts as right; partial and blank count as wrong."""
    return outcome == "correct"


def after_answer(state: BookState | None, right: bool, now: datetime) -> BookState | None:
    """The book entry after one more answer (None: the question is not in the book)."""
    if not right:
        wrong_count = state.wrong_count + 1 if state is not None else 1
        return BookState(wrong_count, 0, now, now)
    if state is None or state.cleared:
        return state
    streak = state.right_streak + 1
    if streak >= CLEAR_AFTER:
        return BookState(state.wrong_count, streak, state.last_wrong_at, state.due_at, cleared=True)
    return BookState(state.wrong_count, streak, state.last_wrong_at, now + review_interval(streak))


# ---------------------------------------------------------------- choosing questions


def area_weight(mastery: Fraction | None) -> Fraction:
    if mastery is None:
        return UNKNOWN_WEIGHT
    return max(WEIGHT_FLOOR, 1 - mastery)


def _rank(seed: str, label: str, keys: Iterable[int]) -> dict[int, int]:
    return {k: i for i, k in enumerate(HashStream(seed, label).shuffle(sorted(set(keys))))}


def allocate(
    weights: Mapping[int, Fraction], available: Mapping[int, int], total: int, seed: str
) -> dict[int, int]:
    """Share `total` places among areas in proportion to their weights, no area above what it has.

    Largest remainders (Hamilton) with caps: every area's quota is places x weight / total weight;
    an area whose quota reaches what it has gets all it has and leaves, and the quotas of the others
    are worked out again for the places left. Then each area gets the whole part of its quota, and
    the places still free go one each to the largest fractional parts (ties in a seeded order).
    The result sums to min(total, sum(available)).
    """
    areas = sorted(a for a, n in available.items() if n > 0)
    if any(weights[a] <= 0 for a in areas):
        raise ValueError("weights must be positive")
    places = min(max(total, 0), sum(available[a] for a in areas))
    given: dict[int, int] = {}
    while True:
        open_areas = [a for a in areas if a not in given]
        seats = places - sum(given.values())
        total_weight = sum((weights[a] for a in open_areas), Fraction(0))
        quota = {a: seats * weights[a] / total_weight for a in open_areas}
        full = [a for a in open_areas if quota[a] >= available[a]]
        if not full:
            break
        for a in full:
            given[a] = available[a]
    for a in open_areas:
        given[a] = math.floor(quota[a])
    rank = _rank(seed, "areas", areas)
    leftover = places - sum(given.values())
    by_remainder = sorted(open_areas, key=lambda a: (-(quota[a] - given[a]), rank[a]))
    for a in by_remainder[:leftover]:
        given[a] += 1
    return {a: given[a] for a in areas}


def _prefer_unmastered(ids: Iterable[int], correct: Collection[int], seed: str, label: str) -> list[int]:
    unique = sorted(set(ids))
    fresh = [q for q in unique if q not in correct]
    known = [q for q in unique if q in correct]
    return HashStream(seed, f"{label}:fresh").shuffle(fresh) + HashStream(seed, f"{label}:known").shuffle(
        known
    )


def pick_area(candidates: Iterable[int], correct: Collection[int], count: int, seed: str) -> list[int]:
    """Area mode: questions never answered right first, each group in seeded random order."""
    return _prefer_unmastered(candidates, correct, seed, "area")[: max(count, 0)]


def _by_due(entries: Iterable[BookEntry], now: datetime) -> list[BookEntry]:
    earliest: dict[int, BookEntry] = {}
    for e in entries:
        if e.question_id not in earliest or e.due_at < earliest[e.question_id].due_at:
            earliest[e.question_id] = e
    return sorted(earliest.values(), key=lambda e: (e.due_at > now, e.due_at, e.question_id))


def pick_wrong_book(entries: Iterable[BookEntry], now: datetime, count: int) -> list[int]:
    """Wrong-book mode: due entries first, most overdue first, then the rest by due time."""
    return [e.question_id for e in _by_due(entries, now)][: max(count, 0)]


def pick_weak(
    candidates: Sequence[Candidate],
    mastery: Mapping[int, Fraction],
    entries: Iterable[BookEntry],
    correct: Collection[int],
    now: datetime,
    count: int,
    seed: str,
) -> list[int]:
    """Weak-areas mode (see the module docstring). `mastery` leaves out areas never answered."""
    area_of: dict[int, int] = {}
    for c in sorted(candidates, key=lambda c: (c.question_id, c.area_id)):
        area_of.setdefault(c.question_id, c.area_id)
    count = min(max(count, 0), len(area_of))
    due = [e for e in _by_due(entries, now) if e.question_id in area_of and e.due_at <= now]
    review = [e.question_id for e in due[: math.ceil(count * REVIEW_SHARE)]]
    in_review = set(review)
    pools: dict[int, list[int]] = {}
    for qid, area in area_of.items():
        if qid not in in_review:
            pools.setdefault(area, []).append(qid)
    shares = allocate(
        {a: area_weight(mastery.get(a)) for a in pools},
        {a: len(ids) for a, ids in pools.items()},
        count - len(review),
        seed,
    )
    picked: list[int] = []
    for area in sorted(pools):
        picked += _prefer_unmastered(pools[area], correct, seed, f"weak:area{area}")[: shares[area]]
    return review + HashStream(seed, "weak:order").shuffle(sorted(picked))
