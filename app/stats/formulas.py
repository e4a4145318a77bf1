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

import bisect
import itertools
import math
import operator
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypedDict

import numpy as np

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
_BAND_LOWEST = [lowest for _, lowest in BANDS]


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
    counts = [0] * len(BANDS)
    # Scores repeat (a city's officers share a few hundred distinct scores): place each value once.
    for percent, n in Counter(percents).items():
        if not 0.0 <= percent <= 100.0:  # also refuses NaN
            raise ValueError(f"a score percentage must lie in [0, 100], got {percent!r}")
        counts[bisect.bisect_right(_BAND_LOWEST, percent) - 1] += n
    return {key: count for (key, _), count in zip(BANDS, counts, strict=True)}


# --- Item analysis --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRows:
    """Every served item of the attempts to analyse, one row each, as parallel arrays: rows grouped by
    attempt (ascending id), each attempt's rows in paper order. `slot` codes stand for the keys in
    `slot_keys`; a paper holds each slot at most once."""

    attempt: "np.ndarray[Any, np.dtype[np.int64]]"
    slot: "np.ndarray[Any, np.dtype[np.int64]]"
    question: "np.ndarray[Any, np.dtype[np.int64]]"
    mark: "np.ndarray[Any, np.dtype[np.float64]]"
    max_mark: "np.ndarray[Any, np.dtype[np.float64]]"
    slot_keys: Mapping[int, Hashable]


def item_analysis(attempts: Sequence[AttemptMarks]) -> ItemAnalysis:
    """Moodle's test and item statistics over the given attempts (one per officer, as the caller chose).

    Every mark must satisfy 0 ≤ mark ≤ max_mark with max_mark > 0, and attempt ids must be unique
    (ValueError otherwise). An attempt with no slots has no score and is left out.
    """
    ordered = sorted(attempts, key=lambda a: a.attempt_id)  # results never depend on the input order
    for before, after in itertools.pairwise(ordered):
        if before.attempt_id == after.attempt_id:
            raise ValueError(f"attempt {after.attempt_id} is given twice")
    codes: dict[Hashable, int] = {}
    attempt_ids, slots, questions, marks, maxima = [], [], [], [], []
    for attempt in ordered:
        for key, slot_mark in attempt.slots.items():
            attempt_ids.append(attempt.attempt_id)
            slots.append(codes.setdefault(key, len(codes)))
            questions.append(slot_mark.question_id)
            marks.append(slot_mark.mark)
            maxima.append(slot_mark.max_mark)
    return analyse_rows(
        ItemRows(
            np.array(attempt_ids, dtype=np.int64),
            np.array(slots, dtype=np.int64),
            np.array(questions, dtype=np.int64),
            np.array(marks, dtype=np.float64),
            np.array(maxima, dtype=np.float64),
            {code: key for key, code in codes.items()},
        )
    )


