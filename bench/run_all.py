"""Both benchmarks, one after the other, then one summary table (`make bench`).

python -m bench.run_all [--duration 10] [--connections 64] [--starts 3000] [--window 5] [--profile]
"""

import argparse
from typing import Any

from bench import save_answers, start_burst
from bench.common import main_guard, print_rows, write_results


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    save = parser.add_argument_group("save_answers")
    save.add_argument("--duration", type=float, default=10.0, help="measured seconds per target")
    save.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before measuring")
    save.add_argument("--connections", type=int, default=64, help="concurrent connections (officers)")
    burst = parser.add_argument_group("start_burst")
    burst.add_argument("--starts", type=int, default=3000, help="officers starting, one request each")
    burst.add_argument("--window", type=float, default=5.0, help="seconds over which the starts arrive")
    burst.add_argument("--burst-connections", type=int, default=512, help="client connections, at most")
    burst.add_argument("--workers", type=start_burst.workers_list, default=[2, 1], help="e.g. 2,1")
    parser.add_argument("--profile", action="store_true", help="also profile the app (py-spy, statements)")
    return parser.parse_args()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    save_args = argparse.Namespace(
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        timeout=30.0,
        profile=args.profile,
    )
    burst_args = argparse.Namespace(
        starts=args.starts,
        window=args.window,
        connections=args.burst_connections,
        workers=args.workers,
        timeout=120.0,
        profile=args.profile,
    )
    save = await save_answers.run(save_args)
    burst = await start_burst.run(burst_args)

    print("\nSummary (absolute figures; ratios against floors measured in the same run)")
    print_rows(save["targets"] + [t for r in burst["runs"] for t in r["targets"]])
    lines = [
        f"save_answers  app_save/floor_raw_upsert {save['ratios']['app_save/floor_raw_upsert']:.2f}"
        f" (goal >= {save_answers.GOAL_RATIO}), app_save p99 {save['targets'][2]['p99_ms']:.0f} ms"
        f" (goal <= {save_answers.GOAL_P99_MS:.0f}); saves verified: {save['verification']['ok']}"
    ]
    for r in burst["runs"]:
        app, v, size = r["targets"][1], r["verification"], start_burst.PAPER_SIZE
        lines.append(
            f"start_burst   workers={r['workers']}: served {app['throughput_per_s']:.0f}/s"
            f" (offered {burst['config']['offered_per_s']:.0f}/s), p99 {app['p99_ms']:.0f} ms"
            f" (goal <= {start_burst.GOAL_P99_MS:.0f}), errors {app['errors']},"
            f" served/s app/floor {r['ratios']['served_per_s app/floor']:.2f};"
            f" database: {v['attempts']} attempts ({'exactly' if v['ok'] else 'not'} {args.starts};"
            f" one per officer: {v['officers_with_two_attempts'] == 0};"
            f" {size} items each: {list(v['items_per_attempt']) == [str(size)]})"
        )
    print("\n".join(f"  {line}" for line in lines))
    summary = {"save_answers": save["results_file"], "start_burst": burst["results_file"], "summary": lines}
    print(f"results: {write_results('run_all', summary)}")
    return summary


def main() -> None:
    args = parse()
    main_guard(lambda: run(args))


if __name__ == "__main__":
    main()
