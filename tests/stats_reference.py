"""The item analysis as first written, one attempt and one item at a time in plain Python: the oracle
that app.stats.formulas (vectorised with numpy) must agree with."""

import itertools
import math
import operator
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from app.stats.formulas import (
    SMALL_SAMPLE_BELOW,
    AttemptMarks,
    ItemAnalysis,
    QuestionStats,
    SlotStats,
    TestStats,
    _flags,
    describe,
)


@dataclass(slots=True)
class _Item:
    """One question's (or one slot's) values, one entry per appearance, in attempt-id order."""

    fractions: list[float] = field(default_factory=list)  # x: mark / max
    rests: list[float] = field(default_factory=list)  # X: the rest of the test in % of its max, or NaN
    shares: list[float] = field(default_factory=list)  # slots only: 100·mark / Σmax, the slot's part of T
    question_ids: set[int] = field(default_factory=set)  # slots only: the questions drawn there
    slots: set[Hashable] = field(default_factory=set)  # questions only: where they appeared


def reference_item_analysis(attempts: Sequence[AttemptMarks]) -> ItemAnalysis:
    """Moodle's test and item statistics over the given attempts (one per officer, as the caller chose).

    Every mark must satisfy 0 ≤ mark ≤ max_mark with max_mark > 0, and attempt ids must be unique
    (ValueError otherwise). An attempt with no slots has no score and is left out.
    """
    ordered = sorted(attempts, key=lambda a: a.attempt_id)  # results never depend on the input order
    for before, after in itertools.pairwise(ordered):
        if before.attempt_id == after.attempt_id:
            raise ValueError(f"attempt {after.attempt_id} is given twice")

    slot_items: dict[Hashable, _Item] = {}  # in paper order: first appearance
    question_items: dict[int, _Item] = {}
    percents: list[float] = []  # T: each attempt's score in % of its maximum
    for attempt in ordered:
        paper = attempt.slots
        if not paper:
            continue
        marks = [m.mark for m in paper.values()]
        maxima = [m.max_mark for m in paper.values()]
        total_mark = math.fsum(marks)
        total_max = math.fsum(maxima)
        # NaN and infinities make a total non-finite; then 0 ≤ mark ≤ max with max > 0 for each slot.
        if not (
            math.isfinite(total_mark)
            and math.isfinite(total_max)
            and min(marks) >= 0
            and min(maxima) > 0
            and not any(map(operator.gt, marks, maxima))
        ):
            raise ValueError(f"attempt {attempt.attempt_id}: need 0 ≤ mark ≤ max_mark and max_mark > 0")
        percents.append(total_mark * 100 / total_max)
        fractions = list(map(operator.truediv, marks, maxima))
        # NaN marks a paper where this is the only item: there is no rest of the test.
        rests = [
            (total_mark - mark) * 100 / (total_max - top) if total_max > top else math.nan
            for mark, top in zip(marks, maxima, strict=True)
        ]
        shares = [mark * 100 / total_max for mark in marks]
        for key, slot_mark, fraction, rest, share in zip(
            paper, paper.values(), fractions, rests, shares, strict=True
        ):
            slot = slot_items.get(key)
            if slot is None:
                slot = slot_items[key] = _Item()
            question = question_items.get(slot_mark.question_id)
            if question is None:
                question = question_items[slot_mark.question_id] = _Item()
            slot.fractions.append(fraction)
            slot.rests.append(rest)
            slot.shares.append(share)
            slot.question_ids.add(slot_mark.question_id)
            question.fractions.append(fraction)
            question.rests.append(rest)

    slot_order = {key: position for position, key in enumerate(slot_items)}
    for key, slot in slot_items.items():
        for question_id in slot.question_ids:
            question_items[question_id].slots.add(key)
    test = _test_stats(percents, [slot.shares for slot in slot_items.values()])
    slots = [
        SlotStats(slot=key, question_ids=tuple(sorted(slot.question_ids)), **_figures(slot))
        for key, slot in slot_items.items()
    ]
    questions = [
        QuestionStats(
            question_id=question_id,
            slots=tuple(sorted(question_items[question_id].slots, key=slot_order.__getitem__)),
            **_figures(question_items[question_id]),
        )
        for question_id in sorted(
            question_items, key=lambda q: (min(map(slot_order.__getitem__, question_items[q].slots)), q)
        )
    ]
    return ItemAnalysis(test=test, questions=questions, slots=slots)


