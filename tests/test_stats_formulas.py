"""Statistics formulas (issue 6): hand-computed fixtures, a data set checked against Moodle's definitions
with an independent textbook implementation, and hypothesis properties."""

import math
import statistics
from collections.abc import Hashable, Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.stats.formulas import (
    FLAG_NOT_DISCRIMINATING,
    FLAG_SMALL_SAMPLE,
    FLAG_TOO_EASY,
    FLAG_TOO_HARD,
    AttemptMarks,
    ItemAnalysis,
    QuestionStats,
    SlotMark,
    SlotStats,
    describe,
    item_analysis,
    median,
    score_bands,
)
from tests.stats_reference import reference_item_analysis


def close(value: float) -> object:
    return pytest.approx(value, rel=1e-9, abs=1e-9)


def paper(attempt_id: int, marks: Mapping[Hashable, tuple[int, float, float]]) -> AttemptMarks:
    return AttemptMarks(attempt_id, {key: SlotMark(*mark) for key, mark in marks.items()})


def fixed_papers(rows: Sequence[Sequence[float]], max_mark: float = 1.0) -> list[AttemptMarks]:
    """Attempt k+1 answers slot i with question i+1 (no random draw), every item worth max_mark."""
    return [
        paper(k + 1, {i: (i + 1, mark, max_mark) for i, mark in enumerate(row)}) for k, row in enumerate(rows)
    ]


def question(analysis: ItemAnalysis, question_id: int) -> QuestionStats:
    return next(q for q in analysis.questions if q.question_id == question_id)


# --- Score bands and median ----------------------------------------------------------------------------


def test_score_bands_boundaries() -> None:
    percents = [0, math.nextafter(60, 0), 60, 69.99, 70, 79.5, 80, 89.999999, 90, 100]
    assert score_bands(percents) == {"0-59": 2, "60-69": 2, "70-79": 2, "80-89": 2, "90-100": 2}
    assert score_bands([]) == {"0-59": 0, "60-69": 0, "70-79": 0, "80-89": 0, "90-100": 0}


@pytest.mark.parametrize("bad", [-0.001, 100.001, math.nan, math.inf])
def test_score_bands_refuse_values_outside_0_100(bad: float) -> None:
    with pytest.raises(ValueError, match="0, 100"):
        score_bands([50, bad])


def test_median() -> None:
    assert median([]) is None
    assert median([5]) == 5.0
    assert median([3, 1, 2]) == 2.0
    assert median([4, 1, 3, 2]) == 2.5  # (2 + 3) / 2, as Moodle for an even count


# --- describe ------------------------------------------------------------------------------------------


def test_describe_hand_computed() -> None:
    # values 3, 2, 2, 1, 0: n = 5, mean = 8/5 = 1.6, median = 2
    # deviations d = 1.4, 0.4, 0.4, -0.6, -1.6
    # Σd² = 1.96 + 0.16 + 0.16 + 0.36 + 2.56 = 5.2      → SD = sqrt(5.2 / 4) = sqrt(1.3)
    # Σd³ = 2.744 + 0.064 + 0.064 - 0.216 - 4.096 = -1.44
    # Σd⁴ = 3.8416 + 0.0256 + 0.0256 + 0.1296 + 6.5536 = 10.576
    # m2 = 1.04, m3 = -0.288, m4 = 2.1152
    # k2 = 5·1.04/4 = 1.3; k3 = 25·(-0.288)/(4·3) = -0.6
    # k4 = 25·(6·2.1152 - 3·4·1.04²)/(4·3·2) = 25·(12.6912 - 12.9792)/24 = -0.3
    # skewness = k3 / k2^1.5 = -0.6 / 1.3^1.5;  kurtosis = k4 / k2² = -0.3 / 1.69
    d = describe([3, 2, 2, 1, 0])
    assert d.count == 5
    assert d.mean == close(1.6)
    assert d.median == 2.0
    assert d.sd == close(math.sqrt(1.3))
    assert d.skewness == close(-0.6 / 1.3**1.5)  # -0.40479...
    assert d.kurtosis == close(-0.3 / 1.69)  # -0.17751...


