"""Attempts started per second for one quiz drawing 20 of 500 questions.

    python -m bench.start_burst [--starts 3000] [--window 5] [--connections 512] [--workers 2,1]

Goal (the issue): 3,000 starts arriving within 5 s are served with p99 <= 1 s and no errors.

Open loop: request i is sent at t0 + i * window/starts whatever happened before, and its latency
counts from that scheduled moment (time waiting for a free client connection included), over up to
`--connections` keep-alive connections. Each of the 3,000 officers (minted tokens) sends one
POST /api/v1/quizzes/{id}/attempts. Before the burst, 64 other officers start a separate warm-up
quiz (same rules) so the server's pools and caches are warm; they are not counted.

Floor, same schedule, same client: GET /floor/paper on the bare app (bench/floor_app.py), which
answers an AttemptOut of 20 items like the real start does, without any database work.

For each worker count (default 2, then 1) the database is rebuilt from scratch. Afterwards it must
hold exactly `starts` attempts for the quiz, each with 20 items, and no officer twice.
"""

import argparse
import signal
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    APP_TARGET,
    FLOOR_TARGET,
    QUESTION_MIX,
    QUIZ_RULES,
    app_changed_since,
    create_published_quiz,
    database_url,
    fetch,
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
from bench.save_answers import per_request, print_profile

NAME = "start_burst"
GOAL_P99_MS = 1000.0
WARMUP_OFFICERS = 64
PAPER_SIZE = sum(count for _, count in QUIZ_RULES)

Request = tuple[str, str, str | None, str | None]  # method, path, Authorization, body


def open_spec(
    port: int, requests: list[Request], warmup: list[Request], args: argparse.Namespace
) -> dict[str, Any]:
    return {
        "mode": "open",
        "host": "127.0.0.1",
        "port": port,
        "timeout": args.timeout,
        "interval": args.window / len(requests),
        "max_connections": args.connections,
        "requests": requests,
        "warmup": {"requests": warmup, "concurrency": 16},
    }


async def verify_attempts(url: str, quiz_id: int, starts: int, created: int) -> dict[str, Any]:
    one = await fetch(
        url,
        """
        SELECT count(*) AS attempts, count(DISTINCT user_id) AS officers,
               count(DISTINCT draw_index) AS draw_indexes,
               (SELECT draw_counter FROM quizzes WHERE id = $1) AS draw_counter
        FROM attempts WHERE quiz_id = $1
        """,
        quiz_id,
    )
    row = one[0]
    sizes = await fetch(
        url,
        """
        SELECT n, count(*) AS attempts FROM (
            SELECT a.id, count(i.id) AS n FROM attempts a LEFT JOIN attempt_items i ON i.attempt_id = a.id
            WHERE a.quiz_id = $1 GROUP BY a.id
        ) t GROUP BY n ORDER BY n
        """,
        quiz_id,
    )
    duplicates = await fetch(
        url,
        "SELECT user_id FROM attempts WHERE quiz_id = $1 GROUP BY user_id HAVING count(*) > 1",
        quiz_id,
    )
    exposure = await fetch(
        url,
        """
        SELECT type, min(n) AS least, max(n) AS most, count(*) AS questions FROM (
            SELECT i.type, i.question_id, count(*) AS n FROM attempt_items i
            JOIN attempts a ON a.id = i.attempt_id WHERE a.quiz_id = $1 GROUP BY i.type, i.question_id
        ) t GROUP BY type ORDER BY type
        """,
        quiz_id,
    )
    items_per_attempt = {str(r["n"]): int(r["attempts"]) for r in sizes}
    return {
        "starts_answered_201": created,
        "attempts_equal_201_answers": row["attempts"] == created,
        "attempts": row["attempts"],
        "distinct_officers": row["officers"],
        "officers_with_two_attempts": len(duplicates),
        "items_per_attempt": items_per_attempt,
        "draw_counter": row["draw_counter"],
        "distinct_draw_indexes": row["draw_indexes"],
        # Least-exposed-first drawing: within a type, serve counts differ by at most one.
        "exposure_by_type": {
            r["type"]: {"questions_served": r["questions"], "least": r["least"], "most": r["most"]}
            for r in exposure
        },
        "ok": row["attempts"] == starts
        and row["officers"] == starts
        and not duplicates
        and items_per_attempt == {str(PAPER_SIZE): starts},
    }


