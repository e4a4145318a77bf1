"""The `yingzhi` command."""

import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from app.core.config import get_settings

cli = typer.Typer(help="Yingzhi 应知: knowledge tests and on-site spot quizzes", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations (creates the SQLite file's folder if needed)."""
    from app.db.migrations import upgrade

    settings = get_settings()
    _ensure_sqlite_folder(settings.database_url)
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


@cli.command()
def demo(if_empty: Annotated[bool, typer.Option(help="Do nothing when data exists")] = False) -> None:
    """Seed the demo city, roster, sample bank and an open quiz into an empty database."""
    from app.db.session import Database
    from app.demo import database_is_empty, seed_demo

    async def run() -> None:
        settings = get_settings()
        database = Database(settings)
        try:
            async with database.sessionmaker() as session:
                if not await database_is_empty(session):
                    if if_empty:
                        typer.echo("database already has data; demo not seeded")
                        return
                    typer.echo(
                        "the database is not empty; demo data goes only into an empty database", err=True
                    )
                    raise typer.Exit(1)
                summary = await seed_demo(session, settings)
                typer.echo(
                    f"demo seeded: {summary.units} units, {summary.officers} officers, "
                    f"{summary.questions} questions, quiz {summary.quiz_id} open"
                )
        finally:
            await database.dispose()

    asyncio.run(run())


@cli.command("load-bank")
def load_bank(folder: Path = Path("question_bank")) -> None:
    """Load a YAML question bank folder (the format of question_bank/); existing questions are kept."""
    from app.bank.loader import BankFileError, load_bank_dir
    from app.db.session import Database

    async def run() -> int:
        database = Database(get_settings())
        try:
            async with database.sessionmaker() as session:
                return await load_bank_dir(session, folder)
        finally:
            await database.dispose()

    try:
        added = asyncio.run(run())
    except BankFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{added} new questions loaded")


def _print_preview(preview: dict[str, Any]) -> None:
    counts = preview["counts"]
    typer.echo(
        f"{preview['file']} ({preview['format']}): " + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    for problem in preview["errors"]:
        where = (
            f"第 {problem['row']} 行"
            if problem.get("row")
            else f"第 {problem['line']} 行"
            if problem.get("line")
            else "文件"
        )
        column = f"「{problem['field']}」" if problem.get("field") else ""
        typer.echo(f"  {where}{column} [{problem['code']}] {problem['message']}")
    for problem in preview["warnings"]:
        typer.echo(f"  提示 [{problem['code']}] {problem['message']}")
    for duplicate in preview.get("duplicates", []):
        where = duplicate.get("row") or duplicate.get("line")
        typer.echo(f"  重复 {where}: {duplicate['kind']} {duplicate['stem'][:40]}")
    for name in preview.get("new_knowledge_areas", []) + preview.get("new_units", []):
        typer.echo(f"  新建 {name}")


def _run_import(
    kind: str, path: Path, *, commit: bool, valid_only: bool, as_json: bool, user: str | None, **options: Any
) -> None:
    """Preview (and with --commit, commit) an import as an administrator; the job is recorded.
    Exit status: 0 clean or committed, 1 errors in rows (nothing written), 2 the file was refused."""
    from sqlalchemy import select

    from app.core.deps import Principal
    from app.core.errors import AppError
    from app.db.session import Database
    from app.imports import service
    from app.units.models import Role, Unit, User

    data = path.read_bytes()

    async def run() -> tuple[dict[str, Any], int]:
        database = Database(get_settings())
        try:
            async with database.sessionmaker() as session:
                stmt = select(User, Unit.path).join(Unit, Unit.id == User.unit_id)
                stmt = stmt.where(User.is_active.is_(True), User.role == Role.admin)
                if user:
                    stmt = stmt.where(User.username == user)
                found = (await session.execute(stmt.order_by(User.id).limit(1))).first()
                if found is None:
                    typer.echo(
                        "error: no active administrator; create one with `yingzhi create-admin`", err=True
                    )
                    raise typer.Exit(2)
                admin, unit_path = found
                principal = Principal(
                    id=admin.id,
                    username=admin.username,
                    name=admin.name,
                    role=admin.role,
                    unit_id=admin.unit_id,
                    unit_path=unit_path,
                    session_id="cli",
                    must_change_password=False,
                )
                if kind == "bank":
                    job = await service.preview_bank(
                        session, principal, file_name=path.name, data=data, **options
                    )
                else:
                    job = await service.preview_roster(
                        session, principal, file_name=path.name, data=data, **options
                    )
                out = (await service.job_out(session, job)).model_dump(mode="json")
                errors = len(out["errors"])
                status = 1 if errors and not (commit and valid_only) else 0
                if commit and status == 0:
                    out = (
                        await service.commit_job(session, principal, job.id, valid_only=valid_only)
                    ).model_dump(mode="json")
                return out, status
        finally:
            await database.dispose()

    try:
        out, status = asyncio.run(run())
    except AppError as exc:
        body = {"valid": False, "code": exc.code, "message": exc.detail, **(exc.extra or {})}
        typer.echo(
            json.dumps(body, ensure_ascii=False) if as_json else f"error [{exc.code}] {exc.detail}",
            err=not as_json,
        )
        raise typer.Exit(2) from None
    preview = {
        "valid": not out["errors"],
        "job_id": out["id"],
        "file": out["file_name"],
        "format": out["format"],
        "encoding": out["encoding"],
        "counts": out["counts"],
        "errors": [{k: e[k] for k in ("line", "row", "field", "code", "message")} for e in out["errors"]],
        "warnings": [{k: e[k] for k in ("line", "row", "field", "code", "message")} for e in out["warnings"]],
        "duplicates": out["duplicates"],
        "new_knowledge_areas": out["new_knowledge_areas"],
        "new_units": out["new_units"],
        "committed": out["status"] == "committed",
        "result": out["result"],
    }
    if as_json:
        typer.echo(json.dumps(preview, ensure_ascii=False, indent=2))
    else:
        _print_preview(preview)
        if preview["committed"]:
            typer.echo("已导入: " + json.dumps(out["result"], ensure_ascii=False))
        elif status:
            typer.echo(
                "有错误，未写入任何数据：修正后重新导入，或加 --commit --valid-only 只导入有效行。", err=True
            )
        else:
            typer.echo("预览完成，未写入任何数据；确认无误后加 --commit 导入。")
    raise typer.Exit(status)


@cli.command("import-bank")
def import_bank(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="xlsx, csv, docx, txt, json, gift, aiken, yaml"),
    ],
    bank: Annotated[str | None, typer.Option("--bank", help="Bank name (created when new)")] = None,
    default_area: Annotated[str | None, typer.Option(help="Knowledge area for questions naming none")] = None,
    commit: Annotated[bool, typer.Option(help="Write the questions (otherwise only preview)")] = False,
    valid_only: Annotated[
        bool, typer.Option(help="With --commit: import the valid ones despite errors")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the preview as JSON")] = False,
    user: Annotated[str | None, typer.Option("--as", help="Administrator recorded on the job")] = None,
) -> None:
    """Preview a question file against a bank; exits 1 when rows have errors. --commit imports it."""
    _run_import(
        "bank",
        file,
        commit=commit,
        valid_only=valid_only,
        as_json=as_json,
        user=user,
        bank_name=bank,
        default_area=default_area,
    )


@cli.command("import-roster")
def import_roster(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="xlsx or csv (roster template)")],
    deactivate_missing: Annotated[
        bool, typer.Option(help="Deactivate officers of the listed units who are not in the file")
    ] = False,
    commit: Annotated[bool, typer.Option(help="Write the changes (otherwise only preview)")] = False,
    valid_only: Annotated[
        bool, typer.Option(help="With --commit: apply the valid rows despite errors")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the preview as JSON")] = False,
    user: Annotated[str | None, typer.Option("--as", help="Administrator recorded on the job")] = None,
) -> None:
    """Preview a roster (units and officers); exits 1 when rows have errors. --commit applies it."""
    _run_import(
        "roster",
        file,
        commit=commit,
        valid_only=valid_only,
        as_json=as_json,
        user=user,
        deactivate_missing=deactivate_missing,
    )


@cli.command("verify-draw")
def verify_draw(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A draw record (GET …/draw-record) as JSON")
    ],
) -> None:
    """Recompute a spot session's draw from its published record and print each check.
    Exit status: 0 every check holds, 1 a check fails, 2 the file is not a usable draw record."""
    from pydantic import ValidationError

    from app.spot import draw
    from app.spot.schemas import DrawRecord

    try:
        record = DrawRecord.model_validate_json(file.read_bytes())
    except ValidationError as exc:
        typer.echo(
            f"error: {file} is not a draw record 不是抽取记录 ({exc.error_count()} problems)", err=True
        )
        raise typer.Exit(2) from None
    if record.seed is None:
        typer.echo("error: the seed is revealed only after the draw 尚未抽取，种子未公开", err=True)
        raise typer.Exit(2)
    roster = [draw.RosterEntry(number, user_id) for number, user_id in record.roster]
    checks = [draw.Check("algorithm", record.algorithm == draw.ALGORITHM, record.algorithm, draw.ALGORITHM)]
    checks += draw.verify(
        roster=roster,
        seed=record.seed,
        count=record.count or 0,
        published_commitment=record.seed_commitment,
        published_roster_hash=record.roster_hash,
        published_drawn=record.drawn or [],
    )
    if record.count is None and not record.drawn:
        # Open to everyone in the unit: nobody was drawn, so only the commitments can be checked.
        checks = [check for check in checks if check.name != "drawn"]
        typer.echo("open to everyone in the unit: nothing drawn 全员参加，无抽取")
    for check in checks:
        if check.ok:
            typer.echo(f"[OK]   {check.name}: {check.actual}")
        else:
            typer.echo(f"[FAIL] {check.name}: published {check.expected!r}, recomputed {check.actual!r}")
    holds = all(check.ok for check in checks)
    typer.echo("draw verified 抽取结果核验一致" if holds else "draw NOT verified 抽取结果核验不一致")
    raise typer.Exit(0 if holds else 1)