def test_describe_undefined_figures_are_none() -> None:
    empty = describe([])
    assert (empty.count, empty.mean, empty.median, empty.sd, empty.skewness, empty.kurtosis) == (
        0,
        None,
        None,
        None,
        None,
        None,
    )
    one = describe([70])
    assert (one.mean, one.median, one.sd, one.skewness, one.kurtosis) == (70.0, 70.0, None, None, None)
    two = describe([60, 80])  # SD = sqrt((100 + 100)/1); skewness needs 3 values
    assert (two.sd, two.skewness, two.kurtosis) == (close(math.sqrt(200)), None, None)
    three = describe([60, 70, 95])  # kurtosis needs 4 values
    assert three.skewness is not None and three.kurtosis is None
    # Constant values: SD exactly 0, no shape (k2 = 0), even where a float mean is inexact (0.1·3).
    constant = describe([0.1, 0.1, 0.1, 0.1])
    assert (constant.sd, constant.skewness, constant.kurtosis) == (0.0, None, None)
    # fsum(3 × 0.469)/3 rounds to 0.46900000000000003: the mean stays within the values.
    assert describe([0.469] * 3).mean == 0.469


def test_describe_refuses_non_finite_values() -> None:
    with pytest.raises(ValueError, match="finite"):
        describe([1.0, math.nan])


# --- Item analysis: hand-computed fixtures --------------------------------------------------------------

# 5 attempts × 3 fixed slots, every item worth 1 mark (total maximum 3):
#         q1 q2 q3 | T (raw)   T (% of 3)
#   a1:   1  1  1  | 3         100
#   a2:   1  1  0  | 2          66.67
#   a3:   1  0  1  | 2          66.67
#   a4:   1  0  0  | 1          33.33
#   a5:   0  0  0  | 0           0
FIVE_BY_THREE = [(1, 1, 1), (1, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 0)]


def test_five_attempts_three_slots_test_statistics() -> None:
    # Raw totals are the values of test_describe_hand_computed: mean 1.6, median 2, V(T) = k2 = 1.3,
    # skewness -0.6/1.3^1.5, kurtosis -0.3/1.69. In % of the maximum 3, multiply mean/median/SD by 100/3.
    # Slot variances (n - 1 = 4):
    #   q1: 1,1,1,1,0  mean 0.8  Σd² = 4·0.04 + 0.64 = 0.8  → V = 0.2
    #   q2: 1,1,0,0,0  mean 0.4  Σd² = 2·0.36 + 3·0.16 = 1.2 → V = 0.3
    #   q3: 1,0,1,0,0  mean 0.4  Σd² = 1.2                  → V = 0.3
    # CIC = 100 · 3/2 · (1 - 0.8/1.3) = 150 · 0.5/1.3 = 57.6923...
    # ER = 100·sqrt(1 - 0.576923) = 65.0444...;  SE = ER/100 · SD% = 0.650444 · sqrt(1.3)·100/3
    test = item_analysis(fixed_papers(FIVE_BY_THREE)).test
    assert test.count == 5 and test.small_sample
    assert test.mean == close(1.6 * 100 / 3)  # 53.33
    assert test.median == close(200 / 3)  # 66.67
    assert test.sd == close(math.sqrt(1.3) * 100 / 3)  # 38.01
    assert test.skewness == close(-0.6 / 1.3**1.5)
    assert test.kurtosis == close(-0.3 / 1.69)
    assert test.cic == close(150 * 0.5 / 1.3)  # 57.69
    assert test.error_ratio == close(100 * math.sqrt(1 - 0.5 * 1.5 / 1.3))  # 65.04
    assert test.standard_error == close(math.sqrt(1 - 0.75 / 1.3) * math.sqrt(1.3) * 100 / 3)  # 24.72


