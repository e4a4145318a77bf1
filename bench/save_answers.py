"""Answer save on PostgreSQL, one app process (workers=1), 64 concurrent connections.

    python -m bench.save_answers [--duration 10] [--warmup 2] [--connections 64]

Closed loop: each connection belongs to one officer with a started attempt and cycles over that
attempt's single-choice items, sending PUT {"response": <a valid option id>, "seq": n} with n
increasing. Three targets, one after the other, in the same run:

floor_validated_put  bench/floor_app.py: the same body validated and answered, no database
floor_raw_upsert     the same plus one raw asyncpg INSERT .. ON CONFLICT .. WHERE seq < excluded.seq
app_save             the real PUT /api/v1/attempts/{attempt_id}/items/{item_id} with Bearer tokens

Goal (the issue): app_save/floor_raw_upsert >= 0.7 and app_save p99 <= 100 ms. Afterwards the
database must hold, for every (attempt, item), the highest seq the app acknowledged (accepted).
"""

import argparse
import asyncio
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    APP_TARGET,
    FLOOR_TARGET,
    QUIZ_RULES,
    app_changed_since,
    create_published_quiz,
    database_url,
    execute,
    fetch,
    http_call,
    machine,
    main_guard,
    print_rows,
    ratio,
    reset_database,
    run_loadgen,
    running_server,
    seed,
    server_counts,
    stage,
    summarize,
    write_results,
)
from bench.profile import COUNTING_TARGET, start_py_spy, top_functions

NAME = "save_answers"
GOAL_RATIO = 0.7
GOAL_P99_MS = 100.0
QUESTIONS = [("single", 40), ("multiple", 20), ("true_false", 20), ("fill_blank", 20)]
PATH = re.compile(r"/api/v1/attempts/(\d+)/items/(\d+)$")


@dataclass(frozen=True)
class Officer:
    auth: str
    attempt_id: int
    single_items: list[tuple[int, list[str]]]  # (item id, option ids)


async def start_attempts(port: int, quiz_id: int, tokens: list[str]) -> list[Officer]:
    """Every officer starts the quiz through the API (not measured)."""
    gate = asyncio.Semaphore(8)

    async def start(auth: str) -> Officer:
        async with gate:
            status, body = await http_call(port, "POST", f"/api/v1/quizzes/{quiz_id}/attempts", auth)
        if status != 201:
            raise RuntimeError(f"starting an attempt answered {status}: {body}")
        items = [(i["id"], [o["id"] for o in i["options"]]) for i in body["items"] if i["type"] == "single"]
        return Officer(auth, int(body["id"]), items)

    return list(await asyncio.gather(*(start(t) for t in tokens)))


def closed_spec(
    port: int, officers: list[Officer], path_prefix: str, args: argparse.Namespace, track: bool
) -> dict[str, Any]:
    connections = []
    for officer in officers:
        # Item after item, each time another of its options: every save changes the answer.
        width = max(len(options) for _, options in officer.single_items)
        items = [
            (f"{path_prefix}/{officer.attempt_id}/items/{item_id}", options[k % len(options)])
            for k in range(width)
            for item_id, options in officer.single_items
        ]
        connections.append({"auth": officer.auth, "method": "PUT", "items": items})
    return {
        "mode": "closed",
        "host": "127.0.0.1",
        "port": port,
        "timeout": args.timeout,
        "warmup": args.warmup,
        "duration": args.duration,
        "connections": connections,
        "track_acks": track,
    }


