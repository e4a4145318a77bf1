"""What both benchmarks share: the database, seeding, minted tokens, server processes, the load client.

Everything talks to PostgreSQL (`YINGZHI_BENCH_DATABASE_URL`, default the local `bench` database,
whose public schema is dropped and recreated by every benchmark) and to servers on 127.0.0.1.
"""

import asyncio
import atexit
import contextlib
import hashlib
import math
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.auth.models import AuthSession
from app.bank.models import QuestionType
from app.bank.service import get_or_create_area, get_or_create_bank, new_question
from app.core.config import Settings
from app.core.deps import Principal
from app.core.security import create_access_token, hash_password, new_session_id
from app.db.migrations import upgrade
from app.db.types import utcnow
from app.quizzes.schemas import QuizIn, RuleIn, TargetIn
from app.quizzes.service import create_quiz, publish_quiz
from app.units.models import Role, User
from app.units.service import create_unit, create_user
from bench.loadgen import Connection, request_bytes

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
# Tokens are minted before the runs and must outlive them (the app's default is 15 minutes).
TOKEN_MINUTES = 240
# Questions per type in the seeded bank (500 in all) and per quiz (20 in all).
QUESTION_MIX: list[tuple[str, int]] = [
    ("single", 200),
    ("multiple", 120),
    ("true_false", 100),
    ("fill_blank", 80),
]
QUIZ_RULES: list[tuple[str, int]] = [("single", 10), ("multiple", 5), ("true_false", 3), ("fill_blank", 2)]
AREAS = ["法律法规基础/宪法", "法律法规基础/刑法", "警示教育/三个规定", "党史学习教育", "英模事迹"]
DEPARTMENTS = 25
APP_TARGET = "app.main:create_app"
FLOOR_TARGET = "bench.floor_app:create_floor_app"


