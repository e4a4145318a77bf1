"""Pure statistics formulas: score descriptions, score bands and Moodle's quiz item analysis.

No I/O and no database: callers pass plain numbers and round the results themselves.

Sources (the definitions below follow them; where this app's setting differs, see "Choices"):
- Moodle docs, "Quiz statistics calculations": https://docs.moodle.org/dev/Quiz_statistics_calculations
  (the page moodle/moodle mod/quiz/report/statistics/classes/calculator.php cites) and, for reading the
  figures, "Quiz report statistics": https://docs.moodle.org/28/en/Development:Quiz_report_statistics
- moodle/moodle mod/quiz/report/statistics/classes/calculator.php: median, SD, skewness and kurtosis from
  the cumulants k2, k3, k4; coefficient of internal consistency, error ratio, standard error.
- moodle/moodle question/classes/statistics/questions/calculator.php: facility, SD, discrimination index,
  discriminative efficiency, and the sum of the slots' mark variances used by the CIC.
- moodle/moodle mod/quiz/report/statistics/statistics_table.php: an item's SD shown as sd / max mark; a
  question marked dubious when its discriminative efficiency is below 15.

Definitions (n values, d = value − mean; every variance and covariance divides by n − 1, as Moodle does):
  SD        = sqrt(Σd² / (n − 1))                                          n ≥ 2
  m_r       = Σd^r / n
  k2        = n·m2 / (n − 1)
  k3        = n²·m3 / ((n − 1)(n − 2))
  k4        = n²·((n + 1)·m4 − 3(n − 1)·m2²) / ((n − 1)(n − 2)(n − 3))
  skewness  = k3 / k2^(3/2)                                                n ≥ 3, values not all equal
  kurtosis  = k4 / k2²   (excess kurtosis: 0 for a normal curve)           n ≥ 4, values not all equal
  CIC       = 100 · P/(P − 1) · (1 − Σ_i V(x_i) / V(T))                    P ≥ 2 slots, n ≥ 3, V(T) ≠ 0
  ER        = 100 · sqrt(1 − CIC/100)          (error ratio)
  SE        = ER/100 · SD                      (standard error, in the units of SD)
  facility  = 100 · mean(x / max)
  item SD   = 100 · SD(x / max)
  discrimination index      = 100 · C(x, X) / sqrt(V(x)·V(X)), X = the score on the rest of the test
  discriminative efficiency = 100 · C(x, X) / C_max(x, X), C_max = the covariance of x and X once each
                              series is sorted on its own (the largest covariance those values allow):
                              at most 100; for a negative C it may fall below -100, as in Moodle
  Both are undefined (None) with fewer than 2 values or when x or X does not vary.

Choices where this app's setting differs from Moodle's:
- Units. In Moodle every attempt of a quiz has the same maximum mark per slot, so it works in raw marks.
  Here a rule may keep each question's own points, so maxima can differ between attempts. Hence: the test
  score T is 100·Σmark/Σmax of the attempt; a slot's share in the CIC is x_i = 100·mark/Σmax (so Σ_i x_i = T
  and the CIC stays a true Cronbach's alpha); an item's value is mark/max; the rest of the test is
  X = 100·(Σmark − mark)/(Σmax − max). When the maxima are the same in every attempt these are positive
  linear rescalings of Moodle's raw marks, so every figure equals Moodle's (mean, median, SD and standard
  error then read as % of the maximum, as Moodle's report shows them).
- Questions drawn at random. Moodle's per-question ("sub-question") figures correlate the item with the
  whole total, item included; here an item is always correlated with the rest of the test, as the docs
  define the index and as Moodle does for slots.
- A slot missing from an attempt counts 0 in the CIC's slot variances (in Moodle every attempt has every
  slot); this keeps Σ_i x_i = T, hence CIC ≤ 100.
- "Does not vary" is tested exactly (all values equal), not as Moodle's float k2 ≠ 0, so rounding noise in
  a constant series never yields a skewness or an index. (Values so close that their squared deviations
  underflow, ~1e-154 apart, count as equal.)
- Float arithmetic: totals and means use math.fsum; the item sums of products use plain sums (error
  ~1e-13 relative, far below the 2 decimals shown) in a fixed order (attempts sorted by id), so the
  results never depend on the order of the input.
- Every item must have a maximum above 0 (this app's points are positive); an empty paper is left out.
- Flags are this app's (Moodle only marks a question "dubious", when its efficiency is below 15):
  "too_easy" facility ≥ 90, "too_hard" facility ≤ 20, "small_sample" fewer than 10 attempts, and
  "not_discriminating" when the discrimination index is below 20 (the usual reading of item-analysis
  guides: below 20 is very weak, below 0 the question likely needs checking), or when the item does not
  vary at all (it separates no one). Moodle's dubious marker is implied: C_max ≤ sqrt(V(x)·V(X)), so
  efficiency ≥ index when C > 0, and an efficiency below 15 means an index below 15.
"""

import itertools
import math
import operator
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypedDict

SMALL_SAMPLE_BELOW = 10  # fewer scored attempts than this: flagged "small_sample", never hidden
TOO_EASY_FROM = 90.0  # facility ≥ this: "too_easy"
TOO_HARD_UP_TO = 20.0  # facility ≤ this: "too_hard"
WEAK_DISCRIMINATION_BELOW = 20.0  # discrimination index < this: "not_discriminating"

FLAG_TOO_EASY = "too_easy"
FLAG_TOO_HARD = "too_hard"
FLAG_NOT_DISCRIMINATING = "not_discriminating"
FLAG_SMALL_SAMPLE = "small_sample"