def _test_stats(percents: list[float], slot_shares: list[list[float]]) -> TestStats:
    n = len(percents)
    summary = describe(percents)
    cic = error_ratio = standard_error = None
    p = len(slot_shares)
    # Moodle computes the CIC only with more than two attempts and a total that varies.
    if p >= 2 and n >= 3 and summary.sd:
        total_variance = _sum_of_squares(percents)
        # A slot missing from an attempt counts 0 there (see the module doc).
        slot_variances = math.fsum(_sum_of_squares(v + [0.0] * (n - len(v))) for v in slot_shares)
        cic = 100 * p / (p - 1) * (1 - slot_variances / total_variance)
        # Mathematically CIC ≤ 100; max() only absorbs rounding noise at that bound.
        error_ratio = 100 * math.sqrt(max(0.0, 1 - cic / 100))
        standard_error = error_ratio * summary.sd / 100
    return TestStats(
        count=n,
        small_sample=n < SMALL_SAMPLE_BELOW,
        mean=summary.mean,
        median=summary.median,
        sd=summary.sd,
        skewness=summary.skewness,
        kurtosis=summary.kurtosis,
        cic=cic,
        error_ratio=error_ratio,
        standard_error=standard_error,
    )


def _sum_of_squares(values: Sequence[float]) -> float:
    """Σ(v − mean)²; the 1/(n − 1) of a variance cancels wherever this is used in a ratio."""
    if min(values) == max(values):
        return 0.0
    mean = math.fsum(values) / len(values)
    deviations = [v - mean for v in values]
    return math.fsum(map(operator.mul, deviations, deviations))


class _Figures(TypedDict):
    count: int
    facility: float
    sd: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    flags: tuple[str, ...]


def _figures(item: _Item) -> _Figures:
    x, rest = item.fractions, item.rests
    n = len(x)
    total = math.fsum(x)
    facility = total * 100 / n
    constant = min(x) == max(x)  # tested exactly: a float mean may not equal the common value
    mean = total / n
    dx = [v - mean for v in x]
    sum_squares_x = 0.0 if constant else _sum_of_products(dx, dx)
    sd = 100 * math.sqrt(sum_squares_x / (n - 1)) if n >= 2 else None
    if any(map(math.isnan, rest)):  # papers where this was the only item have no rest of the test
        kept = [(a, b) for a, b in zip(x, rest, strict=True) if not math.isnan(b)]
        x, rest = [a for a, _ in kept], [b for _, b in kept]
        constant = not x or min(x) == max(x)
        if not constant:
            mean = math.fsum(x) / len(x)
            dx = [v - mean for v in x]
            sum_squares_x = _sum_of_products(dx, dx)
    index, efficiency = (None, None) if constant else _discrimination(dx, sum_squares_x, rest)
    return _Figures(
        count=n,
        facility=facility,
        sd=sd,
        discrimination_index=index,
        discriminative_efficiency=efficiency,
        flags=_flags(n, facility, sd, index),
    )


def _sum_of_products(a: list[float], b: list[float]) -> float:
    # Plain float sum: the error (~1e-13 relative) is far below what is shown, and the order of the terms
    # is fixed (attempts sorted by id), so results still never depend on the order of the input.
    total: float = sum(map(operator.mul, a, b))
    return total


def _discrimination(
    dx: list[float], sum_squares_x: float, rest: list[float]
) -> tuple[float | None, float | None]:
    """Discrimination index and discriminative efficiency of an item (deviations dx from its mean,
    which varies) against the rest of the test."""
    n = len(rest)
    if n < 2 or min(rest) == max(rest) or sum_squares_x == 0.0:  # 0.0 only if the deviations underflow
        return None, None
    mean_rest = math.fsum(rest) / n
    drest = [v - mean_rest for v in rest]
    sum_squares_rest = _sum_of_products(drest, drest)
    if sum_squares_rest == 0.0:
        return None, None
    # Sums of products: the common 1/(n − 1) of (co)variances cancels in both ratios.
    covariance = _sum_of_products(dx, drest)
    index = 100 * covariance / (math.sqrt(sum_squares_x) * math.sqrt(sum_squares_rest))
    # Sorting each series on its own pairs them for the largest covariance they allow.
    covariance_max = _sum_of_products(sorted(dx), sorted(drest))
    efficiency = 100 * covariance / covariance_max if covariance_max > 0 else None
    return index, efficiency