def test_five_attempts_three_slots_question_statistics() -> None:
    analysis = item_analysis(fixed_papers(FIVE_BY_THREE))
    # q1: x = 1,1,1,1,0 (facility 80); rest of the test X = T - x = 2,1,1,0,0
    #   x̄ = 0.8, X̄ = 0.8; dx = .2,.2,.2,.2,-.8; dX = 1.2,.2,.2,-.8,-.8
    #   Σdx·dX = .24 + .04 + .04 - .16 + .64 = 0.8;  Σdx² = 0.8;  ΣdX² = 1.44+.04+.04+.64+.64 = 2.8
    #   index = 100 · 0.8 / sqrt(0.8 · 2.8) = 53.45...;  SD = 100·sqrt(0.8/4) = 44.72...
    #   sorted: dx -.8,.2,.2,.2,.2 with dX -.8,-.8,.2,.2,1.2 → .64 - .16 + .04 + .04 + .24 = 0.8
    #   efficiency = 100 · 0.8/0.8 = 100
    q1 = question(analysis, 1)
    assert (q1.count, q1.slots) == (5, (0,))
    assert q1.facility == close(80)
    assert q1.sd == close(100 * math.sqrt(0.2))
    assert q1.discrimination_index == close(100 * 0.8 / math.sqrt(0.8 * 2.8))
    assert q1.discriminative_efficiency == close(100)
    # q2: x = 1,1,0,0,0 (facility 40); X = 2,1,2,1,0
    #   x̄ = 0.4, X̄ = 1.2; dx = .6,.6,-.4,-.4,-.4; dX = .8,-.2,.8,-.2,-1.2
    #   Σdx·dX = .48 - .12 - .32 + .08 + .48 = 0.6;  Σdx² = 1.2;  ΣdX² = .64+.04+.64+.04+1.44 = 2.8
    #   index = 100 · 0.6 / sqrt(1.2 · 2.8) = 32.73...
    #   sorted: dx -.4,-.4,-.4,.6,.6 with dX -1.2,-.2,-.2,.8,.8 → .48 + .08 + .08 + .48 + .48 = 1.6
    #   efficiency = 100 · 0.6/1.6 = 37.5
    q2 = question(analysis, 2)
    assert q2.facility == close(40)
    assert q2.sd == close(100 * math.sqrt(0.3))
    assert q2.discrimination_index == close(100 * 0.6 / math.sqrt(1.2 * 2.8))
    assert q2.discriminative_efficiency == close(37.5)
    # q3: x = 1,0,1,0,0; X = 2,2,1,1,0 — the mirror of q2: same figures.
    q3 = question(analysis, 3)
    assert (q3.facility, q3.discrimination_index, q3.discriminative_efficiency) == (
        close(40),
        close(100 * 0.6 / math.sqrt(1.2 * 2.8)),
        close(37.5),
    )
    # Five attempts only: every question is a small sample, nothing else is flagged.
    assert [q.flags for q in analysis.questions] == [(FLAG_SMALL_SAMPLE,)] * 3
    # Fixed slots: each slot's figures are its question's.
    assert [(s.slot, s.question_ids, s.facility) for s in analysis.slots] == [
        (0, (1,), close(80)),
        (1, (2,), close(40)),
        (2, (3,), close(40)),
    ]