# Score bands: (key, lowest percent in the band); a band runs up to the next band's lowest percent.
BANDS: tuple[tuple[str, float], ...] = (
    ("0-59", 0.0),
    ("60-69", 60.0),
    ("70-79", 70.0),
    ("80-89", 80.0),
    ("90-100", 90.0),
)


class SlotMark(NamedTuple):
    """What one attempt scored on one slot of its paper."""

    question_id: int
    mark: float
    max_mark: float


@dataclass(frozen=True, slots=True)
class AttemptMarks:
    """One attempt's paper: slot key (e.g. (rule_position, ordinal)) → the question drawn and its mark."""

    attempt_id: int
    slots: Mapping[Hashable, SlotMark]


@dataclass(frozen=True, slots=True)
class Description:
    count: int
    mean: float | None
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None


@dataclass(frozen=True, slots=True)
class TestStats:
    """Whole-test figures; mean, median, sd and standard_error are in % of the attempt's maximum."""

    __test__ = False  # not a pytest test class, despite the name

    count: int
    small_sample: bool
    mean: float | None
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    cic: float | None
    error_ratio: float | None
    standard_error: float | None


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """One question over every attempt it appeared in, whichever slot drew it."""

    question_id: int
    slots: tuple[Hashable, ...]  # where it appeared, in paper order
    count: int
    facility: float
    sd: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SlotStats:
    """One position of the paper over every attempt, whichever question it drew (Moodle's slot row)."""

    slot: Hashable
    question_ids: tuple[int, ...]
    count: int
    facility: float
    sd: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ItemAnalysis:
    test: TestStats
    questions: list[QuestionStats]  # in paper order of the first slot they appeared in, then by id
    slots: list[SlotStats]  # in paper order (first appearance, attempts taken by ascending id)


# --- Descriptions ---------------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float | None:
    """The middle value; the mean of the two middle values for an even count (Moodle); None if empty."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return None
    middle = n // 2
    if n % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def describe(values: Sequence[float]) -> Description:
    """Count, mean, median, SD, skewness and kurtosis with Moodle's definitions (see the module doc)."""
    data = [float(v) for v in values]
    for value in data:
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
    n = len(data)
    if n == 0:
        return Description(0, None, None, None, None, None)
    # The division may round one step past the extremes (three times 0.469); the true mean never does.
    mean = min(max(math.fsum(data) / n, min(data)), max(data))
    sd, skewness, kurtosis = _spread(data, mean)
    return Description(n, mean, median(data), sd, skewness, kurtosis)


def _spread(data: Sequence[float], mean: float) -> tuple[float | None, float | None, float | None]:
    """SD, skewness and kurtosis from the sums of powers of the deviations (Moodle's quiz calculator)."""
    n = len(data)
    if n < 2:
        return None, None, None
    if min(data) == max(data):
        return 0.0, None, None
    deviations = [v - mean for v in data]
    squares = [d * d for d in deviations]
    power2 = math.fsum(squares)
    power3 = math.fsum(s * d for s, d in zip(squares, deviations, strict=True))
    power4 = math.fsum(s * s for s in squares)
    if power2 == 0.0:  # only when the deviations underflow
        return 0.0, None, None
    sd = math.sqrt(power2 / (n - 1))
    if n < 3:
        return sd, None, None
    m2, m3, m4 = power2 / n, power3 / n, power4 / n
    k2 = n * m2 / (n - 1)
    k3 = n * n * m3 / ((n - 1) * (n - 2))
    skewness = k3 / k2**1.5
    if n < 4:
        return sd, skewness, None
    k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3))
    return sd, skewness, k4 / (k2 * k2)


def score_bands(percents: Iterable[float]) -> dict[str, int]:
    """How many scores fall in each band: [0, 60) → "0-59", [60, 70) → "60-69", … [90, 100] → "90-100"."""
    counts = {key: 0 for key, _ in BANDS}
    for percent in percents:
        if not 0.0 <= percent <= 100.0:  # also refuses NaN
            raise ValueError(f"a score percentage must lie in [0, 100], got {percent!r}")
        band = BANDS[0][0]
        for key, lowest in BANDS:
            if percent >= lowest:
                band = key
        counts[band] += 1
    return counts


# --- Item analysis --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """One question's (or one slot's) values, one entry per appearance, in attempt-id order."""

    fractions: list[float] = field(default_factory=list)  # x: mark / max
    rests: list[float] = field(default_factory=list)  # X: the rest of the test in % of its max, or NaN
    shares: list[float] = field(default_factory=list)  # slots only: 100·mark / Σmax, the slot's part of T
    question_ids: set[int] = field(default_factory=set)  # slots only: the questions drawn there
    slots: set[Hashable] = field(default_factory=set)  # questions only: where they appeared


def item_analysis(attempts: Sequence[AttemptMarks]) -> ItemAnalysis:
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


def _flags(count: int, facility: float, sd: float | None, index: float | None) -> tuple[str, ...]:
    flags: list[str] = []
    if facility >= TOO_EASY_FROM:
        flags.append(FLAG_TOO_EASY)
    if facility <= TOO_HARD_UP_TO:
        flags.append(FLAG_TOO_HARD)
    if (index is not None and index < WEAK_DISCRIMINATION_BELOW) or sd == 0.0:
        flags.append(FLAG_NOT_DISCRIMINATING)
    if count < SMALL_SAMPLE_BELOW:
        flags.append(FLAG_SMALL_SAMPLE)
    return tuple(flags)
