"""Drawing papers from a quiz's rules: pure functions, reproducible from recorded inputs.

Pools. Each active question belongs to the first rule (in rule order) whose filter it matches,
so rule pools never overlap and a quiz is satisfiable exactly when every pool holds at least its
rule's count. Pools are frozen at publish.

Selection (least exposed first). For a rule with pool P (sorted ids, |P| = p) and count c, the
quiz lays out an endless stream of cycles, each a permutation of P; the paper with draw index k
takes the stream's positions k*c .. k*c+c-1. Cycle j starts as P shuffled with
HashStream(draw_seed, "rule<pos>:cycle<j>"). Where a paper straddles the boundary into cycle j
(t = (j*p) mod c of its questions come from the end of cycle j-1, h = c - t from the start of
cycle j), cycle j is then rearranged so that its first h questions are the first h of the shuffle
that are not among those t; the rest follow in shuffle order. So no paper repeats a question, every
stream position is served exactly once, and within a quiz no question is served n+1 times before
every question of its pool has been served n times. A paper is fixed by (pools, draw_seed,
draw_index).

Order. With question shuffling the selected questions are shuffled with
HashStream(attempt_seed, "questions"), else they keep rule order and, within a rule, id order.
Options are shuffled with HashStream(attempt_seed, "options:<question id>").
"""

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.fair_random import HashStream


@dataclass(frozen=True)
class RuleFilter:
    position: int
    count: int
    bank_id: int | None = None
    # The rule's knowledge area with (if asked) its sub-areas; None means any area.
    area_ids: frozenset[int] | None = None
    question_type: str | None = None
    difficulty_min: int = 1
    difficulty_max: int = 5


@dataclass(frozen=True)
class Candidate:
    id: int
    bank_id: int
    knowledge_area_id: int
    type: str
    difficulty: int


@dataclass(frozen=True)
class RuleShortage:
    position: int
    needed: int
    available: int
    matching: int  # questions matching the filter, including those earlier rules took


@dataclass(frozen=True)
class RulePool:
    position: int
    count: int
    question_ids: tuple[int, ...]  # sorted


def matches(rule: RuleFilter, c: Candidate) -> bool:
    return (
        (rule.bank_id is None or c.bank_id == rule.bank_id)
        and (rule.area_ids is None or c.knowledge_area_id in rule.area_ids)
        and (rule.question_type is None or c.type == rule.question_type)
        and rule.difficulty_min <= c.difficulty <= rule.difficulty_max
    )


def assign_pools(
    rules: Sequence[RuleFilter], candidates: Iterable[Candidate]
) -> tuple[list[RulePool], list[RuleShortage]]:
    """Split candidates into disjoint rule pools; report every rule that cannot be satisfied."""
    ordered = sorted(rules, key=lambda r: r.position)
    taken: dict[int, list[int]] = {r.position: [] for r in ordered}
    matching: dict[int, int] = {r.position: 0 for r in ordered}
    for c in sorted(candidates, key=lambda c: c.id):
        claimed = False
        for rule in ordered:
            if matches(rule, c):
                matching[rule.position] += 1
                if not claimed:
                    taken[rule.position].append(c.id)
                    claimed = True
    pools = [RulePool(r.position, r.count, tuple(taken[r.position])) for r in ordered]
    shortages = [
        RuleShortage(r.position, r.count, len(taken[r.position]), matching[r.position])
        for r in ordered
        if len(taken[r.position]) < r.count
    ]
    return pools, shortages


# Cycles depend on the cycle before them, so each process keeps those it has built.
_CYCLES: OrderedDict[tuple[str, int, tuple[int, ...], int], list[list[int]]] = OrderedDict()
_CYCLE_KEYS = 256


def _cycles(pool: RulePool, draw_seed: str, upto: int) -> list[list[int]]:
    key = (draw_seed, pool.position, pool.question_ids, pool.count)
    cycles = _CYCLES.get(key)
    if cycles is None:
        cycles = _CYCLES[key] = []
        if len(_CYCLES) > _CYCLE_KEYS:
            _CYCLES.popitem(last=False)
    _CYCLES.move_to_end(key)
    size, count = len(pool.question_ids), pool.count
    while len(cycles) <= upto:
        j = len(cycles)
        order = HashStream(draw_seed, f"rule{pool.position}:cycle{j}").shuffle(pool.question_ids)
        straddling = (j * size) % count  # questions the boundary paper takes from cycle j-1
        if j > 0 and straddling:
            taken = set(cycles[j - 1][size - straddling :])
            head = [q for q in order if q not in taken][: count - straddling]
            in_head = set(head)
            order = head + [q for q in order if q not in in_head]
        cycles.append(order)
    return cycles


def select_questions(pools: Sequence[RulePool], draw_seed: str, draw_index: int) -> list[tuple[int, int]]:
    """(rule position, question id) for the paper with this draw index, in rule order."""
    selected: list[tuple[int, int]] = []
    for pool in sorted(pools, key=lambda p: p.position):
        size = len(pool.question_ids)
        if pool.count > size:
            raise ValueError(f"rule {pool.position}: pool of {size} cannot give {pool.count}")
        first = draw_index * pool.count
        last = first + pool.count - 1
        cycles = _cycles(pool, draw_seed, last // size)
        chosen = [cycles[pos // size][pos % size] for pos in range(first, last + 1)]
        assert len(set(chosen)) == len(chosen), "a paper repeated a question"
        selected.extend((pool.position, qid) for qid in chosen)
    return selected


def order_questions(
    selected: Sequence[tuple[int, int]], attempt_seed: str, shuffle: bool
) -> list[tuple[int, int]]:
    if shuffle:
        return HashStream(attempt_seed, "questions").shuffle(selected)
    return sorted(selected)


def order_options(option_ids: Sequence[str], attempt_seed: str, question_id: int, shuffle: bool) -> list[str]:
    if not shuffle:
        return list(option_ids)
    return HashStream(attempt_seed, f"options:{question_id}").shuffle(option_ids)


def draw_paper(
    pools: Sequence[RulePool], draw_seed: str, draw_index: int, attempt_seed: str, shuffle_questions: bool
) -> list[tuple[int, int]]:
    """The whole paper, in the order served: what an appeal recomputes."""
    return order_questions(select_questions(pools, draw_seed, draw_index), attempt_seed, shuffle_questions)
