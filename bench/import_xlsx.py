"""Importing a 10,000-question xlsx: preview and commit, on PostgreSQL and on SQLite, with peak memory.

python -m bench.import_xlsx [--questions 10000]

Goals (issue 3): preview ≤ 3 s, commit ≤ 5 s on both databases, memory bounded. Each phase runs in
a process of its own, so its peak RSS is its own; `rss_before_mb` is that process after its imports.
Floors measured in the same run: reading every cell of the same file with openpyxl (what any
xlsx import must do) and one executemany INSERT of the same number of question rows (what any
commit must do).
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    PROJECT_ROOT,
    database_url,
    machine,
    ratio,
    reset_database,
    write_results,
)

GOALS = {"preview": 3.0, "commit": 5.0}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_questions(count: int) -> list[Any]:
    from app.imports.common import ParsedQuestion

    areas = ["警示教育/三个规定", "警示教育/十个严禁", "政治教育/四个意识", "法律法规基础", "英模教育"]
    questions = []
    for n in range(count):
        kind = ("single", "multiple", "true_false", "fill_blank")[n % 4]
        stem = f"第{n}题：关于政法队伍教育整顿的表述，下列说法正确的是（ ）"
        options: list[str] = []
        answer: Any
        if kind == "single":
            options = [f"选项{n}-{i}：逢问必录的具体要求之{i}" for i in range(4)]
            answer = n % 4
        elif kind == "multiple":
            options = [f"选项{n}-{i}：四个意识之{i}" for i in range(5)]
            answer = [0, 2, 3]
        elif kind == "true_false":
            answer = n % 3 == 0
        else:
            stem = f"第{n}题：防止干预司法“三个规定”的核心是____。"
            answer = [["逢问必录", "逢问必录制度"]]
        questions.append(
            ParsedQuestion(
                type=kind,
                stem=stem,
                options=options,
                answer=answer,
                explanation=f"解析{n}：依据应知应会材料。",
                difficulty=1 + n % 5,
                points=1 + n % 3,
                area=areas[n % len(areas)],
                tags=["基准"],
            )
        )
    return questions


# Phases (each in its own process) -------------------------------------------------------------


async def _principal(url: str) -> Any:
    from sqlalchemy import select

    from app.core.deps import Principal
    from app.db.session import Database
    from app.units.models import Unit, User

    database = Database(_settings(url))
    try:
        async with database.sessionmaker() as session:
            user, path = (
                await session.execute(select(User, Unit.path).join(Unit, Unit.id == User.unit_id))
            ).one()
            return Principal(user.id, user.username, user.name, user.role, user.unit_id, path, "bench", False)
    finally:
        await database.dispose()


def _settings(url: str) -> Any:
    from bench.common import bench_settings

    return bench_settings(url)


async def phase(name: str, url: str, file: Path, data: bytes, job_id: int | None) -> dict[str, Any]:
    from app.db.session import Database
    from app.imports import service

    principal = await _principal(url)
    database = Database(_settings(url))
    before = rss_mb()
    try:
        async with database.sessionmaker() as session:
            started = time.perf_counter()
            if name == "preview":
                job = await service.preview_bank(
                    session, principal, file_name=file.name, data=data, bank_name="基准题库"
                )
                out: dict[str, Any] = {"job_id": job.id, "counts": job.preview["counts"]}
            elif name == "commit":
                assert job_id is not None
                committed = await service.commit_job(session, principal, job_id, valid_only=False)
                out = {"result": committed.result}
            elif name == "floor-read":
                import io

                import openpyxl

                book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
                cells = sum(1 for row in book.worksheets[0].iter_rows(values_only=True) for _ in row)
                book.close()
                out = {"cells": cells}
            else:
                assert job_id is not None  # the row count, for the floor
                out = {"rows": await _floor_insert(session, job_id)}
            seconds = time.perf_counter() - started
    finally:
        await database.dispose()
    return {"seconds": seconds, "rss_before_mb": round(before, 1), "rss_peak_mb": round(rss_mb(), 1), **out}


async def _floor_insert(session: Any, count: int) -> int:
    """One executemany INSERT of `count` question rows: the least any commit does."""
    from sqlalchemy import insert

    from app.bank.models import Question
    from app.bank.service import get_or_create_area, get_or_create_bank
    from app.db.types import utcnow

    bank = await get_or_create_bank(session, "基准底线")
    area = await get_or_create_area(session, "基准底线")
    now = utcnow()
    rows = [
        {
            "bank_id": bank.id,
            "knowledge_area_id": area.id,
            "type": "single",
            "stem": f"底线{n}",
            "options": [{"id": f"a{n}", "text": "甲"}, {"id": f"b{n}", "text": "乙"}],
            "answer": f"a{n}",
            "explanation": "解析",
            "difficulty": 2,
            "points": 1,
            "status": "active",
            "version": 1,
            "tags": [],
            "fingerprint": f"{n:064d}",
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    await session.execute(insert(Question), rows)
    await session.commit()
    return count


def run_phase(name: str, url: str, file: Path, job_id: int | None = None) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.import_xlsx", "--phase", name, "--url", url, "--file", str(file)]
    if job_id is not None:
        command += ["--job", str(job_id)]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# Orchestration --------------------------------------------------------------------------------


def prepare(url: str) -> None:
    """A migrated, empty database with one administrator."""
    from app.db.migrations import upgrade

    if url.startswith("postgresql"):
        asyncio.run(reset_database(url))
    upgrade(url)  # Alembic runs its own event loop
    asyncio.run(add_admin(url))


async def add_admin(url: str) -> None:
    from app.db.session import Database
    from app.units.models import Role
    from app.units.service import create_unit, create_user

    database = Database(_settings(url))
    try:
        async with database.sessionmaker() as session:
            unit = await create_unit(session, code="BENCH", name="基准市", kind="city", parent=None)
            await create_user(
                session,
                username="benchadmin",
                name="基准管理员",
                role=Role.admin,
                unit=unit,
                password_hash="-",
            )
            await session.commit()
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)  # job id, or the floor's row count
    args = parser.parse_args()
    if args.phase:
        print(
            json.dumps(asyncio.run(phase(args.phase, args.url, args.file, args.file.read_bytes(), args.job)))
        )
        return

    from app.imports.writers.xlsx import write_xlsx

    workdir = Path(tempfile.mkdtemp(prefix="yingzhi-bench-import-"))
    file = workdir / f"bank-{args.questions}.xlsx"
    file.write_bytes(write_xlsx(sample_questions(args.questions)))
    print(f"{file.name}: {file.stat().st_size / 1024:.0f} KiB, {args.questions} questions")
    targets = {"postgres": database_url(), "sqlite": f"sqlite+aiosqlite:///{workdir / 'bench.db'}"}
    rows: list[dict[str, Any]] = []
    results: dict[str, Any] = {"questions": args.questions, "file_kib": file.stat().st_size // 1024}
    for db, url in targets.items():
        prepare(url)
        floor_read = run_phase("floor-read", url, file)
        preview = run_phase("preview", url, file)
        assert preview["counts"]["to_import"] == args.questions, preview["counts"]
        commit = run_phase("commit", url, file, preview["job_id"])
        assert commit["result"]["created"] == args.questions, commit["result"]
        floor_insert = run_phase("floor-insert", url, file, args.questions)
        results[db] = {
            "preview": preview,
            "commit": commit,
            "floor_read": floor_read,
            "floor_insert": floor_insert,
        }
        for name, measured, floor in (("preview", preview, floor_read), ("commit", commit, floor_insert)):
            rows.append(
                {
                    "db": db,
                    "phase": name,
                    "seconds": round(measured["seconds"], 2),
                    "goal_s": GOALS[name],
                    "met": measured["seconds"] <= GOALS[name],
                    "floor_s": round(floor["seconds"], 2),
                    "x_floor": ratio(measured["seconds"], floor["seconds"]),
                    "rss_before_mb": measured["rss_before_mb"],
                    "rss_peak_mb": measured["rss_peak_mb"],
                }
            )
    columns = list(rows[0])
    print("  ".join(columns))
    for row in rows:
        print("  ".join(f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in columns))
    results["rows"] = rows
    results["machine"] = machine()
    print(f"results: {write_results('import_xlsx', results)}")


if __name__ == "__main__":
    main()