def test_flags_with_ten_attempts() -> None:
    # 10 attempts × 4 fixed one-mark items:
    #   q1 right in a1..a9 (facility 90: the too-easy bound), q2 right in a1, a2 (facility 20: the too-hard
    #   bound), q3 right in a1..a5 (50), q4 right everywhere (100).
    #   Totals: a1, a2 = 4; a3..a5 = 3; a6..a9 = 2; a10 = 1.
    rows = [(1, 1, 1, 1)] * 2 + [(1, 0, 1, 1)] * 3 + [(1, 0, 0, 1)] * 4 + [(0, 0, 0, 1)]
    analysis = item_analysis(fixed_papers(rows))
    # q1: X = 3,3,2,2,2,1,1,1,1,1 (X̄ = 1.7); dx = .1 ×9, -.9; dX = 1.3,1.3,.3,.3,.3,-.7 ×5
    #   Σdx·dX = .1·(2.6 + .9 - 2.8) + (-.9)(-.7) = 0.7;  Σdx² = 0.9;  ΣdX² = 2·1.69 + 3·.09 + 5·.49 = 6.1
    #   index = 70 / sqrt(0.9 · 6.1) = 29.88 (≥ 20: discriminates)
    q1 = question(analysis, 1)
    assert q1.facility == 90.0
    assert q1.discrimination_index == close(70 / math.sqrt(0.9 * 6.1))
    assert q1.discriminative_efficiency == close(100)
    assert q1.flags == (FLAG_TOO_EASY,)
    # q2: X = 3,3,3,3,3,2,2,2,2,1 (X̄ = 2.4); dx = .8,.8,-.2 ×8; dX = .6 ×5, -.4 ×4, -1.4
    #   Σdx·dX = 2·.8·.6 + (-.2)(3·.6 - 4·.4 - 1.4) = .96 + .24 = 1.2; Σdx² = 1.6; ΣdX² = 1.8+.64+1.96 = 4.4
    #   index = 120 / sqrt(1.6 · 4.4) = 45.23
    q2 = question(analysis, 2)
    assert q2.facility == 20.0
    assert q2.discrimination_index == close(120 / math.sqrt(1.6 * 4.4))
    assert q2.flags == (FLAG_TOO_HARD,)
    # q3: X = 3,3,2,2,2,2,2,2,2,1 (X̄ = 2.1); dx = .5 ×5, -.5 ×5
    #   Σdx·dX = .5·(.9 + .9 - .3) - .5·(-.4 - 1.1) = 1.5; Σdx² = 2.5; ΣdX² = 2·.81 + 7·.01 + 1.21 = 2.9
    #   index = 150 / sqrt(2.5 · 2.9) = 55.71 → no flag at all
    q3 = question(analysis, 3)
    assert q3.discrimination_index == close(150 / math.sqrt(2.5 * 2.9))
    assert q3.flags == ()
    # q4: everyone right: SD 0, no index or efficiency (V(x) = 0), too easy and separating no one.
    q4 = question(analysis, 4)
    assert (q4.facility, q4.sd, q4.discrimination_index, q4.discriminative_efficiency) == (
        100.0,
        0.0,
        None,
        None,
    )
    assert q4.flags == (FLAG_TOO_EASY, FLAG_NOT_DISCRIMINATING)
    assert not analysis.test.small_sample


def test_negative_discrimination_and_constant_total() -> None:
    # 10 attempts × 2 items: qa right in a1..a5, qb right in a6..a10. Every total is 1, so the rest of the
    # test for qa is exactly 1 - x: correlation -1, index = efficiency = -100 (C = C_max·(-1) since C_max
    # pairs the sorted series: Σ = 5·(.5·.5) = 2.5 against Σdx·dX = -2.5).
    # The total never varies: V(T) = 0 → no skewness, kurtosis or CIC.
    rows = [(1, 0)] * 5 + [(0, 1)] * 5
    analysis = item_analysis(fixed_papers(rows))
    for q in analysis.questions:
        assert q.facility == 50.0
        assert q.discrimination_index == close(-100)
        assert q.discriminative_efficiency == close(-100)
        assert q.flags == (FLAG_NOT_DISCRIMINATING,)
    test = analysis.test
    assert (test.mean, test.sd, test.skewness, test.kurtosis, test.cic, test.error_ratio) == (
        50.0,
        0.0,
        None,
        None,
        None,
        None,
    )


def test_random_slots_aggregate_per_question_and_per_slot() -> None:
    # Slot ("r1", 0) always draws q1; slot ("r2", 0) draws q7 or q8, and q8 also comes up in ("r2", 1).
    attempts = [
        paper(10, {("r1", 0): (1, 1, 1), ("r2", 0): (7, 0, 1), ("r2", 1): (8, 1, 1)}),
        paper(11, {("r1", 0): (1, 0, 1), ("r2", 0): (8, 1, 1), ("r2", 1): (9, 0, 1)}),
        paper(12, {("r1", 0): (1, 1, 1), ("r2", 0): (7, 1, 1), ("r2", 1): (9, 1, 1)}),
    ]
    analysis = item_analysis(attempts)
    assert [(s.slot, s.question_ids, s.count) for s in analysis.slots] == [
        (("r1", 0), (1,), 3),
        (("r2", 0), (7, 8), 3),
        (("r2", 1), (8, 9), 3),
    ]
    # Questions in paper order of their first slot, then by id.
    assert [(q.question_id, q.slots, q.count) for q in analysis.questions] == [
        (1, (("r1", 0),), 3),
        (7, (("r2", 0),), 2),
        (8, (("r2", 0), ("r2", 1)), 2),
        (9, (("r2", 1),), 2),
    ]
    # q8: right both times → facility 100; q7: 0 then 1 → 50; slot ("r2", 0): 0, 1, 1 → 66.67
    assert question(analysis, 8).facility == 100.0
    assert question(analysis, 7).facility == 50.0
    assert analysis.slots[1].facility == close(200 / 3)


