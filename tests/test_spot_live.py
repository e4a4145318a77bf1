"""The live board: the authenticated WebSocket (refusals, snapshots after changes, coalescing,
heartbeat, reconnect), the event bus in one process and across processes through Redis, and two
real app processes sharing one PostgreSQL database and one Redis.

The app under test is served by a real uvicorn server in the test's event loop (the `app` fixture's
own database engines stay on that loop), and boards connect with the `websockets` client, so close
codes and frames cross a real socket.
"""

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.core.security import create_access_token, decode_access_token
from app.db.session import Database
from app.db.types import utcnow
from app.spot import ws
from app.spot.live import RESYNC, LiveBus
from app.spot.models import SpotAudit, SpotParticipant, SpotSession
from app.units.models import Role, Unit, User
from app.units.service import create_user
from tests.conftest import PG_URL, REDIS_URL, TEST_SECRET, _empty_tables, make_settings
from tests.factories import World, build_world, login, password_hash
from tests.test_spot_api import DEVICE, create

API = "/api/v1"
REPO = Path(__file__).resolve().parents[1]
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="YINGZHI_TEST_REDIS_URL is not set")
needs_postgres_and_redis = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="YINGZHI_TEST_DATABASE_URL and YINGZHI_TEST_REDIS_URL are not set"
)

Message = dict[str, Any]


# Helpers -------------------------------------------------------------------------------------


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The test's app behind a real uvicorn server on a free port; yields the WebSocket base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 10
    while not server.started:
        assert not task.done() and time.monotonic() < deadline, "the test server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}{API}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def live_url(base: str, spot_id: int) -> str:
    return f"{base}/spot/sessions/{spot_id}/live"


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def receive(board: ClientConnection, within: float = 5.0) -> Message:
    message: Message = orjson.loads(await asyncio.wait_for(board.recv(), within))
    return message


async def snapshot_where(
    board: ClientConnection, condition: Callable[[Message], bool], within: float = 5.0
) -> Message:
    """The first snapshot meeting the condition (earlier ones are skipped)."""
    deadline = time.monotonic() + within
    while True:
        message = await receive(board, max(deadline - time.monotonic(), 0.01))
        if message["type"] == "snapshot" and condition(message):
            return message


async def watch(base: str, spot_id: int, token: str) -> ClientConnection:
    """A board after authentication (the caller reads the first snapshot)."""
    board = await connect(live_url(base, spot_id))
    await board.send(orjson.dumps({"type": "auth", "token": token}).decode())
    return board


async def closed_with(
    board: ClientConnection, within: float = 5.0, *, watching: bool = False
) -> tuple[int, str]:
    """Read until the server closes the socket; its close code and reason. A board that was
    refused must not have seen a snapshot; one already `watching` may still get some."""
    try:
        while True:
            message = orjson.loads(await asyncio.wait_for(board.recv(), within))
            assert watching or message["type"] != "snapshot", f"a refused board got a snapshot: {message}"
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the server did not send a close frame"
        return closed.rcvd.code, closed.rcvd.reason


async def refused(base: str, spot_id: int, first: str | None) -> tuple[int, str]:
    async with connect(live_url(base, spot_id)) as board:
        if first is not None:
            await board.send(first)
        return await closed_with(board)


def auth(token: str) -> str:
    return orjson.dumps({"type": "auth", "token": token}).decode()


def participant(snapshot: Message, name: str) -> Message:
    found: Message = next(p for p in snapshot["board"]["participants"] if p["name"] == name)
    return found


async def join_and_answer(client: AsyncClient, spot: Message, username: str) -> tuple[dict[str, str], int]:
    """The officer joins (phone mode) and saves an answer to the first question."""
    officer = await login(client, username)
    joined = await client.post(
        f"{API}/spot/join", headers=officer, json={"code": spot["code"], "device_id": DEVICE}
    )
    assert joined.status_code == 200, joined.text
    attempt_id: int = joined.json()["attempt_id"]
    await save_first_answer(client, officer, attempt_id)
    return officer, attempt_id