async def run_workers(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    url = database_url()
    officers = args.starts + WARMUP_OFFICERS
    with stage(f"workers={workers}: resetting, migrating, seeding {officers} officers and 500 questions"):
        await reset_database(url)
        seeded = await seed(url, officers=officers, question_mix=QUESTION_MIX)
        quiz_id = await create_published_quiz(url, seeded, "开考并发基准", QUIZ_RULES)
        warm_quiz_id = await create_published_quiz(url, seeded, "预热", QUIZ_RULES)
    ids = seeded.officer_ids
    burst_tokens = [seeded.tokens[uid] for uid in ids[: args.starts]]
    warm_tokens = [seeded.tokens[uid] for uid in ids[args.starts :]]

    floor_requests: list[Request] = [("GET", "/floor/paper", t, None) for t in burst_tokens]
    floor_warmup: list[Request] = [("GET", "/floor/paper", t, None) for t in warm_tokens]
    app_requests: list[Request] = [
        ("POST", f"/api/v1/quizzes/{quiz_id}/attempts", t, None) for t in burst_tokens
    ]
    app_warmup: list[Request] = [
        ("POST", f"/api/v1/quizzes/{warm_quiz_id}/attempts", t, None) for t in warm_tokens
    ]

    rows: dict[str, dict[str, Any]] = {}
    extra: dict[str, dict[str, Any]] = {}
    for name, target, requests, warmup in (
        (f"floor_paper_get w={workers}", FLOOR_TARGET, floor_requests, floor_warmup),
        (f"app_start w={workers}", APP_TARGET, app_requests, app_warmup),
    ):
        with stage(f"{name}: {args.starts} requests over {args.window} s"):
            async with running_server(target, url, workers=workers) as server:
                raw = await run_loadgen(open_spec(server.port, requests, warmup, args))
        seconds = raw["measured_seconds"]
        rows[name] = summarize(name, raw, seconds)
        rows[name]["server_exceptions"] = server.problems
        extra[name] = {
            k: raw[k] for k in ("offered", "offered_seconds", "measured_seconds", "peak_connections")
        } | {"scheduler_lag_max_ms": raw["scheduler_lag_max_ms"], "db_pool": server.pool_note}
    with stage("checking the attempts in the database"):
        created = rows[f"app_start w={workers}"]["status_counts"].get("201", 0) - len(app_warmup)
        verification = await verify_attempts(url, quiz_id, args.starts, created)
    floor, app = rows[f"floor_paper_get w={workers}"], rows[f"app_start w={workers}"]
    return {
        "workers": workers,
        "targets": [floor, app],
        "load": extra,
        "ratios": {
            "served_per_s app/floor": ratio(app["throughput_per_s"], floor["throughput_per_s"]),
            "p50 app/floor": ratio(app["p50_ms"], floor["p50_ms"]),
            "p99 app/floor": ratio(app["p99_ms"], floor["p99_ms"]),
        },
        "goal_met": app["p99_ms"] <= GOAL_P99_MS and app["errors"] == 0 and app["ok"] == args.starts,
        "verification": verification,
    }


async def profile_starts(args: argparse.Namespace) -> dict[str, Any]:
    """One more run (not in the figures), workers=1: statements per start and a py-spy profile."""
    url = database_url()
    officers = args.starts + WARMUP_OFFICERS
    with stage("profile: reseeding, then the counting app (workers=1) sampled by py-spy"):
        await reset_database(url)
        seeded = await seed(url, officers=officers, question_mix=QUESTION_MIX)
        quiz_id = await create_published_quiz(url, seeded, "开考并发基准", QUIZ_RULES)
        warm_quiz_id = await create_published_quiz(url, seeded, "预热", QUIZ_RULES)
        tokens = [seeded.tokens[uid] for uid in seeded.officer_ids]
        requests: list[Request] = [
            ("POST", f"/api/v1/quizzes/{quiz_id}/attempts", t, None) for t in tokens[: args.starts]
        ]
        warmup: list[Request] = [
            ("POST", f"/api/v1/quizzes/{warm_quiz_id}/attempts", t, None) for t in tokens[args.starts :]
        ]
        with tempfile.TemporaryDirectory() as tmp:
            raw_file = Path(tmp) / "profile.raw"
            async with running_server(COUNTING_TARGET, url, workers=1) as server:
                spy = start_py_spy(server.proc.pid, 600, raw_file)
                raw = await run_loadgen(open_spec(server.port, requests, warmup, args))
                counts = await server_counts(server)
                if spy is not None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
                    spy.wait()
            profile = {
                "served_per_s_while_profiled": raw["ok"] / raw["measured_seconds"],
                "per_request": per_request(counts),
                "py_spy": top_functions(raw_file) if raw_file.exists() else None,
            }
    print_profile(profile)
    return profile


async def run(args: argparse.Namespace) -> dict[str, Any]:
    started = machine()
    runs = [await run_workers(args, w) for w in args.workers]
    profile = await profile_starts(args) if args.profile else None
    data = {
        "benchmark": NAME,
        "title": f"{args.starts} attempt starts arriving within {args.window} s (20 of 500 questions)",
        "config": {
            "starts": args.starts,
            "window_s": args.window,
            "offered_per_s": args.starts / args.window,
            "max_connections": args.connections,
            "timeout_s": args.timeout,
            "workers": args.workers,
            "paper_size": PAPER_SIZE,
            "database": database_url().rsplit("/", 1)[-1],
        },
        "goal": {"p99_ms_at_most": GOAL_P99_MS, "errors": 0},
        "machine": started,
        "app_changed_during_run": app_changed_since(started["app_state"]),
        "runs": runs,
        "profile": profile,
    }
    report(data)
    data["results_file"] = str(write_results(NAME, data))
    print(f"results: {data['results_file']}")
    return data


def report(data: dict[str, Any]) -> None:
    cfg = data["config"]
    print(
        f"\n{data['title']}: open loop, {cfg['offered_per_s']:.0f} starts/s offered, "
        f"up to {cfg['max_connections']} connections"
    )
    print_rows([t for r in data["runs"] for t in r["targets"]])
    starts = cfg["starts"]
    for r in data["runs"]:
        v = r["verification"]
        ratios = ", ".join(f"{k} {val:.2f}" for k, val in r["ratios"].items())
        print(f"  workers={r['workers']}: {ratios}")
        print(
            f"  workers={r['workers']}: goal (p99 <= {data['goal']['p99_ms_at_most']:.0f} ms, no errors) "
            f"{'met' if r['goal_met'] else 'NOT met'}; database: {v['attempts']} attempts"
            f" ({'=' if v['attempts_equal_201_answers'] else '!='} {v['starts_answered_201']} answered 201),"
            f" {v['distinct_officers']} officers, {v['officers_with_two_attempts']} twice, items per attempt"
            f" {v['items_per_attempt']}, draw_counter {v['draw_counter']}:"
            f" {'OK' if v['ok'] else f'NOT exactly {starts}'}"
        )
        for target in r["targets"]:
            for sample in target["error_samples"]:
                print(f"  {target['target']} error: {sample}")
            for problem, count in target["server_exceptions"].items():
                print(f"  {target['target']} server log, {count}x {problem}")


def workers_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--starts", type=int, default=3000, help="officers starting, one request each")
    parser.add_argument("--window", type=float, default=5.0, help="seconds over which the starts arrive")
    parser.add_argument("--connections", type=int, default=512, help="client keep-alive connections, at most")
    parser.add_argument("--workers", type=workers_list, default=[2, 1], help="app worker counts, e.g. 2,1")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="per-request limit from its scheduled time"
    )
    parser.add_argument(
        "--profile", action="store_true", help="one more run (workers=1): statements per start, py-spy"
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