def test_unequal_maxima_use_percentages() -> None:
    # A rule keeping each question's own points: the papers are worth 3 and 6.
    #   a1: q1 1/1, q2 1/2 → 2/3 = 66.67 %;  a2: q1 0/1, q3 5/5 → 5/6 = 83.33 %
    attempts = [
        paper(1, {0: (1, 1, 1), 1: (2, 1, 2)}),
        paper(2, {0: (1, 0, 1), 1: (3, 5, 5)}),
    ]
    analysis = item_analysis(attempts)
    assert analysis.test.mean == close((200 / 3 + 500 / 6) / 2)
    assert analysis.test.cic is None  # Moodle needs more than two attempts
    assert question(analysis, 2).facility == 50.0
    # Slot 1 mixes 1/2 and 5/5: facility is the mean fraction, 100·(0.5 + 1)/2
    assert analysis.slots[1].facility == 75.0
    # q1's rest of the test, in % of its maximum: a1 1/2 = 50 %, a2 5/5 = 100 %; q1 scored 1 then 0
    assert question(analysis, 1).discrimination_index == close(-100)


def test_single_item_papers_have_no_rest_of_the_test() -> None:
    attempts = fixed_papers([(1,), (0,), (1,)])
    analysis = item_analysis(attempts)
    q = analysis.questions[0]
    assert q.facility == close(200 / 3)
    assert (q.discrimination_index, q.discriminative_efficiency) == (None, None)
    assert analysis.test.cic is None  # one slot: P/(P - 1) is undefined


def test_empty_input_and_empty_papers() -> None:
    analysis = item_analysis([])
    assert (analysis.test.count, analysis.test.mean, analysis.questions, analysis.slots) == (0, None, [], [])
    analysis = item_analysis([AttemptMarks(99, {}), *fixed_papers([(1, 0)])])
    assert analysis.test.count == 1  # the empty paper has no score


@pytest.mark.parametrize(
    "bad",
    [
        SlotMark(1, 2, 1),
        SlotMark(1, -1, 1),
        SlotMark(1, 0, 0),
        SlotMark(1, math.nan, 1),
        SlotMark(1, 1, math.inf),
    ],
)
def test_item_analysis_refuses_impossible_marks(bad: SlotMark) -> None:
    with pytest.raises(ValueError, match="attempt 7"):
        item_analysis([AttemptMarks(7, {0: SlotMark(2, 1, 1), 1: bad})])


def test_item_analysis_refuses_duplicate_attempts() -> None:
    with pytest.raises(ValueError, match="given twice"):
        item_analysis(fixed_papers([(1,)]) * 2)


# --- A data set checked against Moodle's definitions -----------------------------------------------------