async def save_first_answer(client: AsyncClient, officer: dict[str, str], attempt_id: int) -> None:
    paper = (await client.get(f"{API}/attempts/{attempt_id}", headers=officer)).json()
    first = paper["items"][0]
    response = first["options"][0]["id"] if first["type"] == "single" else True
    saved = await client.put(
        f"{API}/attempts/{attempt_id}/items/{first['id']}",
        headers=officer,
        json={"response": response, "seq": 1},
    )
    assert saved.status_code == 200 and saved.json()["accepted"] is True, saved.text


async def set_must_change_password(app: FastAPI, user_id: int, value: bool) -> None:
    async with app.state.database.sessionmaker() as session:
        await session.execute(update(User).where(User.id == user_id).values(must_change_password=value))
        await session.commit()


async def audit_count(app: FastAPI) -> int:
    async with app.state.database.sessionmaker() as session:
        count: int = (await session.execute(select(func.count()).select_from(SpotAudit))).scalar_one()
        return count


# Socket authentication and authorization --------------------------------------------------------


async def test_boards_are_refused_without_a_valid_login_for_that_session(
    app: FastAPI, client: AsyncClient, world: World, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spot = await create(client, world)
    sid = spot["id"]
    inspector = await login(client, "inspector")
    before = await audit_count(app)

    # No auth message in time (a token in the URL counts for nothing).
    monkeypatch.setattr(ws, "AUTH_TIMEOUT_SECONDS", 0.3)
    assert await refused(base=f"{served}", spot_id=sid, first=None) == (4401, "auth_timeout")
    async with connect(live_url(served, sid) + f"?token={token_of(inspector)}") as board:
        assert await closed_with(board) == (4401, "auth_timeout")

    # Malformed first messages.
    assert await refused(served, sid, "not json") == (4400, "bad_message")
    assert await refused(served, sid, '{"type": "ping"}') == (4400, "bad_message")
    assert await refused(served, sid, '{"type": "auth", "token": 42}') == (4400, "bad_message")
    assert await refused(served, sid, '["auth"]') == (4400, "bad_message")
    extra = orjson.dumps({"type": "auth", "token": token_of(inspector), "act_as": "admin"}).decode()
    assert await refused(served, sid, extra) == (4400, "bad_message")

    # Bad, forged, expired and ended logins.
    assert await refused(served, sid, auth("not-a-jwt")) == (4401, "invalid_token")
    claims = decode_access_token(app.state.settings, token_of(inspector))
    assert claims is not None
    forged = create_access_token(
        make_settings("sqlite://", secret_key="another-secret-key-0123456789abcdef0123"),
        user_id=claims.user_id,
        session_id=claims.session_id,
        role="admin",
        now=utcnow(),
    )[0]
    assert await refused(served, sid, auth(forged)) == (4401, "invalid_token")
    expired = create_access_token(
        app.state.settings,
        user_id=claims.user_id,
        session_id=claims.session_id,
        role=claims.role,
        now=utcnow() - timedelta(hours=2),
    )[0]
    assert await refused(served, sid, auth(expired)) == (4401, "invalid_token")
    leaving = await login(client, "inspector")
    assert (await client.post(f"{API}/auth/logout", headers=leaving)).status_code == 204
    assert await refused(served, sid, auth(token_of(leaving))) == (4401, "session_revoked")

    # Valid logins that may not watch this session.
    officer = await login(client, "officer1")
    assert await refused(served, sid, auth(token_of(officer))) == (4403, "spot_not_host")
    unit_admin = await login(client, "unitadmin")
    assert await refused(served, sid, auth(token_of(unit_admin))) == (4403, "spot_not_host")
    async with app.state.database.sessionmaker() as session:
        city = await session.get(Unit, world.city.id)
        assert city is not None
        await create_user(
            session,
            username="inspector2",
            name="另一验收组",
            role=Role.inspector,
            unit=city,
            password_hash=password_hash(),
        )
        await session.commit()
    other_inspector = await login(client, "inspector2")
    assert await refused(served, sid, auth(token_of(other_inspector))) == (4403, "spot_not_host")
    assert await refused(served, sid + 1000, auth(token_of(inspector))) == (4404, "spot_not_found")
    # An administrator who must change the password first, as for HTTP requests.
    admin = await login(client, "admin")
    await set_must_change_password(app, world.users["admin"], True)
    assert await refused(served, sid, auth(token_of(admin))) == (4403, "password_change_required")
    await set_must_change_password(app, world.users["admin"], False)

    # Nothing changed by any refusal.
    assert await audit_count(app) == before
    async with app.state.database.sessionmaker() as session:
        stored = await session.get(SpotSession, sid)
        assert stored is not None and stored.status == "lobby" and stored.drawn is None

    # The host and an administrator may watch.
    for headers in (inspector, await login(client, "admin")):
        board = await watch(served, sid, token_of(headers))
        first = await receive(board)
        assert first["type"] == "snapshot" and first["cause"] == "connect" and first["seq"] == 1
        assert first["board"]["session"]["id"] == sid
        await board.close()


async def test_the_socket_takes_no_actions_only_pings(
    app: FastAPI, client: AsyncClient, world: World, served: str
) -> None:
    spot = await create(client, world)
    inspector = await login(client, "inspector")
    before = await audit_count(app)
    board = await watch(served, spot["id"], token_of(inspector))
    assert (await receive(board))["type"] == "snapshot"
    await board.send('{"type": "ping"}')
    assert await receive(board) == {"type": "pong"}
    # A replayed auth message or an attempted host action closes the socket and does nothing.
    await board.send(auth(token_of(inspector)))
    assert await closed_with(board) == (4400, "bad_message")
    for action in ({"type": "draw"}, {"type": "close"}, {"type": "ping", "then": "close"}):
        board = await watch(served, spot["id"], token_of(inspector))
        assert (await receive(board))["type"] == "snapshot"
        await board.send(orjson.dumps(action).decode())
        assert await closed_with(board) == (4400, "bad_message")
    board = await watch(served, spot["id"], token_of(inspector))
    assert (await receive(board))["type"] == "snapshot"
    await board.send(b'{"type": "ping"}')  # binary frames are not part of the protocol
    assert await closed_with(board) == (4400, "bad_message")
    assert await audit_count(app) == before
    async with app.state.database.sessionmaker() as session:
        stored = await session.get(SpotSession, spot["id"])
        assert stored is not None and stored.status == "lobby"
    # Every closed socket let go of its subscription.
    await asyncio.sleep(0.1)
    assert app.state.live.subscriber_count(spot["id"]) == 0


# Snapshots --------------------------------------------------------------------------------------


async def test_the_host_sees_joins_and_answers_and_a_reconnect_gets_everything(
    app: FastAPI, client: AsyncClient, world: World, served: str
) -> None:
    inspector = await login(client, "inspector")
    spot = await create(client, world, draw_count=3)
    board = await watch(served, spot["id"], token_of(inspector))
    first = await receive(board)
    assert first["board"]["session"]["status"] == "lobby" and first["board"]["participants"] == []
    assert first["event_sent_at"] is None and first["sent_at"] == pytest.approx(time.time(), abs=5)

    await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
    drawn = await snapshot_where(board, lambda s: s["board"]["session"]["status"] == "running")
    assert drawn["cause"] == "change" and drawn["seq"] > first["seq"]
    assert len(drawn["board"]["participants"]) == 3

    officer1 = await login(client, "officer1")
    joined = await client.post(
        f"{API}/spot/join", headers=officer1, json={"code": spot["code"], "device_id": DEVICE}
    )
    attempt_id = joined.json()["attempt_id"]
    shown = await snapshot_where(board, lambda s: participant(s, "张三")["joined_at"] is not None)
    assert shown["cause"] == "change" and participant(shown, "张三")["answered"] == 0

    started = time.monotonic()
    await save_first_answer(client, officer1, attempt_id)
    answered = await snapshot_where(board, lambda s: participant(s, "张三")["answered"] == 1)
    assert time.monotonic() - started < 2.0
    assert answered["cause"] == "change"
    # The save's own event carries its time, so the latency from save to board can be measured.
    assert answered["event_sent_at"] is not None
    assert answered["event_sent_at"] <= answered["sent_at"] < answered["event_sent_at"] + 1.0
    assert participant(answered, "张三")["joined_at"] is not None
    assert sum(q["answered"] for q in answered["board"]["questions"]) == 1
    await board.close()

    # Meanwhile, with nobody watching: another officer answers and the first one submits.
    await join_and_answer(client, spot, "officer2")
    submitted = await client.post(f"{API}/attempts/{attempt_id}/submit", headers=officer1)
    assert submitted.status_code == 200, submitted.text
    await asyncio.sleep(0.05)
    assert app.state.live.subscriber_count(spot["id"]) == 0

    again = await watch(served, spot["id"], token_of(inspector))
    full = await receive(again)
    assert full["cause"] == "connect" and full["seq"] == 1
    assert participant(full, "张三")["finished"] is True
    assert participant(full, "张三")["score_percent"] is not None
    assert participant(full, "李四")["answered"] == 1 and participant(full, "李四")["finished"] is False
    assert participant(full, "王五")["joined_at"] is None
    assert sum(q["answered"] for q in full["board"]["questions"]) == 2
    await again.close()


async def test_bursts_are_coalesced_but_the_last_change_always_shows(
    app: FastAPI, client: AsyncClient, world: World, served: str
) -> None:
    inspector = await login(client, "inspector")
    spot = await create(client, world, draw_count=3)
    await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
    board = await watch(served, spot["id"], token_of(inspector))
    await receive(board)
    live: LiveBus = app.state.live
    # 50 notifications at once, the last of them for a real change (an excusal).
    for n in range(49):
        await live.publish(spot["id"], {"type": "changed", "kind": "noise", "sent_at": time.time() + n})
    excused = await client.post(
        f"{API}/spot/sessions/{spot['id']}/participants/{world.users['officer3']}/excuse",
        headers=inspector,
        json={"reason": "出警"},
    )
    assert excused.status_code == 204
    snapshots: list[Message] = []
    with contextlib.suppress(TimeoutError):
        while True:
            snapshots.append(await receive(board, within=1.0))
    assert 1 <= len(snapshots) <= 3, [s["seq"] for s in snapshots]
    assert all(s["cause"] == "change" for s in snapshots)
    last = snapshots[-1]
    assert participant(last, "王五")["excused"] is True
    assert last["board"]["version"] == 50  # every notification was taken into account
    assert last["event_sent_at"] == pytest.approx(time.time() + 48, abs=5)  # the newest one's time
    gaps = [b["sent_at"] - a["sent_at"] for a, b in itertools.pairwise(snapshots)]
    assert all(gap >= ws.COALESCE_SECONDS * 0.8 for gap in gaps), gaps
    # A change during the quiet window after a snapshot is shown at the window's end.
    await live.publish(spot["id"], {"type": "changed", "kind": "noise"})
    first = await receive(board)
    async with app.state.database.sessionmaker() as session:
        await session.execute(
            update(SpotParticipant)
            .where(SpotParticipant.user_id == world.users["officer2"])
            .values(excused=True, excuse_reason="病假")
        )
        await session.commit()
    await live.publish(spot["id"], {"type": "changed", "kind": "excused"})
    second = await receive(board, within=1.0)
    assert participant(second, "李四")["excused"] is True
    assert second["sent_at"] - first["sent_at"] >= ws.COALESCE_SECONDS * 0.8
    await board.close()


async def test_a_quiet_board_is_refreshed_and_ends_with_its_login(
    app: FastAPI, client: AsyncClient, world: World, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws, "HEARTBEAT_SECONDS", 0.3)
    inspector = await login(client, "inspector")
    spot = await create(client, world, draw_count=3)
    await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
    board = await watch(served, spot["id"], token_of(inspector))
    await receive(board)
    # A change that sends no event (as when the sweeper finishes an attempt at its deadline).
    async with app.state.database.sessionmaker() as session:
        await session.execute(
            update(SpotParticipant)
            .where(SpotParticipant.user_id == world.users["officer1"])
            .values(excused=True, excuse_reason="出差")
        )
        await session.commit()
    refreshed = await snapshot_where(board, lambda s: participant(s, "张三")["excused"], within=2.0)
    assert refreshed["cause"] == "heartbeat" and refreshed["event_sent_at"] is None
    # Logging out ends the board too, whether it is quiet or busy (a second session, with a
    # notification every 50 ms, never has a quiet refresh).
    busy_spot = await create(client, world)
    busy = await watch(served, busy_spot["id"], token_of(inspector))
    await receive(busy)

    async def noise() -> None:
        while True:
            await app.state.live.publish(busy_spot["id"], {"type": "changed", "kind": "noise"})
            await asyncio.sleep(0.05)

    noisy = asyncio.create_task(noise())
    try:
        assert (await client.post(f"{API}/auth/logout", headers=inspector)).status_code == 204
        assert await closed_with(board, within=3.0, watching=True) == (4401, "session_revoked")
        assert await closed_with(busy, within=3.0, watching=True) == (4401, "session_revoked")
    finally:
        noisy.cancel()
    await asyncio.sleep(0.05)
    assert app.state.live.subscriber_count(spot["id"]) == 0
    assert app.state.live.subscriber_count(busy_spot["id"]) == 0


# The event bus ----------------------------------------------------------------------------------


async def test_without_redis_events_stay_in_their_process() -> None:
    first, second = LiveBus(), LiveBus()
    here, there = first.subscribe(7), second.subscribe(7)
    other_session = first.subscribe(8)
    await first.start()
    await first.publish(7, {"type": "changed", "kind": "joined"})
    assert here.get_nowait() == {"type": "changed", "kind": "joined"}
    assert there.empty() and other_session.empty()
    assert not first.shared
    first.unsubscribe(7, here)
    await first.publish(7, {"type": "changed", "kind": "again"})
    assert here.empty() and first.subscriber_count(7) == 0
    first.unsubscribe(7, here)  # twice is harmless
    await first.stop()


def test_the_channel_names_the_redis_database() -> None:
    # Pub/sub ignores database numbers: deployments on other databases of one server stay apart.
    assert LiveBus(Redis.from_url("redis://127.0.0.1:6379/3")).channel(12) == "yingzhi:3:spot:12"
    assert LiveBus(Redis.from_url("redis://127.0.0.1:6379")).channel(12) == "yingzhi:0:spot:12"


async def test_an_unreachable_redis_never_fails_a_save() -> None:
    """A closed port: publishing falls back to this process, starting does not hang or raise."""
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    bus = LiveBus(unreachable, max_backoff_seconds=0.2)
    await bus.start(wait_seconds=0.3)
    assert not bus.subscribed
    queue = bus.subscribe(3)
    await bus.publish(3, {"type": "changed", "kind": "answered"})
    assert queue.get_nowait() == {"type": "changed", "kind": "answered"}
    await bus.stop()
    await unreachable.aclose()


@pytest.mark.redis
@needs_redis
async def test_with_redis_events_reach_every_process_once() -> None:
    assert REDIS_URL
    prefix = f"yingzhi-test:{uuid.uuid4().hex}:spot:"
    clients = [Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)]
    first, second = (LiveBus(c, prefix=prefix) for c in clients)
    try:
        await first.start()
        await second.start()
        assert first.subscribed and second.subscribed and first.shared
        here, there, elsewhere = first.subscribe(7), second.subscribe(7), second.subscribe(8)
        event = {"type": "changed", "kind": "answered", "sent_at": time.time()}
        await first.publish(7, event)
        assert await asyncio.wait_for(there.get(), 2) == event
        assert await asyncio.wait_for(here.get(), 2) == event  # through Redis, not also locally
        await asyncio.sleep(0.2)
        assert here.empty() and there.empty() and elsewhere.empty()
    finally:
        await first.stop()
        await second.stop()
        for c in clients:
            await c.aclose()