@cli.command("bank-template")
def bank_template(path: Annotated[Path, typer.Argument()] = Path("题库导入模板.xlsx")) -> None:
    """Write the Excel template for question imports (with instructions and drop-downs)."""
    from app.imports.templates import bank_template as template

    path.write_bytes(template())
    typer.echo(f"template written to {path}")


@cli.command("roster-template")
def roster_template(path: Annotated[Path, typer.Argument()] = Path("花名册导入模板.xlsx")) -> None:
    """Write the Excel template for roster imports."""
    from app.imports.roster_template import roster_template as template

    path.write_bytes(template())
    typer.echo(f"template written to {path}")


@cli.command("create-admin")
def create_admin(
    username: str,
    name: Annotated[str, typer.Option(help="Display name")] = "管理员",
    unit_code: Annotated[str, typer.Option(help="Unit code; created as the root unit when missing")] = "ROOT",
    unit_name: Annotated[str, typer.Option(help="Name for a newly created root unit")] = "本级",
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
) -> None:
    """Create an administrator account."""
    from sqlalchemy import select

    from app.auth.service import password_problem
    from app.core.security import hash_password
    from app.db.session import Database
    from app.units.models import Role, Unit
    from app.units.service import create_unit, create_user, get_user_by_username

    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
    problem = password_problem(username, password)
    if problem:
        typer.echo(f"error: {problem.replace('_', ' ')}", err=True)
        raise typer.Exit(1)

    async def run() -> None:
        database = Database(get_settings())
        try:
            async with database.sessionmaker() as session:
                if await get_user_by_username(session, username):
                    typer.echo(f"error: user {username} exists", err=True)
                    raise typer.Exit(1)
                unit = (
                    await session.execute(select(Unit).where(Unit.code == unit_code))
                ).scalar_one_or_none()
                if unit is None:
                    unit = await create_unit(
                        session, code=unit_code, name=unit_name, kind="other", parent=None
                    )
                await create_user(
                    session,
                    username=username,
                    name=name,
                    role=Role.admin,
                    unit=unit,
                    password_hash=hash_password(password),
                )
                await session.commit()
        finally:
            await database.dispose()

    asyncio.run(run())
    typer.echo(f"administrator {username} created")