def item_rows(table: "np.ndarray[Any, np.dtype[np.int64]]") -> ItemRows:
    """ItemRows from stored items, in any order: columns attempt id, rule position, position in the
    paper, question id, awarded milli-points and points. A slot is a rule's k-th question of the paper
    (k in paper order), like one of Moodle's random slots: key (rule position, k)."""
    table = table[np.lexsort((table[:, 2], table[:, 1], table[:, 0]))]
    attempt, rule, _, question, awarded, points = table.T
    size = len(table)
    starts = np.ones(size, dtype=bool)
    starts[1:] = (attempt[1:] != attempt[:-1]) | (rule[1:] != rule[:-1])
    positions = np.arange(size)
    ordinal = positions - np.maximum.accumulate(np.where(starts, positions, 0))
    width = int(ordinal.max()) + 1 if size else 1
    slot = rule * width + ordinal
    keys = {int(code): (int(code) // width, int(code) % width) for code in np.unique(slot)}
    return ItemRows(attempt, slot, question, awarded / 1000, points.astype(np.float64), keys)


def analyse_rows(rows: ItemRows) -> ItemAnalysis:
    """item_analysis over rows already laid out as arrays (what the service reads from the database)."""
    attempt_ids, per_row = np.unique(rows.attempt, return_inverse=True)
    n = len(attempt_ids)
    mark, top = rows.mark, rows.max_mark
    total_mark = np.bincount(per_row, mark, n)
    total_max = np.bincount(per_row, top, n)
    # 0 ≤ mark ≤ max with max > 0 and finite for every item, and finite totals (no overflow).
    bad_rows = ~(np.isfinite(mark) & np.isfinite(top)) | (mark < 0) | (top <= 0) | (mark > top)
    bad_attempts = np.union1d(per_row[bad_rows], np.flatnonzero(~np.isfinite(total_mark + total_max)))
    if len(bad_attempts):
        raise ValueError(
            f"attempt {int(attempt_ids[bad_attempts[0]])}: need 0 ≤ mark ≤ max_mark and max_mark > 0"
        )

    percents = total_mark * 100 / total_max  # T: each attempt's score in % of its maximum
    row_total_mark, row_total_max = total_mark[per_row], total_max[per_row]
    fractions = mark / top  # x
    with np.errstate(invalid="ignore", divide="ignore"):
        # NaN marks a paper where this is the only item: there is no rest of the test.
        rests = np.where(row_total_max > top, (row_total_mark - mark) * 100 / (row_total_max - top), np.nan)
    shares = mark * 100 / row_total_max  # a slot's part of T

    # Slots and questions in paper order: first appearance, attempts by ascending id.
    slot_order, slot_of_row = _groups_by_first_appearance(rows.slot)
    question_order, question_of_row = _groups_by_first_appearance(rows.question)
    slot_figures = _group_figures(slot_of_row, len(slot_order), fractions, rests)
    question_figures = _group_figures(question_of_row, len(question_order), fractions, rests)
    test = _test_stats(percents, slot_of_row, len(slot_order), shares)

    slot_keys = [rows.slot_keys[int(code)] for code in slot_order]
    # Which questions each slot drew, and where each question appeared (as pairs, deduplicated).
    pairs = np.unique(slot_of_row * len(question_order) + question_of_row)
    drawn: list[list[int]] = [[] for _ in slot_order]
    where: list[list[int]] = [[] for _ in question_order]
    for pair in pairs.tolist():
        slot_index, question_index = divmod(pair, len(question_order))
        drawn[slot_index].append(int(question_order[question_index]))
        where[question_index].append(slot_index)
    slots = [
        SlotStats(slot=slot_keys[i], question_ids=tuple(sorted(drawn[i])), **slot_figures[i])
        for i in range(len(slot_order))
    ]
    questions = [
        QuestionStats(
            question_id=int(question_order[i]),
            slots=tuple(slot_keys[j] for j in sorted(where[i])),
            **question_figures[i],
        )
        for i in sorted(range(len(question_order)), key=lambda i: (min(where[i]), int(question_order[i])))
    ]
    return ItemAnalysis(test=test, questions=questions, slots=slots)


def _groups_by_first_appearance(
    values: "np.ndarray[Any, np.dtype[np.int64]]",
) -> tuple["np.ndarray[Any, np.dtype[np.int64]]", "np.ndarray[Any, np.dtype[np.intp]]"]:
    """The distinct values in order of first appearance, and each row's index into them."""
    distinct, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return distinct[order], rank[inverse]


def _test_stats(
    percents: "np.ndarray[Any, np.dtype[np.float64]]",
    slot_of_row: "np.ndarray[Any, np.dtype[np.intp]]",
    slot_count: int,
    shares: "np.ndarray[Any, np.dtype[np.float64]]",
) -> TestStats:
    n = len(percents)
    summary = describe(percents.tolist())
    cic = error_ratio = standard_error = None
    p = slot_count
    # Moodle computes the CIC only with more than two attempts and a total that varies.
    if p >= 2 and n >= 3 and summary.sd:
        total_variance = _sum_of_squares(percents.tolist())
        # A slot missing from an attempt counts 0 there (see the module doc): Σ over the n attempts
        # of (v − mean)² is the present rows' part plus (n − count)·mean² for the missing ones.
        count = np.bincount(slot_of_row, minlength=p)
        mean = np.bincount(slot_of_row, shares, p) / n
        deviations = shares - mean[slot_of_row]
        squares = np.bincount(slot_of_row, deviations * deviations, p) + (n - count) * mean * mean
        # Exactly constant series count 0 (a float mean may not equal the common value).
        lowest, highest = _group_min_max(slot_of_row, p, shares)
        lowest = np.where(count < n, np.minimum(lowest, 0.0), lowest)
        highest = np.where(count < n, np.maximum(highest, 0.0), highest)
        squares = np.where(lowest == highest, 0.0, squares)
        cic = 100 * p / (p - 1) * (1 - math.fsum(squares.tolist()) / total_variance)
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


def _group_min_max(
    group: "np.ndarray[Any, np.dtype[np.intp]]", count: int, values: "np.ndarray[Any, np.dtype[np.float64]]"
) -> tuple["np.ndarray[Any, np.dtype[np.float64]]", "np.ndarray[Any, np.dtype[np.float64]]"]:
    """Each group's smallest and largest value (+inf and -inf for an empty group)."""
    lowest = np.full(count, np.inf)
    highest = np.full(count, -np.inf)
    np.minimum.at(lowest, group, values)
    np.maximum.at(highest, group, values)
    return lowest, highest


class _Figures(TypedDict):
    count: int
    facility: float
    sd: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    flags: tuple[str, ...]


def _group_figures(
    group: "np.ndarray[Any, np.dtype[np.intp]]",
    count: int,
    x: "np.ndarray[Any, np.dtype[np.float64]]",
    rest: "np.ndarray[Any, np.dtype[np.float64]]",
) -> list[_Figures]:
    """Facility, SD, discrimination index and efficiency of every group (a question or a slot) of
    rows with values x (mark / max) and the rest of the test (NaN: none)."""
    n = np.bincount(group, minlength=count)
    # Exactly rounded sums (math.fsum), so a facility on a flag's threshold (20, 90) is that number.
    ordered = x[np.argsort(group, kind="stable")].tolist()
    ends = np.cumsum(n).tolist()
    totals = np.array(
        [math.fsum(ordered[end - size : end]) for end, size in zip(ends, n.tolist(), strict=True)]
    )
    facility = totals * 100 / n
    lowest, highest = _group_min_max(group, count, x)
    mean = totals / n
    dx = x - mean[group]
    # A constant series is tested exactly (a float mean may not equal the common value).
    sum_squares_x = np.where(lowest == highest, 0.0, np.bincount(group, dx * dx, count))
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = 100 * np.sqrt(sum_squares_x / (n - 1))

    # Discrimination against the rest of the test, over the rows that have one.
    kept = ~np.isnan(rest)
    g, xk, rk = group[kept], x[kept], rest[kept]
    nk = np.bincount(g, minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_k = np.bincount(g, xk, count) / nk
        mean_rest = np.bincount(g, rk, count) / nk
    dxk = xk - mean_k[g]
    drest = rk - mean_rest[g]
    low_k, high_k = _group_min_max(g, count, xk)
    low_rest, high_rest = _group_min_max(g, count, rk)
    ssx_k = np.where(low_k == high_k, 0.0, np.bincount(g, dxk * dxk, count))
    ss_rest = np.bincount(g, drest * drest, count)
    covariance = np.bincount(g, dxk * drest, count)
    # Sorting each series on its own within its group pairs them for the largest covariance they allow.
    by_dx = np.lexsort((dxk, g))
    by_rest = np.lexsort((drest, g))
    covariance_max = np.bincount(g[by_dx], dxk[by_dx] * drest[by_rest], count)
    defined = (nk >= 2) & (low_k != high_k) & (low_rest != high_rest) & (ssx_k != 0.0) & (ss_rest != 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        index = 100 * covariance / (np.sqrt(ssx_k) * np.sqrt(ss_rest))
        efficiency = 100 * covariance / covariance_max

    figures: list[_Figures] = []
    for i in range(count):
        count_i = int(n[i])
        sd_i = float(sd[i]) if count_i >= 2 else None
        index_i = float(index[i]) if defined[i] else None
        efficiency_i = float(efficiency[i]) if defined[i] and covariance_max[i] > 0 else None
        facility_i = float(facility[i])
        figures.append(
            _Figures(
                count=count_i,
                facility=facility_i,
                sd=sd_i,
                discrimination_index=index_i,
                discriminative_efficiency=efficiency_i,
                flags=_flags(count_i, facility_i, sd_i, index_i),
            )
        )
    return figures


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
