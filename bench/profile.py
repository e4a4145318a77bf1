"""Where the app's time goes: statement counts per request and a py-spy profile of the worker.

Used by `--profile` of the benchmarks. The counting app is the real app with SQLAlchemy and pool
event listeners added (never used for the figures themselves: listeners cost a little):

    uvicorn bench.profile:create_counting_app --factory
    GET /__bench/counts  ->  requests, statements by kind, transactions, pings, new connections

py-spy (`.venv/bin/pip install py-spy`) samples the worker while the load runs; `top_functions`
folds its raw output into self and inclusive percentages.
"""

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import event
from starlette.types import Receive, Scope, Send

from app.main import create_app

COUNTING_TARGET = "bench.profile:create_counting_app"
_FIRST_WORDS = re.compile(r"^\s*(\w+)(?:\s+\w+)?", re.ASCII)


def _kind(statement: str) -> str:
    """A short label for a statement: its first words and the first table it names."""
    head = _FIRST_WORDS.match(statement)
    verb = head[1].upper() if head else "?"
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
    return f"{verb} {table[1]}" if table else verb


def create_counting_app() -> FastAPI:
    app = create_app()
    counts: Counter[str] = Counter()
    engine = app.state.database.engine.sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        counts[f"statement: {_kind(statement)}"] += 1
        counts["statements"] += 1

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        counts["transactions"] += 1

    @event.listens_for(engine, "commit")
    def _commit(conn: Any) -> None:
        counts["commits"] += 1

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Any) -> None:
        counts["rollbacks"] += 1

    @event.listens_for(engine.pool, "connect")
    def _connect(dbapi_conn: Any, record: Any) -> None:
        counts["new_connections"] += 1

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        counts["pool_checkouts (each pre-pinged)"] += 1

    @event.listens_for(engine.pool, "reset")
    def _reset(dbapi_conn: Any, record: Any, state: Any) -> None:
        counts["pool_resets"] += 1

    inner = app.build_middleware_stack

    def build() -> Any:
        stack = inner()

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] == "/__bench/counts":
                body = orjson.dumps(dict(counts))
                headers = [(b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if scope["type"] == "http" and scope["path"] != "/readyz":
                counts["requests"] += 1
            await stack(scope, receive, send)

        return counting

    app.build_middleware_stack = build  # type: ignore[method-assign]
    return app


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "py-spy")
    return found if Path(found).is_file() else None


def start_py_spy(pid: int, seconds: float, output: Path, rate: int = 100) -> subprocess.Popen[bytes] | None:
    tool = py_spy()
    if tool is None:
        print("  py-spy is not installed (.venv/bin/pip install py-spy): no profile")
        return None
    return subprocess.Popen(
        [
            tool,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--nonblocking",
            "-o",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# Where a save or a start spends its time: a sample counts for a bucket when its stack holds the frame.
BUCKETS: dict[str, str] = {
    "principal dependency (token, SELECT users+sessions)": "_principal (app/core/deps.py",
    "JWT decode (python-jose)": "decode_access_token (app/core/security.py",
    "pool pre-ping (BEGIN; ';'; ROLLBACK)": "_async_ping (",
    "new database connections": "connect_utils.py",
    "BEGIN": "Transaction.start (asyncpg",
    "COMMIT": "Transaction.commit (asyncpg",
    "sync dependency run in the threadpool": "run_in_threadpool (",
    "save: _upsert_response statement built": "_upsert_response (app/quizzes/service.py",
    "save: Insert.excluded alias (new Table copy)": "Insert.excluded (",
    "start: _quiz_for_taker": "_quiz_for_taker (app/quizzes/service.py",
    "start: _claim_draw_index (UPDATE quizzes, own commit)": "_claim_draw_index (app/quizzes/service.py",
    "start: draw_paper (pure)": "draw_paper (app/quizzes/drawing.py",
    "start: session.flush (INSERT attempt, items)": "AsyncSession.flush (",
    "start: attempt_view (3 SELECTs + AttemptOut)": "attempt_view (app/quizzes/service.py",
    "SQL compile (cache misses)": "SQLCompiler.__init__ (",
    "response serialisation": "serialize_response (fastapi",
}
GREENLET = "SQLAlchemy work inside greenlets (py-spy cannot see the caller)"
OUTSIDE = "event loop, HTTP protocol, driver callbacks (outside any request)"


def _function(frame: str) -> str:
    return re.sub(r":\d+\)$", ")", frame)


def top_functions(raw_file: Path, limit: int = 25) -> dict[str, Any]:
    """Self and inclusive shares (percent of the event-loop thread's samples) from a py-spy raw file.

    Samples from other threads (anyio's threadpool, mostly idle) are counted apart; frames every
    sample shares (the event loop, uvicorn's entry) are left out of the inclusive list. Buckets are
    lower bounds: work SQLAlchemy runs inside a greenlet is counted under GREENLET, not its caller.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    total = other_threads = 0
    for line in raw_file.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        if "Thread._bootstrap" in stack:
            other_threads += n
            continue
        total += n
        frames = [_function(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
        for name, marker in BUCKETS.items():
            if marker in stack:
                buckets[name] += n
        # SQLAlchemy's async layer runs ORM code in greenlets; py-spy shows their stacks rootless.
        if not frames[0].startswith(("_run_module_as_main", "<module>", "_bootstrap", "main")):
            buckets[GREENLET] += n
        elif "request_response.<locals>.app" not in stack:
            buckets[OUTSIDE] += n
    if not total:
        return {"samples": 0}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(limit)]

    return {
        "samples": total,
        "other_thread_samples": other_threads,
        "buckets": share(buckets),
        "self": share(own),
        "inclusive": share(Counter({k: v for k, v in inclusive.items() if v < 0.9 * total})),
    }