@cli.command()
def sweep() -> None:
    """Finish every attempt whose time ran out (the app also does this in the background)."""
    from app.db.session import Database
    from app.quizzes.sweep import sweep_once

    async def run() -> int:
        settings = get_settings()
        database = Database(settings)
        try:
            return await sweep_once(database, settings)
        finally:
            await database.dispose()

    typer.echo(f"{asyncio.run(run())} attempts finished")


@cli.command("stats-check")
def stats_check(
    repair: Annotated[
        bool, typer.Option(help="Rewrite the totals from the raw rows when they differ")
    ] = False,
) -> None:
    """Check the statistics' running totals against the attempts they sum (exit 1 when they differ)."""
    from app.db.session import Database
    from app.stats import totals

    async def run() -> dict[str, int]:
        database = Database(get_settings())
        try:
            async with database.sessionmaker() as session:
                found = await totals.differences(session)
                if repair and any(found.values()):
                    await totals.rebuild(session)
                    await session.commit()
                return found
        finally:
            await database.dispose()

    found = asyncio.run(run())
    for table, rows in found.items():
        typer.echo(f"{table}: {rows} rows differ")
    if any(found.values()):
        typer.echo("repaired: rewritten from the attempts" if repair else "run with --repair to rewrite them")
        raise typer.Exit(0 if repair else 1)


@cli.command()
def serve(
    host: str = "0.0.0.0",  # noqa: S104 - a server listens on all interfaces by default
    port: int = 8000,
    workers: int = 1,
    banner: Annotated[bool, typer.Option(help="Print the URL and demo accounts")] = False,
) -> None:
    """Serve the API and the built front end with uvicorn."""
    import uvicorn

    settings = get_settings()
    if settings.is_sqlite and workers > 1:
        typer.echo("SQLite serves from one process; use PostgreSQL for several workers", err=True)
        raise typer.Exit(1)
    if banner:
        from app.demo import DEMO_PASSWORD, demo_officer_count

        typer.echo(
            f"\nYingzhi 应知 is starting on http://localhost:{port}/  (API docs: http://localhost:{port}/docs)\n"
            f"Demo accounts (password {DEMO_PASSWORD}): admin, inspector, unitadmin, "
            f"officer001 … officer{demo_officer_count():03d}\n"
        )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