# 12 attempts, 4 slots, raw marks; the maxima are the same in every attempt, as in Moodle:
#   slot A: q1 (max 1) · slot B: q2 (max 2, partial marks) · slots C1, C2: a random draw of two of
#   q30, q31, q32 (max 1 each) — Moodle's random slots.
MOODLE_MAXIMA = {"A": 1, "B": 2, "C1": 1, "C2": 1}
MOODLE_ROWS: list[dict[str, tuple[int, float]]] = [
    {"A": (1, 1), "B": (2, 2), "C1": (30, 1), "C2": (31, 1)},
    {"A": (1, 1), "B": (2, 1), "C1": (31, 1), "C2": (32, 0)},
    {"A": (1, 0), "B": (2, 1), "C1": (32, 0), "C2": (30, 1)},
    {"A": (1, 1), "B": (2, 2), "C1": (30, 0), "C2": (32, 1)},
    {"A": (1, 0), "B": (2, 0), "C1": (31, 0), "C2": (30, 0)},
    {"A": (1, 1), "B": (2, 1), "C1": (32, 1), "C2": (31, 1)},
    {"A": (1, 1), "B": (2, 2), "C1": (30, 1), "C2": (32, 1)},
    {"A": (1, 0), "B": (2, 1), "C1": (31, 1), "C2": (30, 0)},
    {"A": (1, 1), "B": (2, 0), "C1": (32, 0), "C2": (31, 0)},
    {"A": (1, 1), "B": (2, 2), "C1": (30, 1), "C2": (31, 0)},
    {"A": (1, 0), "B": (2, 1), "C1": (31, 0), "C2": (32, 0)},
    {"A": (1, 1), "B": (2, 1), "C1": (32, 1), "C2": (30, 1)},
]


def moodle_reference() -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """Straight from the definitions with the statistics module, in raw marks as Moodle computes them.

    Skewness and kurtosis use the textbook adjusted Fisher–Pearson forms (Excel's SKEW and KURT),
    G1 = g1·sqrt(n(n-1))/(n-2) and G2 = ((n+1)·g2 + 6)·(n-1)/((n-2)(n-3)) with g1 = m3/m2^1.5 and
    g2 = m4/m2² - 3, not Moodle's cumulant forms k3/k2^1.5 and k4/k2²: the two must agree.
    """
    totals = [sum(mark for _, mark in row.values()) for row in MOODLE_ROWS]
    n, total_max, slots = len(totals), sum(MOODLE_MAXIMA.values()), list(MOODLE_MAXIMA)
    mean = statistics.mean(totals)
    m2, m3, m4 = (sum((t - mean) ** r for t in totals) / n for r in (2, 3, 4))
    g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3
    alpha = (
        len(slots)
        / (len(slots) - 1)
        * (
            1
            - sum(statistics.variance([row[s][1] for row in MOODLE_ROWS]) for s in slots)
            / statistics.variance(totals)
        )
    )
    sd_percent = statistics.stdev(totals) * 100 / total_max
    questions: dict[int, dict[str, float]] = {}
    for question_id in sorted({qid for row in MOODLE_ROWS for qid, _ in row.values()}):
        x, rest, top = [], [], 0
        for row, total in zip(MOODLE_ROWS, totals, strict=True):
            for slot, (qid, mark) in row.items():
                if qid == question_id:
                    x.append(mark)
                    rest.append(total - mark)
                    top = MOODLE_MAXIMA[slot]
        questions[question_id] = {
            "count": len(x),
            "facility": 100 * statistics.mean(x) / top,
            "sd": 100 * statistics.stdev(x) / top,
            "index": 100 * statistics.correlation(x, rest),
            "efficiency": 100
            * statistics.covariance(x, rest)
            / statistics.covariance(sorted(x), sorted(rest)),
        }
    test = {
        "mean": 100 * mean / total_max,
        "median": 100 * statistics.median(totals) / total_max,
        "sd": sd_percent,
        "skewness": g1 * math.sqrt(n * (n - 1)) / (n - 2),
        "kurtosis": ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)),
        "cic": 100 * alpha,
        "error_ratio": 100 * math.sqrt(1 - alpha),
        "standard_error": math.sqrt(1 - alpha) * sd_percent,
    }
    return test, questions


def test_matches_moodle_definitions() -> None:
    attempts = [
        paper(100 + k, {slot: (qid, mark, MOODLE_MAXIMA[slot]) for slot, (qid, mark) in row.items()})
        for k, row in enumerate(MOODLE_ROWS)
    ]
    analysis = item_analysis(attempts)
    expected, reference = moodle_reference()
    for name, value in expected.items():
        assert getattr(analysis.test, name) == close(value), name
    assert [q.question_id for q in analysis.questions] == [1, 2, 30, 31, 32]
    for q in analysis.questions:
        want = reference[q.question_id]
        assert q.count == want["count"]
        assert q.facility == close(want["facility"])
        assert q.sd == close(want["sd"])
        assert q.discrimination_index == close(want["index"])
        assert q.discriminative_efficiency == close(want["efficiency"])
    # The random questions were each drawn into both C slots.
    assert question(analysis, 31).slots == ("C1", "C2")


