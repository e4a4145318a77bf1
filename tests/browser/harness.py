"""The real app for browser tests and the front-end benchmark: a seeded SQLite file and a uvicorn process.

    seed_database(url)            migrations are applied by `yingzhi db upgrade` first (see `start_app`)
    start_app(folder, ...)        migrate, seed, serve on 127.0.0.1:<free port>, wait for /readyz
    ensure_frontend_built()       frontend/dist/index.html, built once with npm when allowed

Everything the app needs comes from its own services: units, officers (with the demo password),
the sample bank from question_bank/, and two published quizzes.
"""

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FRONTEND = PROJECT_ROOT / "frontend"
FRONTEND_DIST = FRONTEND / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PASSWORD = "demo-pass-2021"
SAVE_GRACE_SECONDS = 2
SWEEP_INTERVAL_SECONDS = 1
HOST = "127.0.0.1"

# Who takes what: one officer per test, so the tests do not depend on their order.
OFFICERS = {
    "quiz": "browser01",
    "deadline": "browser02",
    "first_login": "browser03",  # must change the password at the first login
    "english": "browser04",
    "practice": "browser05",
}
MAIN_QUIZ_TITLE = "浏览器测试：应知应会小测试"
SHORT_QUIZ_TITLE = "浏览器测试：限时二十秒"
SHORT_QUIZ_SECONDS = 20


@dataclass
class SeedInfo:
    main_quiz_id: int
    short_quiz_id: int
    officers: dict[str, str]  # role in the tests -> username
    bench_officers: list[str] = field(default_factory=list)
    admin: str = "browser-admin"


async def seed_database(database_url: str, *, bench_officers: int = 0) -> SeedInfo:
    """Units, officers, the sample bank and two published quizzes, through the app's services."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app.bank.loader import load_bank_dir
    from app.bank.models import QuestionType
    from app.core.config import PROJECT_ROOT as APP_ROOT
    from app.core.deps import Principal
    from app.core.security import hash_password
    from app.db.types import utcnow
    from app.quizzes.models import MultipleScoring, ReviewPolicy
    from app.quizzes.schemas import QuizIn, RuleIn, TargetIn
    from app.quizzes.service import create_quiz, publish_quiz
    from app.units.models import Role, UnitKind
    from app.units.service import create_unit, create_user

    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            one_hash = hash_password(PASSWORD)
            city = await create_unit(session, code="BT", name="浏览器测试市", kind=UnitKind.city, parent=None)
            court = await create_unit(
                session, code="BT-COURT", name="浏览器测试县人民法院", kind=UnitKind.department, parent=city
            )
            admin = await create_user(
                session,
                username="browser-admin",
                name="测试管理员",
                role=Role.admin,
                unit=city,
                password_hash=one_hash,
            )
            names = ["张三", "李四", "王五", "赵六", "孙七"]
            for (purpose, username), name in zip(OFFICERS.items(), names, strict=True):
                await create_user(
                    session,
                    username=username,
                    police_number=username,
                    name=name,
                    role=Role.officer,
                    unit=court,
                    password_hash=one_hash,
                    must_change_password=purpose == "first_login",
                )
            bench_names = [f"bench{n:03d}" for n in range(1, bench_officers + 1)]
            for username in bench_names:
                await create_user(
                    session,
                    username=username,
                    police_number=username,
                    name="基准干警",
                    role=Role.officer,
                    unit=court,
                    password_hash=one_hash,
                )
            await session.flush()
            await load_bank_dir(session, APP_ROOT / "question_bank")
            principal = Principal(
                id=admin.id,
                username=admin.username,
                name=admin.name,
                role=admin.role,
                unit_id=city.id,
                unit_path=city.path,
                session_id="",
                must_change_password=False,
            )
            now = utcnow()
            common: dict[str, Any] = dict(
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=1),
                pass_percent=60,
                multiple_scoring=MultipleScoring.all_or_nothing,
                review_policy=ReviewPolicy.full,
                targets=[TargetIn(unit_id=city.id, include_subunits=True)],
            )
            main = await create_quiz(
                session,
                principal,
                QuizIn(
                    title=MAIN_QUIZ_TITLE,
                    description="六道题，十分钟，四种题型。",
                    time_limit_seconds=10 * 60,
                    attempts_allowed=1,
                    rules=[
                        RuleIn(question_type=QuestionType.single, count=2, points=2),
                        RuleIn(question_type=QuestionType.multiple, count=1, points=3),
                        RuleIn(question_type=QuestionType.true_false, count=2, points=1),
                        RuleIn(question_type=QuestionType.fill_blank, count=1, points=2),
                    ],
                    **common,
                ),
            )
            await publish_quiz(session, main.id)
            short = await create_quiz(
                session,
                principal,
                QuizIn(
                    title=SHORT_QUIZ_TITLE,
                    description="二十秒，到时由服务器交卷。",
                    time_limit_seconds=SHORT_QUIZ_SECONDS,
                    attempts_allowed=1,
                    rules=[
                        RuleIn(question_type=QuestionType.single, count=1, points=1),
                        RuleIn(question_type=QuestionType.true_false, count=1, points=1),
                    ],
                    **common,
                ),
            )
            await publish_quiz(session, short.id)
            await session.commit()
            return SeedInfo(
                main_quiz_id=main.id,
                short_quiz_id=short.id,
                officers=dict(OFFICERS),
                bench_officers=bench_names,
            )
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def app_env(database_url: str, frontend_dist: Path) -> dict[str, str]:
    """The process environment, with no YINGZHI_ setting inherited from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YINGZHI_")}
    env.update(
        YINGZHI_DATABASE_URL=database_url,
        YINGZHI_SECRET_KEY=secrets.token_urlsafe(48),
        YINGZHI_ENVIRONMENT="test",
        YINGZHI_SAVE_GRACE_SECONDS=str(SAVE_GRACE_SECONDS),
        YINGZHI_SWEEP_INTERVAL_SECONDS=str(SWEEP_INTERVAL_SECONDS),
        YINGZHI_FRONTEND_DIST=str(frontend_dist),
        # Each test logs in a few times from one address: never throttle the suite itself.
        YINGZHI_LOGIN_MAX_FAILURES_PER_ADDRESS="10000",
    )
    return env


