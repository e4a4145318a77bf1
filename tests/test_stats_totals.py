"""The running totals of first attempts (app.stats.totals) always equal a recomputation from the raw
rows: through the real quiz flow (submit, time-out sweep, early close, concurrent submits), for
second attempts and spot sessions (never counted), and when the migration fills them from the
attempts already finished."""

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, literal_column, make_url, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.db.migrations import upgrade
from app.db.session import fetch_integers
from app.db.types import utcnow
from app.main import create_app
from app.quizzes.models import Attempt, AttemptItem
from app.quizzes.sweep import sweep_once
from app.stats import totals
from app.stats.models import AreaTally, QuestionTally, ScoreTally
from app.stats.schemas import AttemptChoice
from app.stats.service import Selection, _report_sums, _sums_from_attempts
from app.units.models import Role, Unit, User
from app.units.service import create_user, in_subtree
from tests.conftest import _empty_tables, make_settings
from tests.factories import World, build_world, login, published_quiz
from tests.test_attempts import (
    API,
    FAST_HASH,
    build_fast_world,
    correct_single,
    items_of,
    save,
    set_deadline,
    start,
    wrong_single,
)
from tests.test_cli_imports import run

OFFICERS = 12


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    await _empty_tables(database_url)
    application = create_app(make_settings(database_url, db_pool_size=8, db_max_overflow=0))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


@pytest.fixture
async def world(app: FastAPI) -> World:
    world = await build_fast_world(app)
    async with app.state.database.sessionmaker() as session:
        for i in range(OFFICERS):
            await create_user(
                session,
                username=f"court{i}",
                name=f"法警{i}",
                role=Role.officer,
                unit=world.court,
                password_hash=FAST_HASH,
                police_number=f"8{i:04d}",
            )
        await session.commit()
    return world


async def differences(app: FastAPI) -> dict[str, int]:
    session: AsyncSession
    async with app.state.database.sessionmaker() as session:
        return await totals.differences(session)


async def counted_attempts(app: FastAPI) -> int:
    async with app.state.database.sessionmaker() as session:
        return int(
            (await session.execute(select(func.coalesce(func.sum(ScoreTally.attempts), 0)))).scalar_one()
        )


async def answer_some(client: AsyncClient, quiz_id: int, username: str, right: int) -> int:
    """Start, answer `right` single-choice items right and the rest wrong; the attempt id."""
    headers = await login(client, username)
    attempt = (await start(client, quiz_id, headers)).json()
    for seq, item in enumerate(items_of(attempt, "single"), start=1):
        choice = correct_single(item) if seq <= right else wrong_single(item)
        assert (await save(client, attempt["id"], item["id"], choice, seq, headers)).status_code == 200
    attempt_id: int = attempt["id"]
    return attempt_id


