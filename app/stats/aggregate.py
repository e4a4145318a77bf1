"""Turning raw rows into unit figures: pure functions, no I/O (the service fetches the rows).

The service reads the counted attempts' scores and marks on each request (from the running totals
of first attempts, app.stats.totals, or from the raw rows for best and last), so a submission shows
at once and the numbers can always be reproduced from the raw rows.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.stats.formulas import median, score_bands
from app.stats.schemas import AreaCell, AreaMastery, TargetCheck, Targets, UnitFigures

SMALL_SAMPLE = 10


@dataclass(frozen=True)
class ScoreCount:
    """How many counted attempts (one per officer and quiz: the first, best or last finished one)
    made in a unit ended with one score."""

    unit_id: int  # where the officer was when the attempt started
    score_milli: int
    max_score_milli: int
    passed: bool
    attempts: int

    @property
    def percent(self) -> float:
        return self.score_milli * 100 / self.max_score_milli if self.max_score_milli else 0.0


@dataclass
class Tally:
    """What a unit (or a group of units) adds up to."""

    roster: int = 0
    participants: int = 0
    percents: list[float] = field(default_factory=list)
    passed: int = 0

    def add(self, other: "Tally") -> None:
        self.roster += other.roster
        self.participants += other.participants
        self.percents.extend(other.percents)
        self.passed += other.passed


@dataclass(frozen=True)
class Thresholds:
    participation: float | None = None
    pass_rate: float | None = None
    mean: float | None = None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def percent(part: float, whole: float) -> float | None:
    return part * 100 / whole if whole else None


def bucket_of(unit_path: str, report_unit_id: int) -> int | None:
    """The direct child of the report's unit that `unit_path` lies under; the unit itself for
    its own members; None outside. Paths are "/1/5/23/" (ids from the root down)."""
    ids = [int(part) for part in unit_path.strip("/").split("/")]
    if report_unit_id not in ids:
        return None
    at = ids.index(report_unit_id)
    return ids[at + 1] if at + 1 < len(ids) else report_unit_id


def tally_units(
    unit_paths: Mapping[int, str],
    roster: Mapping[int, int],
    participants: Mapping[int, int],
    scores: Iterable[ScoreCount],
) -> dict[int, Tally]:
    """A tally per unit id from per-unit roster and participant counts and the counted scores."""
    tallies: dict[int, Tally] = {unit_id: Tally() for unit_id in unit_paths}
    for unit_id, count in roster.items():
        tallies.setdefault(unit_id, Tally()).roster += count
    for unit_id, count in participants.items():
        tallies.setdefault(unit_id, Tally()).participants += count
    for score in scores:
        tally = tallies.setdefault(score.unit_id, Tally())
        tally.percents.extend([score.percent] * score.attempts)
        tally.passed += score.attempts if score.passed else 0
    return tallies


def roll_up(
    tallies: Mapping[int, Tally], unit_paths: Mapping[int, str], report_unit_id: int
) -> tuple[Tally, dict[int, Tally]]:
    """The report unit's whole-subtree tally, and one per bucket (each direct child rolled up
    over its subtree, plus the unit's own members under its own id)."""
    total = Tally()
    buckets: dict[int, Tally] = {}
    for unit_id, tally in tallies.items():
        path = unit_paths.get(unit_id)
        bucket = bucket_of(path, report_unit_id) if path else None
        if bucket is None:
            continue
        buckets.setdefault(bucket, Tally()).add(tally)
        total.add(tally)
    return total, buckets


def check_targets(figures: UnitFigures, thresholds: Thresholds) -> Targets | None:
    checks = []
    for name, threshold, value in (
        ("participation", thresholds.participation, figures.participation_percent),
        ("pass_rate", thresholds.pass_rate, figures.pass_rate_percent),
        ("mean", thresholds.mean, figures.mean_percent),
    ):
        if threshold is not None:
            checks.append(
                TargetCheck(
                    name=name,
                    threshold=threshold,
                    value=value,
                    met=value is not None and value >= threshold,
                )
            )
    if not checks:
        return None
    return Targets(met=all(c.met for c in checks), checks=checks)


def figures(unit_id: int, name: str, tally: Tally, thresholds: Thresholds | None = None) -> UnitFigures:
    scored = len(tally.percents)
    result = UnitFigures(
        unit_id=unit_id,
        name=name,
        roster=tally.roster,
        participants=tally.participants,
        participation_percent=_round(percent(tally.participants, tally.roster)),
        scored=scored,
        # fsum: exactly rounded, so the mean never depends on the order the scores arrived in.
        mean_percent=_round(math.fsum(tally.percents) / scored) if scored else None,
        median_percent=_round(median(tally.percents)) if scored else None,
        pass_rate_percent=_round(percent(tally.passed, scored)),
        passed=tally.passed,
        bands=score_bands(tally.percents),
        small_sample=scored < SMALL_SAMPLE,
    )
    if thresholds is not None:
        result.targets = check_targets(result, thresholds)
    return result


@dataclass(frozen=True)
class AreaMarks:
    """Marks of the chosen attempts' items, per unit (where the attempt was) and area."""

    unit_id: int
    area_id: int
    awarded_milli: int
    possible_milli: int


def area_mastery(
    marks: Sequence[AreaMarks],
    areas: Mapping[int, tuple[str, str, int]],  # id -> (full_name, path, depth)
    unit_paths: Mapping[int, str],
    report_unit_id: int,
) -> tuple[list[AreaMastery], list[AreaCell]]:
    """Mastery per area over the whole subtree (each area including its sub-areas), and the
    area × bucket matrix for the heat map."""
    by_area: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    by_cell: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for mark in marks:
        path = unit_paths.get(mark.unit_id)
        bucket = bucket_of(path, report_unit_id) if path else None
        if bucket is None or mark.area_id not in areas:
            continue
        # An item counts for its own area and every area above it.
        for ancestor in (int(part) for part in areas[mark.area_id][1].strip("/").split("/")):
            if ancestor not in areas:
                continue
            for sums in (by_area[ancestor], by_cell[(bucket, ancestor)]):
                sums[0] += mark.awarded_milli
                sums[1] += mark.possible_milli
    mastery = [
        AreaMastery(
            knowledge_area_id=area_id,
            full_name=areas[area_id][0],
            depth=areas[area_id][2],
            awarded=awarded / 1000,
            possible=possible / 1000,
            mastery_percent=_round(percent(awarded, possible)),
        )
        for area_id, (awarded, possible) in by_area.items()
    ]
    mastery.sort(key=lambda a: a.full_name)
    cells = [
        AreaCell(
            unit_id=bucket,
            knowledge_area_id=area_id,
            awarded=awarded / 1000,
            possible=possible / 1000,
            mastery_percent=_round(percent(awarded, possible)),
        )
        for (bucket, area_id), (awarded, possible) in sorted(by_cell.items())
    ]
    return mastery, cells