@dataclass
class RunningApp:
    base_url: str
    database_url: str
    seed: SeedInfo
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_app(
    folder: Path, *, frontend_dist: Path = FRONTEND_DIST, bench_officers: int = 0, access_log: bool = False
) -> RunningApp:
    """Migrate a fresh SQLite file with `yingzhi db upgrade`, seed it, serve it, wait until ready."""
    database_url = f"sqlite+aiosqlite:///{folder / 'browser.db'}"
    env = app_env(database_url, frontend_dist)
    migrated = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if migrated.returncode != 0:
        raise RuntimeError(f"`yingzhi db upgrade` failed:\n{migrated.stdout}\n{migrated.stderr}")
    # Seeded in a child process: the caller may be inside a running event loop (pytest-asyncio).
    seeded = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "tests.browser.harness", str(bench_officers)],
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{seeded.stdout}\n{seeded.stderr}")
    seed = SeedInfo(**json.loads(seeded.stdout.strip().splitlines()[-1]))
    port = free_port()
    log_path = folder / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "info",
    ]
    if not access_log:
        command.append("--no-access-log")
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    app = RunningApp(f"http://{HOST}:{port}", database_url, seed, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{app.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{app.base_url}/readyz", timeout=2).status_code == 200:
                return app
        time.sleep(0.2)
    app.stop()
    raise RuntimeError(f"the app was not ready within 60 s:\n{app.log_tail()}")


def ensure_frontend_built() -> str | None:
    """None when frontend/dist/index.html exists (built here if allowed), else why it is missing."""
    index = FRONTEND_DIST / "index.html"
    if index.is_file():
        return None
    if os.environ.get("CI"):
        return (
            f"{index} is missing: CI must build the front end before the browser tests "
            "(cd frontend && npm ci && npm run build)"
        )
    if not (FRONTEND / "package.json").is_file():
        return f"{FRONTEND / 'package.json'} does not exist yet: there is no front end to test"
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed: cannot build frontend/ (Node 20+ is needed)"
    for step in (["ci"], ["run", "build"]):
        done = subprocess.run(  # noqa: S603 - npm from PATH with fixed arguments
            [npm, *step], cwd=FRONTEND, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            return (
                f"`npm {' '.join(step)}` failed in frontend/:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
    if not index.is_file():
        return f"`npm run build` succeeded but {index} is missing"
    return None


def main() -> None:
    """`python -m tests.browser.harness [BENCH_OFFICERS]`: seed YINGZHI_DATABASE_URL, print the SeedInfo."""
    bench_officers = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    seed = asyncio.run(seed_database(os.environ["YINGZHI_DATABASE_URL"], bench_officers=bench_officers))
    print(json.dumps(asdict(seed), ensure_ascii=False))


if __name__ == "__main__":
    main()
