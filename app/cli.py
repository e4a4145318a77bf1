"""The `yingzhi` command."""

import asyncio
import getpass
import sys
from pathlib import Path
from typing import Annotated

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