@pytest.mark.redis
@needs_redis
async def test_the_listener_reconnects_when_redis_drops_it() -> None:
    assert REDIS_URL
    name = f"yingzhi-live-test-{uuid.uuid4().hex[:12]}"
    prefix = f"yingzhi-test:{uuid.uuid4().hex}:spot:"
    listening = Redis.from_url(REDIS_URL, client_name=name)
    admin = Redis.from_url(REDIS_URL)
    bus = LiveBus(listening, prefix=prefix, max_backoff_seconds=0.5)
    publisher = LiveBus(admin, prefix=prefix)
    try:
        await bus.start()
        queue = bus.subscribe(5)
        await publisher.publish(5, {"type": "changed", "kind": "before"})
        assert (await asyncio.wait_for(queue.get(), 2))["kind"] == "before"
        # Redis drops the listener's connection (only ours: found by its client name).
        ours = [c for c in await admin.client_list(_type="pubsub") if c.get("name") == name]
        assert len(ours) == 1
        assert await admin.client_kill_filter(_id=ours[0]["id"]) == 1
        # Back again: boards are told to re-read what they may have missed, then events flow.
        assert await asyncio.wait_for(queue.get(), 10) == RESYNC
        assert bus.subscribed
        await publisher.publish(5, {"type": "changed", "kind": "after"})
        assert (await asyncio.wait_for(queue.get(), 2))["kind"] == "after"
    finally:
        await bus.stop()
        await listening.aclose()
        await admin.aclose()