# --- Properties ------------------------------------------------------------------------------------------


@st.composite
def quiz_attempts(draw: st.DrawFn, min_attempts: int = 0) -> list[AttemptMarks]:
    """Attempts at a quiz of 1-3 rules, each drawing k distinct questions from its own pool (as the
    app draws), questions worth 1, 2 or 5 points, marks in half points."""
    rules = []
    next_id = 1
    for _ in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 4))
        pool = list(range(next_id, next_id + size))
        next_id += size
        rules.append((pool, draw(st.integers(1, size))))
    points = {q: draw(st.sampled_from([1, 2, 5])) for pool, _ in rules for q in pool}
    count = draw(st.integers(min_attempts, 25))
    ids = draw(st.lists(st.integers(1, 10**6), min_size=count, max_size=count, unique=True))
    attempts = []
    for attempt_id in ids:
        slots: dict[Hashable, SlotMark] = {}
        for position, (pool, k) in enumerate(rules):
            for ordinal, q in enumerate(draw(st.permutations(pool))[:k]):
                mark = draw(st.integers(0, 2 * points[q])) / 2
                slots[(position, ordinal)] = SlotMark(q, mark, points[q])
        attempts.append(AttemptMarks(attempt_id, slots))
    return attempts


# Scores as the app stores them: thousandths.
scores = st.integers(-(10**8), 10**8).map(lambda milli: milli / 1000)


@given(st.lists(scores, max_size=40))
def test_describe_properties(values: list[float]) -> None:
    d = describe(values)
    assert d.count == len(values)
    if not values:
        return
    assert d.mean is not None and d.median is not None
    assert min(values) <= d.mean <= max(values)
    assert min(values) <= d.median <= max(values)
    assert (d.sd is None) == (len(values) < 2)
    assert d.sd is None or d.sd >= 0
    varies = min(values) != max(values)
    assert (d.skewness is not None) == (len(values) >= 3 and varies)
    assert (d.kurtosis is not None) == (len(values) >= 4 and varies)


@given(st.lists(st.floats(min_value=0, max_value=100), max_size=60))
def test_bands_sum_to_count(percents: list[float]) -> None:
    bands = score_bands(percents)
    assert sum(bands.values()) == len(percents)
    assert bands["90-100"] == sum(1 for p in percents if p >= 90)
    assert bands["0-59"] == sum(1 for p in percents if p < 60)


@given(quiz_attempts())
def test_item_analysis_ranges(attempts: list[AttemptMarks]) -> None:
    analysis = item_analysis(attempts)
    test = analysis.test
    assert test.count == len(attempts)
    appearances = sum(len(a.slots) for a in attempts)
    assert sum(q.count for q in analysis.questions) == appearances
    assert sum(s.count for s in analysis.slots) == appearances
    if attempts:
        percents = [
            100 * sum(m.mark for m in a.slots.values()) / sum(m.max_mark for m in a.slots.values())
            for a in attempts
        ]
        assert test.mean is not None
        assert min(percents) - 1e-9 <= test.mean <= max(percents) + 1e-9
    # Float noise only: the bounds are exact in real arithmetic.
    if test.cic is not None:
        assert test.cic <= 100 + 1e-9
        assert test.error_ratio is not None and test.error_ratio >= 0
        assert test.standard_error is not None and test.standard_error >= 0
    items: list[QuestionStats | SlotStats] = [*analysis.questions, *analysis.slots]
    for item in items:
        assert 0 <= item.facility <= 100
        assert item.sd is None or item.sd >= 0
        index, efficiency = item.discrimination_index, item.discriminative_efficiency
        assert index is None or -100 - 1e-9 <= index <= 100 + 1e-9  # a correlation
        # C ≤ C_max (sorted pairing maximises Σdx·dX); below, C may fall under -C_max: no lower bound.
        assert efficiency is None or efficiency <= 100 + 1e-9
        assert (index is None) == (efficiency is None)
        assert (FLAG_TOO_EASY in item.flags) == (item.facility >= 90)
        assert (FLAG_TOO_HARD in item.flags) == (item.facility <= 20)
        assert (FLAG_SMALL_SAMPLE in item.flags) == (item.count < 10)