async def verify_saves(url: str, acked: dict[str, int], not_accepted: int) -> dict[str, Any]:
    """Every acknowledged save is stored: the stored seq equals the highest accepted seq."""
    expected: dict[tuple[int, int], int] = {}
    for path, seq in acked.items():
        match = PATH.match(path)
        assert match is not None, path
        expected[(int(match[1]), int(match[2]))] = seq
    rows = await fetch(url, "SELECT attempt_id, item_id, seq FROM attempt_responses")
    stored = {(r["attempt_id"], r["item_id"]): r["seq"] for r in rows}
    lost = [(key, seq, stored.get(key)) for key, seq in expected.items() if stored.get(key, -1) < seq]
    newer = [key for key, seq in expected.items() if stored.get(key, -1) > seq]
    return {
        "items_acknowledged": len(expected),
        "rows_stored": len(stored),
        "stored_equals_highest_acked": len(expected) - len(lost) - len(newer),
        "lost": len(lost),
        "lost_examples": [f"{k}: acked {s}, stored {v}" for k, s, v in lost[:5]],
        "stored_newer_than_acked": len(newer),
        "answers_not_accepted": not_accepted,
        "ok": not lost and not newer and len(stored) == len(expected),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url = database_url()
    started = machine()
    with stage(f"resetting and migrating {url.rsplit('/', 1)[-1]}"):
        await reset_database(url)
    with stage(f"seeding {args.connections} officers and {sum(c for _, c in QUESTIONS)} questions"):
        seeded = await seed(url, officers=args.connections, question_mix=QUESTIONS)
        quiz_id = await create_published_quiz(url, seeded, "答题保存基准", QUIZ_RULES)
    tokens = [seeded.tokens[uid] for uid in seeded.officer_ids]
    results: dict[str, dict[str, Any]] = {}
    pools: dict[str, str] = {}
    seconds = float(args.duration)

    with stage("app_save: app (workers=1), attempts started through the API, then the closed loop"):
        async with running_server(APP_TARGET, url, workers=1) as server:
            officers = await start_attempts(server.port, quiz_id, tokens)
            raw = await run_loadgen(closed_spec(server.port, officers, "/api/v1/attempts", args, track=True))
            pools["app_save"] = server.pool_note
    acked, not_accepted = raw.pop("acked"), raw.pop("not_accepted")
    results["app_save"] = summarize("app_save", raw, seconds)
    results["app_save"]["server_exceptions"] = server.problems
    with stage("checking every acknowledged save is stored"):
        verification = await verify_saves(url, acked, not_accepted)

    await execute(url, "TRUNCATE attempt_responses")  # the floor starts from the same empty table
    with stage("floors: bare FastAPI app (workers=1)"):
        async with running_server(FLOOR_TARGET, url, workers=1, floor_database=True) as floor:
            for name, prefix in (("floor_validated_put", "/floor"), ("floor_raw_upsert", "/floor-db")):
                raw = await run_loadgen(closed_spec(floor.port, officers, prefix, args, track=False))
                raw.pop("acked")
                results[name] = summarize(name, raw, seconds)
                pools[name] = floor.pool_note
        for name in ("floor_validated_put", "floor_raw_upsert"):
            results[name]["server_exceptions"] = floor.problems

    profile = await profile_app(url, officers, args) if args.profile else None

    app, raw_upsert, validated = (
        results["app_save"],
        results["floor_raw_upsert"],
        results["floor_validated_put"],
    )
    ratios = {
        "app_save/floor_raw_upsert": ratio(app["throughput_per_s"], raw_upsert["throughput_per_s"]),
        "app_save/floor_validated_put": ratio(app["throughput_per_s"], validated["throughput_per_s"]),
        "floor_raw_upsert/floor_validated_put": ratio(
            raw_upsert["throughput_per_s"], validated["throughput_per_s"]
        ),
    }
    goals = {
        "ratio_to_raw_upsert_at_least": GOAL_RATIO,
        "p99_ms_at_most": GOAL_P99_MS,
        "ratio_met": ratios["app_save/floor_raw_upsert"] >= GOAL_RATIO,
        "p99_met": app["p99_ms"] <= GOAL_P99_MS,
        "no_errors": all(r["errors"] == 0 for r in results.values()),
    }
    data = {
        "benchmark": NAME,
        "title": "Answer save on PostgreSQL, one app process, closed loop",
        "config": {
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "workers": 1,
            "database": url.rsplit("/", 1)[-1],
            "db_pools": pools,
        },
        "machine": started,
        "app_changed_during_run": app_changed_since(started["app_state"]),
        "targets": [results["floor_validated_put"], results["floor_raw_upsert"], results["app_save"]],
        "ratios": ratios,
        "goals": goals,
        "verification": verification,
        "profile": profile,
    }
    report(data)
    data["results_file"] = str(write_results(NAME, data))
    print(f"results: {data['results_file']}")
    return data


async def profile_app(url: str, officers: list[Officer], args: argparse.Namespace) -> dict[str, Any]:
    """One more app run (not in the figures): statements per save, and a py-spy profile of the worker."""
    await execute(url, "TRUNCATE attempt_responses")
    with (
        stage("profile: the app with statement counting, sampled by py-spy"),
        tempfile.TemporaryDirectory() as tmp,
    ):
        raw_file = Path(tmp) / "profile.raw"
        async with running_server(COUNTING_TARGET, url, workers=1) as server:
            spy = start_py_spy(server.proc.pid, args.warmup + args.duration - 1, raw_file)
            raw = await run_loadgen(closed_spec(server.port, officers, "/api/v1/attempts", args, track=False))
            counts = await server_counts(server)
            if spy is not None:
                spy.wait()
        profile = {
            "throughput_per_s_while_profiled": raw["ok"] / args.duration,
            "per_request": per_request(counts),
            "py_spy": top_functions(raw_file) if raw_file.exists() else None,
        }
    print_profile(profile)
    return profile


def per_request(counts: dict[str, int]) -> dict[str, float]:
    requests = max(1, counts.get("requests", 0))
    return {k: round(v / requests, 3) for k, v in sorted(counts.items()) if k != "requests"} | {
        "requests": requests
    }


def print_profile(profile: dict[str, Any]) -> None:
    print("  per request:", ", ".join(f"{k} {v}" for k, v in profile["per_request"].items()))
    spy = profile.get("py_spy")
    if spy and spy.get("samples"):
        print(f"  py-spy, share of the event-loop thread's {spy['samples']} samples:")
        for name, share in spy["buckets"]:
            print(f"    {share:5.1f}%  {name}")
        print("  top functions (self):")
        for name, share in spy["self"][:12]:
            print(f"    {share:5.1f}%  {name}")


def report(data: dict[str, Any]) -> None:
    cfg = data["config"]
    print(
        f"\n{data['title']}: {cfg['connections']} connections, {cfg['duration_s']} s measured "
        f"after {cfg['warmup_s']} s warm-up"
    )
    print_rows(data["targets"])
    for name, value in data["ratios"].items():
        print(f"  {name:38} {value:.2f}")
    goals = data["goals"]
    met = {key: "met" if goals[key] else "NOT met" for key in ("ratio_met", "p99_met")}
    print(
        f"  goal ratio >= {goals['ratio_to_raw_upsert_at_least']}: {met['ratio_met']};"
        f" goal p99 <= {goals['p99_ms_at_most']:.0f} ms: {met['p99_met']};"
        f" errors: {'none' if goals['no_errors'] else 'SOME'}"
    )
    v = data["verification"]
    print(
        f"  stored = highest acknowledged seq for {v['stored_equals_highest_acked']}/"
        f"{v['items_acknowledged']} items; lost {v['lost']}; not accepted {v['answers_not_accepted']}:"
        f" {'OK' if v['ok'] else 'FAILED'}"
    )
    for target in data["targets"]:
        for sample in target["error_samples"]:
            print(f"  {target['target']} error: {sample}")
        for problem, count in target["server_exceptions"].items():
            print(f"  {target['target']} server log, {count}x {problem}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before measuring")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (officers)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    parser.add_argument(
        "--profile", action="store_true", help="one more app run: statements per save and a py-spy profile"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args = parser.parse_args()
    main_guard(lambda: run(args))


if __name__ == "__main__":
    main()