# Two app processes, one PostgreSQL database, one Redis -----------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _seed(url: str) -> World:
    await _empty_tables(url)
    database = Database(make_settings(url))
    try:
        async with database.sessionmaker() as session:
            return await build_world(session)
    finally:
        await database.dispose()


def _start_app(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own app, fixed arguments
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _wait_ready(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    """Fail (never skip) when the process does not come up."""
    deadline = time.monotonic() + 40
    async with httpx.AsyncClient(base_url=base, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"app process exited with {process.returncode}:\n{_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    pytest.fail(f"app process at {base} not ready after 40 s:\n{_tail(log)}")


@pytest.mark.postgres
@pytest.mark.redis
@needs_postgres_and_redis
async def test_an_answer_saved_through_one_process_reaches_a_board_on_another(postgres_url: str) -> None:
    assert REDIS_URL
    world = await _seed(postgres_url)
    env = {
        **os.environ,
        "YINGZHI_DATABASE_URL": postgres_url,
        "YINGZHI_REDIS_URL": REDIS_URL,
        "YINGZHI_SECRET_KEY": TEST_SECRET,
        "YINGZHI_ENVIRONMENT": "test",
        "YINGZHI_SWEEP_ENABLED": "false",
        "YINGZHI_DB_POOL_SIZE": "4",
        "YINGZHI_DB_HOT_POOL_SIZE": "2",
    }
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="yingzhi-live-") as folder:
        try:
            bases = []
            for name in ("a", "b"):
                port = _free_port()
                log = Path(folder) / f"{name}.log"
                processes.append(_start_app(port, env, log))
                bases.append(f"http://127.0.0.1:{port}")
                await _wait_ready(processes[-1], bases[-1], log)
            await _board_on_b_follows_saves_on_a(bases[0], bases[1], world)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


async def _board_on_b_follows_saves_on_a(base_a: str, base_b: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=base_a, timeout=10) as a:
        inspector = await login(a, "inspector")
        spot = await create(a, world, draw_count=3)
        drawn = await a.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
        assert drawn.status_code == 200, drawn.text
        officer = await login(a, "officer1")
        joined = await a.post(
            f"{API}/spot/join", headers=officer, json={"code": spot["code"], "device_id": DEVICE}
        )
        assert joined.status_code == 200, joined.text

        ws_b = base_b.replace("http://", "ws://") + API
        board = await watch(ws_b, spot["id"], token_of(inspector))
        first = await receive(board)
        assert first["cause"] == "connect"
        assert (
            participant(first, "张三")["joined_at"] is not None
            and participant(first, "张三")["answered"] == 0
        )

        started = time.monotonic()
        await save_first_answer(a, officer, joined.json()["attempt_id"])
        shown = await snapshot_where(board, lambda s: participant(s, "张三")["answered"] == 1, within=2.0)
        elapsed = time.monotonic() - started
        assert elapsed < 2.0
        # Brought by an event through Redis, not by the 5-second refresh.
        assert shown["cause"] == "change"
        assert sum(q["answered"] for q in shown["board"]["questions"]) == 1
        await board.close()