async def test_concurrent_submits_in_one_unit_add_up_exactly(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    names = [f"court{i}" for i in range(OFFICERS)]
    ids = [await answer_some(client, quiz_id, name, i % 3) for i, name in enumerate(names)]
    headers = [await login(client, name) for name in names]
    # Every officer of one unit submits at once: on PostgreSQL these run in parallel and meet on
    # the same totals rows (same quiz, unit, day; many the same score).
    results = await asyncio.gather(
        *(client.post(f"{API}/attempts/{aid}/submit", headers=h) for aid, h in zip(ids, headers, strict=True))
    )
    assert [r.status_code for r in results] == [200] * OFFICERS
    assert await differences(app) == {"stat_scores": 0, "stat_area_marks": 0, "stat_question_marks": 0}
    assert await counted_attempts(app) == OFFICERS
    async with app.state.database.sessionmaker() as session:
        possible = (await session.execute(select(func.sum(AreaTally.possible_milli)))).scalar_one()
        answered = (await session.execute(select(func.sum(QuestionTally.answered)))).scalar_one()
    # quiz_body: 5 items worth 2 × 1 + 3 + 1 + 2 = 8 points.
    assert (int(possible), int(answered)) == (OFFICERS * 8000, OFFICERS * 5)

    # A second attempt is never a first attempt: the totals stay as they are.
    second = await answer_some(client, quiz_id, names[0], 2)
    assert (await client.post(f"{API}/attempts/{second}/submit", headers=headers[0])).status_code == 200
    assert await counted_attempts(app) == OFFICERS
    assert sum((await differences(app)).values()) == 0


async def test_timeouts_and_an_early_close_are_counted_too(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    late = await answer_some(client, quiz_id, "court0", 2)
    await set_deadline(app, late, utcnow() - timedelta(minutes=5))
    assert await sweep_once(app.state.database, app.state.settings) == 1
    open_ids = [await answer_some(client, quiz_id, f"court{i}", 1) for i in (1, 2)]
    admin = await login(client, "admin")
    assert (await client.post(f"{API}/quizzes/{quiz_id}/close", headers=admin)).status_code == 200
    async with app.state.database.sessionmaker() as session:
        reasons = sorted(
            (
                await session.execute(select(Attempt.finish_reason).where(Attempt.id.in_([late, *open_ids])))
            ).scalars()
        )
    assert reasons == ["closed", "closed", "timeout"]
    assert await counted_attempts(app) == 3
    assert sum((await differences(app)).values()) == 0


async def submit(client: AsyncClient, quiz_id: int, username: str, right: int) -> None:
    attempt_id = await answer_some(client, quiz_id, username, right)
    headers = await login(client, username)
    assert (await client.post(f"{API}/attempts/{attempt_id}/submit", headers=headers)).status_code == 200


@pytest.mark.parametrize("choice", ["first", "best", "last"])
async def test_report_sums_equal_those_from_the_raw_rows(
    app: FastAPI, client: AsyncClient, world: World, choice: AttemptChoice
) -> None:
    """First attempts from the totals; best and last from the totals corrected by the later
    attempts that replace a first one: all equal to sums straight from the chosen attempts."""
    first = await published_quiz(client, world)
    second = await published_quiz(client, world, title="第二次")
    for i in range(6):
        for quiz_id in (first, second):
            await submit(client, quiz_id, f"court{i}", (i + quiz_id) % 3)
    # Retakes: better (court0), worse (court1), the same score (court2), and one at the second quiz.
    for name, right in (("court0", 2), ("court1", 0), ("court2", 2)):
        await submit(client, first, name, right)
    await submit(client, second, "court3", 0)
    today = utcnow().date()
    async with app.state.database.sessionmaker() as session:
        for quizzes, date_from, date_to in (
            ((first,), None, None),
            ((first, second), None, None),
            ((), today - timedelta(days=1), today + timedelta(days=1)),
            ((), today + timedelta(days=2), None),
        ):
            selection = Selection(quizzes, date_from, date_to, choice)
            for path in (world.city.path, world.county.path, world.court.path, world.other_county.path):
                ids = list(
                    (await session.execute(select(Unit.id).where(in_subtree(Unit.path, path)))).scalars()
                )
                stored = await _report_sums(session, selection, path, ids)
                raw = await _sums_from_attempts(session, selection, path)
                assert sorted(stored.scores, key=repr) == sorted(raw.scores, key=repr), (selection, path)
                assert (stored.areas, stored.questions) == (raw.areas, raw.questions), (selection, path)
        every_unit = list((await session.execute(select(Unit.id))).scalars())
        everything = await _report_sums(session, Selection((first, second), attempts=choice), "/", every_unit)
        firsts = await _report_sums(session, Selection((first,)), "/", every_unit)
        chosen = await _report_sums(session, Selection((first,), attempts=choice), "/", every_unit)
    assert sum(score.attempts for score in everything.scores) == 12
    # The retakes change the figures of best and last (else this would not test the correction).
    assert (sorted(firsts.scores, key=repr) == sorted(chosen.scores, key=repr)) == (choice == "first")


async def test_stats_check_finds_and_repairs_damaged_totals(
    app: FastAPI, client: AsyncClient, world: World, database_url: str
) -> None:
    quiz_id = await published_quiz(client, world)
    aid = await answer_some(client, quiz_id, "court0", 2)
    headers = await login(client, "court0")
    assert (await client.post(f"{API}/attempts/{aid}/submit", headers=headers)).status_code == 200
    env = {**os.environ, "YINGZHI_DATABASE_URL": database_url}
    clean = await asyncio.to_thread(run, env, "stats-check")
    assert clean.returncode == 0, clean.stderr
    assert "stat_question_marks: 0 rows differ" in clean.stdout
    async with app.state.database.sessionmaker() as session:
        await session.execute(update(QuestionTally).values(answered=QuestionTally.answered + 1))
        await session.commit()
    damaged = await asyncio.to_thread(run, env, "stats-check")
    assert damaged.returncode == 1 and "--repair" in damaged.stdout
    assert "stat_scores: 0 rows differ" in damaged.stdout
    assert "stat_question_marks: 0 rows differ" not in damaged.stdout
    repaired = await asyncio.to_thread(run, env, "stats-check", "--repair")
    assert repaired.returncode == 0 and "repaired" in repaired.stdout
    assert sum((await differences(app)).values()) == 0
    assert await counted_attempts(app) == 1


async def _migration_database(database_url: str) -> AsyncIterator[str]:
    """An empty database of the same kind, just for walking the migrations."""
    if database_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="yingzhi-migrate-") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'migrate.db'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_migrations"
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_the_migration_fills_totals_from_attempts_already_finished(database_url: str) -> None:
    async for url in _migration_database(database_url):
        await asyncio.to_thread(upgrade, url, "0006")
        application = create_app(make_settings(url))
        async with LifespanManager(application):
            async with application.state.database.sessionmaker() as session:
                world = await build_world(session)
                await session.execute(update(User).values(password_hash=FAST_HASH))
                await session.commit()
            async with AsyncClient(
                transport=ASGITransport(app=application), base_url="http://test"
            ) as client:
                quiz_id = await published_quiz(client, world)
                # Attempts finished before the totals existed: written the way finishing leaves
                # them, minus the totals (their tables are not there yet at 0006).
                for name, right in (("officer1", 1), ("officer2", 2), ("officer3", 0)):
                    headers = await login(client, name)
                    attempt = (await start(client, quiz_id, headers)).json()
                    for seq, item in enumerate(items_of(attempt, "single"), start=1):
                        choice = correct_single(item) if seq <= right else wrong_single(item)
                        await save(client, attempt["id"], item["id"], choice, seq, headers)
                    async with application.state.database.sessionmaker() as session:
                        await session.execute(
                            update(AttemptItem)
                            .where(AttemptItem.attempt_id == attempt["id"])
                            .values(awarded_milli=0, outcome="wrong")
                        )
                        await session.execute(
                            update(Attempt)
                            .where(Attempt.id == attempt["id"])
                            .values(
                                status="finished",
                                finish_reason="submitted",
                                finished_at=utcnow(),
                                score_milli=0,
                                passed=False,
                            )
                        )
                        await session.commit()
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(url)
        try:
            async with AsyncSession(engine) as session:
                assert sum((await totals.differences(session)).values()) == 0
                counted = (await session.execute(select(func.sum(ScoreTally.attempts)))).scalar_one()
                assert counted == 3
        finally:
            await engine.dispose()


async def test_fetch_integers_reads_every_row_exactly(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    """The item analysis's bulk read (binary COPY on PostgreSQL) gives what a plain query gives."""
    quiz_id = await published_quiz(client, world)
    for i in range(3):
        await submit(client, quiz_id, f"court{i}", i)
    columns = (
        AttemptItem.attempt_id,
        AttemptItem.position,
        AttemptItem.question_id,
        AttemptItem.awarded_milli,
    )
    async with app.state.database.sessionmaker() as session:
        table = await fetch_integers(session, select(*columns).where(AttemptItem.awarded_milli >= 0), width=4)
        plain = (await session.execute(select(*columns))).all()
        assert sorted(map(tuple, table.tolist())) == sorted(map(tuple, plain))
        assert table.shape == (15, 4)
        empty = await fetch_integers(session, select(*columns).where(AttemptItem.id < 0), width=4)
        assert empty.shape == (0, 4)
        if session.get_bind().dialect.name == "postgresql":
            with pytest.raises(ValueError, match="non-NULL INTEGER"):
                await fetch_integers(
                    session, select(AttemptItem.attempt_id, literal_column("NULL::int")), width=2
                )