def database_url() -> str:
    """The benchmark database; its schema is dropped, so its name must say it is for benchmarks."""
    url = os.environ.get("YINGZHI_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    if not url.startswith("postgresql+asyncpg://"):
        raise SystemExit("YINGZHI_BENCH_DATABASE_URL must be a postgresql+asyncpg:// URL")
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    if "bench" not in name:
        raise SystemExit(
            f"refusing to drop the schema of database {name!r}: "
            "YINGZHI_BENCH_DATABASE_URL must name a database whose name contains 'bench'"
        )
    return url


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as a plain libpq-style DSN for asyncpg."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


# One secret per benchmark process: the servers get it in their environment, the minter uses it.
SECRET_KEY = secrets.token_urlsafe(48)


# ---------------------------------------------------------------- sample questions


@dataclass(frozen=True)
class SampleQuestion:
    qtype: str
    stem: str
    options: list[str]
    answer: Any  # authoring form (option indexes for choice types), as new_question takes it
    explanation: str


_LAWS = ["宪法", "刑法", "刑事诉讼法", "民法典", "监察法", "人民警察法", "法官法", "检察官法"]
_TOPICS = [
    "回避制度",
    "证据规则",
    "强制措施",
    "审判监督",
    "执法办案",
    "涉案财物管理",
    "廉洁自律",
    "过问案件记录",
]


def sample_question(qtype: str, n: int) -> SampleQuestion:
    """Deterministic question text of realistic length (a stem of ~50 characters, 4 options)."""
    law = _LAWS[n % len(_LAWS)]
    topic = _TOPICS[(n // len(_LAWS)) % len(_TOPICS)]
    explanation = (
        f"依据《中华人民共和国{law}》及相关规定，{topic}应当严格依法进行，"
        f"本题考查对{topic}基本要求的掌握（基准题目{n}）。"
    )
    if qtype in ("single", "multiple"):
        asks = "正确的是" if qtype == "single" else "正确的有"
        stem = f"根据《中华人民共和国{law}》的有关规定，下列关于{topic}的说法中，{asks}（第{n}题）"
        options = [f"{topic}应当由办案机关负责人依法决定并记录在案（{n}-{i}）" for i in range(4)]
        answer: Any = n % 4 if qtype == "single" else sorted({n % 4, (n + 1) % 4})
    elif qtype == "true_false":
        stem = f"判断：依照《中华人民共和国{law}》，{topic}的相关规定适用于全体政法干警。（第{n}题）"
        options = []
        answer = n % 2 == 0
    else:
        stem = f"填空：《中华人民共和国{law}》规定，{topic}应当坚持____原则，并做到____。（第{n}题）"
        options = []
        answer = [["依法公正", "公正"], ["全程留痕"]]
    return SampleQuestion(qtype, stem, options, answer, explanation)


# ---------------------------------------------------------------- database and seeding


async def reset_database(url: str) -> None:
    """Drop and recreate the public schema, then migrate to head (the only way the schema is made)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop


def bench_settings(url: str) -> Settings:
    """The Settings the servers get through their environment (see `server_env`)."""
    return Settings(
        database_url=url,
        secret_key=SECRET_KEY,
        environment="production",
        sweep_enabled=False,
        access_token_minutes=TOKEN_MINUTES,
        redis_url=None,
    )


@dataclass
class Seeded:
    root_unit_id: int
    admin: Principal
    officer_ids: list[int]
    tokens: dict[int, str]  # officer id -> "Bearer ..."
    question_ids: dict[str, list[int]]


async def seed(url: str, *, officers: int, question_mix: Sequence[tuple[str, int]]) -> Seeded:
    """Units, one admin, `officers` officers with minted access tokens, and the questions."""
    settings = bench_settings(url)
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            root = await create_unit(session, code="BENCH", name="基准市", kind="city", parent=None)
            departments = [
                await create_unit(
                    session, code=f"BENCH-{d:02d}", name=f"基准单位{d:02d}", kind="department", parent=root
                )
                for d in range(DEPARTMENTS)
            ]
            one_hash = hash_password(secrets.token_urlsafe(16))  # nobody logs in: tokens are minted
            admin_user = await create_user(
                session,
                username="bench-admin",
                name="管理员",
                role=Role.admin,
                unit=root,
                password_hash=one_hash,
            )
            now = utcnow()
            rows = [
                {
                    "username": f"b{n:06d}",
                    "police_number": f"b{n:06d}",
                    "name": f"干警{n}",
                    "role": Role.officer.value,
                    "unit_id": departments[n % DEPARTMENTS].id,
                    "password_hash": one_hash,
                    "must_change_password": False,
                    "is_active": True,
                    "language": "zh-CN",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(officers)
            ]
            officer_ids: list[int] = (
                list(
                    (
                        await session.execute(
                            insert(User).returning(User.id, sort_by_parameter_order=True), rows
                        )
                    )
                    .scalars()
                    .all()
                )
                if rows
                else []
            )
            sessions = {uid: new_session_id() for uid in officer_ids}
            if sessions:
                await session.execute(
                    insert(AuthSession),
                    [
                        {"id": sid, "user_id": uid, "created_at": now, "expires_at": now + timedelta(days=1)}
                        for uid, sid in sessions.items()
                    ],
                )
            bank = await get_or_create_bank(session, "基准题库")
            areas = [await get_or_create_area(session, name) for name in AREAS]
            questions = []
            n = 0
            for qtype, count in question_mix:
                for _ in range(count):
                    n += 1
                    q = sample_question(qtype, n)
                    questions.append(
                        new_question(
                            bank=bank,
                            area=areas[n % len(areas)],
                            qtype=qtype,
                            stem=q.stem,
                            option_texts=q.options,
                            answer=q.answer,
                            explanation=q.explanation,
                            difficulty=1 + n % 5,
                            points={"single": 2, "multiple": 4, "true_false": 2, "fill_blank": 4}[qtype],
                        )
                    )
            session.add_all(questions)
            await session.flush()
            question_ids: dict[str, list[int]] = {}
            for question in questions:
                question_ids.setdefault(question.type, []).append(question.id)
            await session.commit()
            admin = Principal(
                id=admin_user.id,
                username=admin_user.username,
                name=admin_user.name,
                role=admin_user.role,
                unit_id=root.id,
                unit_path=root.path,
                session_id="",
                must_change_password=False,
            )
    finally:
        await engine.dispose()
    tokens = {
        uid: "Bearer "
        + create_access_token(settings, user_id=uid, session_id=sid, role="officer", now=datetime.now(UTC))[0]
        for uid, sid in sessions.items()
    }
    return Seeded(root.id, admin, officer_ids, tokens, question_ids)


async def create_published_quiz(
    url: str, seeded: Seeded, title: str, rules: Sequence[tuple[str, int]]
) -> int:
    """A quiz aimed at the root unit (and so every officer), published through the service."""
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            now = utcnow()
            quiz = await create_quiz(
                session,
                seeded.admin,
                QuizIn(
                    title=title,
                    time_limit_seconds=3600,
                    opens_at=now - timedelta(hours=1),
                    closes_at=now + timedelta(days=1),
                    attempts_allowed=1,
                    rules=[RuleIn(question_type=QuestionType(t), count=c) for t, c in rules],
                    targets=[TargetIn(unit_id=seeded.root_unit_id, include_subunits=True)],
                ),
            )
            await publish_quiz(session, quiz.id)
            return quiz.id
    finally:
        await engine.dispose()


async def fetch(url: str, sql: str, *args: Any) -> list[Any]:
    """Rows of one read-only query, straight through asyncpg (for the checks after a run)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# ---------------------------------------------------------------- server processes

_RUNNING: list["Server"] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(url: str, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("YINGZHI_REDIS_URL", "YINGZHI_DB_POOL_SIZE", "YINGZHI_DB_MAX_OVERFLOW", "BENCH_FLOOR_DSN"):
        env.pop(name, None)
    env.update(
        {
            "YINGZHI_DATABASE_URL": url,
            "YINGZHI_SECRET_KEY": SECRET_KEY,
            "YINGZHI_ENVIRONMENT": "production",
            "YINGZHI_SWEEP_ENABLED": "false",
            "YINGZHI_DEMO_MODE": "false",
            "YINGZHI_ACCESS_TOKEN_MINUTES": str(TOKEN_MINUTES),
        }
        | extra
    )
    return env


# The app's engine (pool_size 20 + max_overflow 20) and the floor's asyncpg pool (max 40), per process.
POOL_PER_WORKER = 40
# Connections left free for everyone else using the same PostgreSQL server (it is shared).
SPARE_CONNECTIONS = 8


async def connection_headroom(url: str) -> int:
    rows = await fetch(
        url,
        "SELECT current_setting('max_connections')::int"
        " - current_setting('superuser_reserved_connections')::int - count(*) AS free FROM pg_stat_activity",
    )
    return int(rows[0]["free"])


async def pool_settings(
    url: str, target: str, workers: int, floor_database: bool
) -> tuple[dict[str, str], str]:
    """Server environment for its database pools, capped when the shared server lacks room.

    The figures are meant for the app's own pool sizes; when other users of the PostgreSQL server
    leave too few free connections, each worker gets a smaller pool (reported with the figures).
    """
    uses_database = target != FLOOR_TARGET or floor_database
    extra = {"BENCH_FLOOR_DSN": asyncpg_dsn(url)} if target == FLOOR_TARGET and floor_database else {}
    if not uses_database:
        return extra, "no database"
    free = await connection_headroom(url) - SPARE_CONNECTIONS
    per_worker = POOL_PER_WORKER
    if free < workers * POOL_PER_WORKER:
        per_worker = max(4, free // workers)
        print(
            f"  ! only {free + SPARE_CONNECTIONS} free PostgreSQL connections: "
            f"pool capped at {per_worker} per worker (instead of {POOL_PER_WORKER})",
            flush=True,
        )
    if target == FLOOR_TARGET:
        extra |= {"BENCH_FLOOR_POOL_MIN": str(min(20, per_worker)), "BENCH_FLOOR_POOL_MAX": str(per_worker)}
    elif per_worker < POOL_PER_WORKER:
        extra |= {
            "YINGZHI_DB_POOL_SIZE": str(min(20, per_worker // 2)),
            "YINGZHI_DB_MAX_OVERFLOW": str(per_worker - min(20, per_worker // 2)),
        }
    note = f"{per_worker} per worker" + (
        " (capped: shared server short of connections)" if per_worker < POOL_PER_WORKER else ""
    )
    return extra, note


class Server:
    """One uvicorn process (its own process group: stopping it stops its workers too)."""

    def __init__(self, target: str, url: str, workers: int, env: dict[str, str], pool_note: str) -> None:
        self.target = target
        self.workers = workers
        self.pool_note = pool_note
        self.problems: dict[str, int] = {}  # exceptions in the server's log, filled by stop()
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="yingzhi-bench-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                target,
                "--factory",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=PROJECT_ROOT,
            env=server_env(url, env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _RUNNING.append(self)

    def log_tail(self, chars: int = 3000) -> str:
        return Path(self.log.name).read_text(errors="replace")[-chars:]

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (the supervisor itself when there is one worker)."""
        if self.workers == 1:
            return [self.proc.pid]
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(p) for p in out.split()]

    async def wait_ready(self, limit_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + limit_seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.target} exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
                status, _ = await http_call(self.port, "GET", "/readyz")
                if status == 200:
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.target} not ready after {limit_seconds} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self in _RUNNING:
            _RUNNING.remove(self)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()
        log = Path(self.log.name)
        if log.exists():
            self.problems = log_problems(log.read_text(errors="replace"))
            log.unlink()


_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Timeout)\w*): ?(.*)$")


def log_problems(text: str) -> dict[str, int]:
    """The final line of every traceback in a server log (exception: message), counted."""
    found: Counter[str] = Counter()
    for line in text.splitlines():
        match = _EXCEPTION_LINE.match(line.strip())
        if match:
            message = re.sub(r"\d+(\.\d+)?", "N", match[2])[:160]  # numbers vary; group by wording
            found[f"{match[1]}: {message}"] += 1
    return dict(found.most_common(10))


def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()


atexit.register(_stop_all)


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_servers_on_sigterm() -> None:
    """SIGTERM (and SIGINT, even when inherited as ignored) unwind like Ctrl-C: every `finally` runs."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main_guard(run: Callable[[], Coroutine[Any, Any, Any]]) -> None:
    """Run a benchmark's coroutine; on Ctrl-C or SIGTERM stop every server and exit with 130."""
    stop_servers_on_sigterm()
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        _stop_all()
        print("\ninterrupted: every server started was stopped", file=sys.stderr)
        sys.exit(130)


@contextlib.asynccontextmanager
async def running_server(
    target: str, url: str, workers: int, *, floor_database: bool = False
) -> AsyncIterator[Server]:
    """A server for the duration of the block; `floor_database` gives the floor app its asyncpg pool."""
    env, pool_note = await pool_settings(url, target, workers, floor_database)
    server = Server(target, url, workers, env, pool_note)
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


async def http_call(
    port: int, method: str, path: str, auth: str | None = None, body: Any = None
) -> tuple[int, Any]:
    """One request on its own connection (for setup, never measured); the answer parsed as JSON."""
    conn = Connection(HOST, port)
    try:
        raw = request_bytes(method, path, HOST, port, auth, orjson.dumps(body) if body is not None else None)
        async with asyncio.timeout(30):
            status, answer = await conn.request(raw)
    finally:
        conn.close()
    return status, orjson.loads(answer) if answer else None


async def server_counts(server: Server) -> dict[str, int]:
    """The statement counters of a bench.profile counting app (one worker)."""
    status, body = await http_call(server.port, "GET", "/__bench/counts")
    if status != 200:
        raise RuntimeError(f"/__bench/counts answered {status}")
    return dict(body)


# ---------------------------------------------------------------- the load client process


async def run_loadgen(spec: dict[str, Any]) -> dict[str, Any]:
    """Run bench.loadgen in its own process and return its result."""
    with tempfile.TemporaryDirectory(prefix="yingzhi-loadgen-") as folder:
        spec_path, result_path = Path(folder) / "spec.json", Path(folder) / "result.json"
        spec_path.write_bytes(orjson.dumps(spec))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.loadgen", str(spec_path), str(result_path), cwd=PROJECT_ROOT
        )
        try:
            code = await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if code != 0:
            raise RuntimeError(f"the load client failed with exit code {code}")
        result: dict[str, Any] = orjson.loads(result_path.read_bytes())
        return result


# ---------------------------------------------------------------- figures


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(name: str, result: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Throughput and latency figures (milliseconds) of one loadgen result; drops the raw latencies."""
    latencies = sorted(result.pop("latencies"))
    return {
        "target": name,
        "ok": result["ok"],
        "errors": result["errors"],
        "throughput_per_s": result["ok"] / seconds if seconds > 0 else math.nan,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] if latencies else math.nan) * 1000,
        "mean_body_bytes": round(result["mean_body_bytes"]),
        "error_samples": result["error_samples"],
        "status_counts": result["status_counts"],
        "warmup_requests": result["warmup_requests"],
        "warmup_errors": result["warmup_errors"],
    }


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return done.stdout


def app_state() -> str:
    """The commit plus a digest of uncommitted changes under app/: what the servers ran."""
    diff = _git("diff", "HEAD", "--", "app", "migrations")
    digest = hashlib.sha256(diff.encode()).hexdigest()[:12] if diff else "clean"
    return f"{_git('rev-parse', '--short', 'HEAD').strip()}+{digest}"


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "app_state": app_state(),  # "<commit>+clean" or "<commit>+<digest of the uncommitted diff>"
    }


def app_changed_since(state: str) -> bool:
    """True (and a warning) when app/ changed while the benchmark ran: its figures mix two versions."""
    changed = app_state() != state
    if changed:
        print("  ! app/ changed during this run: its figures may mix two versions of the app", flush=True)
    return changed


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    return path


def print_rows(rows: Sequence[dict[str, Any]], extra: Sequence[str] = ()) -> None:
    columns = ["target", "ok", "errors", "throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", *extra]
    header = ["target", "ok", "err", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", *extra]
    table = [header] + [[_fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


@contextlib.contextmanager
def stage(text: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"· {text} …", flush=True)
    yield
    print(f"  done in {time.monotonic() - started:.1f} s", flush=True)
