"""Real concurrency through the ASGI app: on PostgreSQL the requests run in parallel over the pool.

Counts are read straight from the database. The pool is kept small (8 connections): enough for
real races, and polite to a PostgreSQL server that other test runs share.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import event, func, select

from app.main import create_app
from app.quizzes import scoring
from app.quizzes.models import Attempt, AttemptItem, AttemptResponse
from app.quizzes.sweep import sweep_once
from tests.conftest import _empty_tables, make_settings
from tests.factories import World, login, published_quiz
from tests.test_attempts import (
    API,
    build_fast_world,
    correct_single,
    db_attempt,
    items_of,
    save,
    set_deadline,
    start,
)


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
    return await build_fast_world(app)


async def _response_rows(app: FastAPI, attempt_id: int) -> list[AttemptResponse]:
    async with app.state.database.sessionmaker() as session:
        return list(
            (await session.execute(select(AttemptResponse).where(AttemptResponse.attempt_id == attempt_id)))
            .scalars()
            .all()
        )


@contextmanager
def count_markings(app: FastAPI) -> Iterator[list[str]]:
    """Records every statement that writes marks: finishing an attempt executes exactly one."""
    seen: list[str] = []

    def listener(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if statement.lstrip().upper().startswith("UPDATE ATTEMPT_ITEMS"):
            seen.append(statement)

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


async def test_fifty_concurrent_saves_keep_the_highest_seq(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    item = items_of(attempt, "single")[0]
    options = [o["id"] for o in item["options"]]
    seqs = list(range(1, 51))
    # Send them in a scrambled order so the highest seq is not simply the last one sent.
    order = seqs[1::2] + seqs[::2]
    responses = await asyncio.gather(
        *(save(client, attempt["id"], item["id"], options[seq % 4], seq, officer) for seq in order)
    )
    for seq, response in zip(order, responses, strict=True):
        assert response.status_code == 200, response.text
        body = response.json()
        if not body["accepted"]:
            assert body["seq"] > seq  # refused only for a higher stored seq
    rows = await _response_rows(app, attempt["id"])
    assert len(rows) == 1
    assert rows[0].seq == 50 and rows[0].response == options[50 % 4]
    assert any(r.json()["accepted"] for seq, r in zip(order, responses, strict=True) if seq == 50)


async def test_saves_racing_a_submit_lose_no_acknowledged_answer(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    # Saves go out in waves of three while the submit is in flight, so some land before the
    # marks are taken and some after; each round paces the waves differently.
    heads = {name: await login(client, name) for name in ("officer1", "officer2", "officer3")}
    rounds = [
        ("officer1", 0.0),
        ("officer2", 0.001),
        ("officer3", 0.002),
        ("officer1", 0.003),
        ("officer2", 0.005),
        ("officer3", 0.008),
    ]  # two attempts each (attempts_allowed=2)
    for name, pause in rounds:
        officer = heads[name]
        started = await start(client, quiz_id, officer)
        assert started.status_code == 201, started.text
        attempt = started.json()
        aid = attempt["id"]
        item = items_of(attempt, "single")[0]
        options = [o["id"] for o in item["options"]]
        right = correct_single(item)

        def response_for(seq: int, options: list[str] = options) -> str:
            return options[seq % 4]

        async def waves(
            aid: int = aid, item_id: int = item["id"], officer: dict[str, str] = officer, pause: float = pause
        ) -> list[Response]:
            tasks = []
            for first in range(1, 31, 3):
                for seq in range(first, first + 3):
                    tasks.append(
                        asyncio.ensure_future(save(client, aid, item_id, response_for(seq), seq, officer))
                    )
                await asyncio.sleep(pause)
            return list(await asyncio.gather(*tasks))

        async def submit_soon(aid: int = aid, officer: dict[str, str] = officer) -> Response:
            await asyncio.sleep(0)
            return await client.post(f"{API}/attempts/{aid}/submit", headers=officer)

        submitted, saved = await asyncio.gather(submit_soon(), waves())
        save_results = list(zip(range(1, 31), saved, strict=True))
        assert submitted.status_code == 200, submitted.text

        acknowledged = []
        for seq, response in save_results:
            if response.status_code == 409:
                assert response.json()["code"] == "attempt_closed"
                continue
            assert response.status_code == 200, response.text
            body = response.json()
            if body["accepted"]:
                acknowledged.append(seq)
            else:
                assert body["seq"] > seq

        rows = await _response_rows(app, aid)
        assert len(rows) <= 1
        stored_seq = rows[0].seq if rows else None
        # The last acknowledged answer is the one kept and marked; nothing unacknowledged landed later.
        assert stored_seq == (max(acknowledged) if acknowledged else None)
        result = submitted.json()
        marked = next(i for i in result["items"] if i["id"] == item["id"])
        expected = response_for(max(acknowledged)) if acknowledged else None
        assert marked["response"] == expected
        assert marked["awarded"] == (1.0 if expected == right else 0.0)
        if rows:
            assert rows[0].response == expected
        # A refused save never landed.
        refused = [seq for seq, r in save_results if r.status_code == 409]
        assert stored_seq not in refused
        async with app.state.database.sessionmaker() as session:
            awarded = (
                await session.execute(select(AttemptItem.awarded_milli).where(AttemptItem.id == item["id"]))
            ).scalar_one()
        assert awarded == (scoring.MILLI if expected == right else 0)


async def test_two_concurrent_starts_make_one_attempt(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    for name in ("officer1", "officer2", "officer3"):
        officer = await login(client, name)
        first, second = await asyncio.gather(start(client, quiz_id, officer), start(client, quiz_id, officer))
        statuses = sorted([first.status_code, second.status_code])
        assert statuses in ([200, 201], [201, 409]), (first.text, second.text)
        if statuses == [200, 201]:
            assert first.json()["id"] == second.json()["id"]
            assert first.json()["items"] == second.json()["items"]
        else:
            loser = first if first.status_code == 409 else second
            assert loser.json()["code"] == "attempt_start_conflict"
        async with app.state.database.sessionmaker() as session:
            attempts = (
                (
                    await session.execute(
                        select(Attempt).where(
                            Attempt.quiz_id == quiz_id, Attempt.user_id == world.users[name]
                        )
                    )
                )
                .scalars()
                .all()
            )
            assert len(attempts) == 1
            items = (
                await session.execute(
                    select(func.count())
                    .select_from(AttemptItem)
                    .where(AttemptItem.attempt_id == attempts[0].id)
                )
            ).scalar_one()
        assert items == 5
        # The loser's retry resumes the winner's attempt.
        resumed = await start(client, quiz_id, officer)
        assert resumed.status_code == 200 and resumed.json()["id"] == attempts[0].id


async def test_submit_racing_the_sweeper_marks_once(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    expired_at = datetime.now(UTC) - timedelta(hours=1)
    heads = {}
    ids = {}
    for name in ("officer1", "officer2", "officer3"):
        heads[name] = await login(client, name)
        attempt = (await start(client, quiz_id, heads[name])).json()
        ids[name] = attempt["id"]
        item = items_of(attempt, "single")[0]
        saved = await save(client, attempt["id"], item["id"], correct_single(item), 1, heads[name])
        assert saved.status_code == 200
        await set_deadline(app, attempt["id"], expired_at)

    with count_markings(app) as markings:
        first_sweep, submits, second_sweep = await asyncio.gather(
            sweep_once(app.state.database, app.state.settings),
            asyncio.gather(*(client.post(f"{API}/attempts/{ids[n]}/submit", headers=heads[n]) for n in ids)),
            sweep_once(app.state.database, app.state.settings),
        )
    assert 0 <= first_sweep + second_sweep <= 3
    assert len(markings) == 3, markings  # one marking per attempt, whoever won
    for name, response in zip(ids, submits, strict=True):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["finish_reason"] == "timeout" and body["score"] == 1.0
        row = await db_attempt(app, ids[name])
        assert row.status == "finished" and row.finished_at == expired_at and row.score_milli == 1000


async def test_concurrent_submits_mark_once(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    item = items_of(attempt, "single")[0]
    await save(client, attempt["id"], item["id"], correct_single(item), 1, officer)
    with count_markings(app) as markings:
        results = await asyncio.gather(
            *(client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer) for _ in range(8))
        )
    assert len(markings) == 1
    bodies = [r.json() for r in results]
    assert all(r.status_code == 200 for r in results)
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["score"] == 1.0 and bodies[0]["finish_reason"] == "submitted"