@given(quiz_attempts(min_attempts=1), st.data())
def test_a_question_everyone_gets_right(attempts: list[AttemptMarks], data: st.DataObject) -> None:
    chosen = data.draw(st.sampled_from(sorted({m.question_id for a in attempts for m in a.slots.values()})))
    full = [
        AttemptMarks(
            a.attempt_id,
            {k: m._replace(mark=m.max_mark) if m.question_id == chosen else m for k, m in a.slots.items()},
        )
        for a in attempts
    ]
    q = question(item_analysis(full), chosen)
    assert q.facility == 100.0
    assert FLAG_TOO_EASY in q.flags
    assert q.discrimination_index is None and q.discriminative_efficiency is None
    if q.count >= 2:
        assert q.sd == 0.0 and FLAG_NOT_DISCRIMINATING in q.flags


@given(quiz_attempts(), st.data())
def test_permuting_attempts_changes_nothing(attempts: list[AttemptMarks], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(attempts))
    assert item_analysis(shuffled) == item_analysis(attempts)


@given(quiz_attempts(min_attempts=1), st.data(), st.sampled_from([0.5, 2, 3, 10]))
def test_scaling_an_item_changes_none_of_its_figures(
    attempts: list[AttemptMarks], data: st.DataObject, factor: float
) -> None:
    chosen = data.draw(st.sampled_from(sorted({m.question_id for a in attempts for m in a.slots.values()})))
    scaled = [
        AttemptMarks(
            a.attempt_id,
            {
                k: SlotMark(m.question_id, m.mark * factor, m.max_mark * factor)
                if m.question_id == chosen
                else m
                for k, m in a.slots.items()
            },
        )
        for a in attempts
    ]
    before, after = question(item_analysis(attempts), chosen), question(item_analysis(scaled), chosen)
    assert (after.count, after.slots, after.flags) == (before.count, before.slots, before.flags)
    for name in ("facility", "sd", "discrimination_index", "discriminative_efficiency"):
        old, new = getattr(before, name), getattr(after, name)
        assert (old is None) == (new is None), name
        if old is not None:
            assert new == close(old), name


@given(quiz_attempts())
def test_vectorised_analysis_equals_the_plain_reference(attempts: list[AttemptMarks]) -> None:
    """The numpy implementation against the first, item-by-item one (tests/stats_reference.py)."""
    got, want = item_analysis(attempts), reference_item_analysis(attempts)

    def same(a: float | None, b: float | None) -> bool:
        return (a is None and b is None) or (a is not None and b is not None and a == close(b))

    for name in ("count", "small_sample", "mean", "median", "sd", "skewness", "kurtosis", "cic"):
        assert same(getattr(got.test, name), getattr(want.test, name)), name
    assert same(got.test.error_ratio, want.test.error_ratio) and same(
        got.test.standard_error, want.test.standard_error
    )
    pairs: list[tuple[QuestionStats | SlotStats, QuestionStats | SlotStats]] = [
        *zip(got.questions, want.questions, strict=True),
        *zip(got.slots, want.slots, strict=True),
    ]
    for mine, theirs in pairs:
        if isinstance(mine, QuestionStats):
            assert isinstance(theirs, QuestionStats)
            assert (mine.question_id, mine.slots) == (theirs.question_id, theirs.slots)
        else:
            assert isinstance(theirs, SlotStats)
            assert (mine.slot, mine.question_ids) == (theirs.slot, theirs.question_ids)
        assert (mine.count, mine.flags) == (theirs.count, theirs.flags)
        for name in ("facility", "sd", "discrimination_index", "discriminative_efficiency"):
            assert same(getattr(mine, name), getattr(theirs, name)), name
