"""What the statistics' running totals cost when attempts finish, on PostgreSQL.

    python -m bench.finish_totals [--attempts 1500] [--concurrency 16]

Finishing an attempt marks its items, updates the wrong-answer book and, since the running totals
(app.stats.totals), adds the attempt to three totals tables in the same transaction. This measures
`finish_attempt` in-process with `--concurrency` finishes in flight (one session each), twice in
the same run on fresh attempts of two identical quizzes (20 of 500 questions, 25 units):

app      the real finish, totals included
floor    the same finish with the totals step left out

Worst case for the totals: nobody answered, so every attempt of a unit scores 0 and every finish of
a unit adds to the same score row and the same area rows at the same time. Afterwards the totals
must equal their recomputation from the raw rows (`totals.differences`).
"""

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.core.deps import Principal
from app.db.session import Database
from app.db.types import utcnow
from app.quizzes import service as quiz_service
from app.quizzes.models import FinishReason
from app.stats import totals
from app.units.models import Unit, User
from bench.common import (
    QUESTION_MIX,
    QUIZ_RULES,
    app_changed_since,
    app_state,
    bench_settings,
    create_published_quiz,
    database_url,
    machine,
    main_guard,
    percentile,
    print_rows,
    ratio,
    reset_database,
    seed,
    stage,
    write_results,
)

NAME = "finish_totals"


async def start_attempts(url: str, quiz_id: int, officers: list[Principal]) -> list[int]:
    settings = bench_settings(url)
    database = Database(settings)
    cache = quiz_service.FrozenQuizCache()
    ids = []
    try:
        for principal in officers:
            async with database.sessionmaker() as session:
                attempt, _ = await quiz_service.start_attempt(
                    session, database, cache, settings, principal, quiz_id
                )
                ids.append(attempt.id)
    finally:
        await database.dispose()
    return ids


async def finish_all(url: str, attempt_ids: list[int], concurrency: int) -> dict[str, float]:
    engine = create_async_engine(url, pool_size=concurrency, max_overflow=0)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    queue = list(attempt_ids)
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            attempt_id = queue.pop()
            started = time.perf_counter()
            async with sessionmaker() as session:
                assert await quiz_service.finish_attempt(
                    session, attempt_id, FinishReason.submitted, utcnow()
                )
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await engine.dispose()
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "ok": len(ordered),
        "errors": len(attempt_ids) - len(ordered),
        "throughput_per_s": len(ordered) / seconds,
        "p50_ms": percentile(ordered, 50) * 1000,
        "p95_ms": percentile(ordered, 95) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "max_ms": ordered[-1] * 1000,
    }


async def without_totals(run: Callable[[], Awaitable[dict[str, float]]]) -> dict[str, float]:
    real = totals.add

    async def skip(session: AsyncSession, attempt: totals.FinishedAttempt, items: Any) -> None:
        return None

    totals.add = skip
    try:
        return await run()
    finally:
        totals.add = real


async def officers_of(url: str, ids: list[int]) -> list[Principal]:
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as session:
            rows = await session.execute(
                select(User.id, User.username, User.name, User.role, User.unit_id, Unit.path)
                .join(Unit, Unit.id == User.unit_id)
                .where(User.id.in_(ids))
            )
            return [
                Principal(uid, name, full, role, unit, path, "", False)
                for uid, name, full, role, unit, path in rows
            ]
    finally:
        await engine.dispose()


async def check_totals(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as session:
            return await totals.differences(session)
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url = database_url()
    state = app_state()
    with stage(f"seeding {2 * args.attempts + 64} officers and two quizzes"):
        await reset_database(url)
        seeded = await seed(url, officers=2 * args.attempts + 64, question_mix=QUESTION_MIX)
        officers = await officers_of(url, seeded.officer_ids)
        random.Random(1).shuffle(officers)
        warm, first, second = officers[:64], officers[64 : 64 + args.attempts], officers[64 + args.attempts :]
        warm_quiz = await create_published_quiz(url, seeded, "预热", QUIZ_RULES)
        app_quiz = await create_published_quiz(url, seeded, "计入统计", QUIZ_RULES)
        floor_quiz = await create_published_quiz(url, seeded, "不计统计", QUIZ_RULES)
    with stage("starting the attempts"):
        warm_ids = await start_attempts(url, warm_quiz, warm)
        app_ids = await start_attempts(url, app_quiz, first)
        floor_ids = await start_attempts(url, floor_quiz, second)
    with stage("finishing: warm-up, app (with totals), floor (without)"):
        await finish_all(url, warm_ids, args.concurrency)
        app = await finish_all(url, app_ids, args.concurrency)
        differences = await check_totals(url)
        floor = await without_totals(lambda: finish_all(url, floor_ids, args.concurrency))
    rows = [{"target": "app", **app}, {"target": "floor", **floor}]
    for row in rows:
        for key, value in list(row.items()):
            if isinstance(value, float):
                row[key] = round(value, 1)
    data = {
        "machine": machine(),
        "attempts": args.attempts,
        "concurrency": args.concurrency,
        "rows": rows,
        "throughput_vs_floor": round(ratio(app["throughput_per_s"], floor["throughput_per_s"]), 2),
        "totals_differences": differences,
        "app_changed": app_changed_since(state),
    }
    print_rows(rows)
    print(f"throughput with totals / without: {data['throughput_vs_floor']}")
    print(f"totals equal their recomputation: {not any(differences.values())} ({differences})")
    if data["app_changed"]:
        print("  ! app/ changed during this run: its figures may mix two versions of the app")
    print(f"results: {write_results(NAME, data)}")
    if any(differences.values()):
        raise SystemExit(1)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--attempts", type=int, default=1500, help="attempts finished per target")
    parser.add_argument("--concurrency", type=int, default=16, help="finishes in flight")
    args = parser.parse_args()
    main_guard(lambda: run(args))


if __name__ == "__main__":
    main()
