"""Spot-session live board: 300 officers in one session across two app processes.

python -m bench.spot_live [--officers 300] [--seconds 30] [--rate 80]
                          [--reconnect-gap 2] [--baseline-seconds 5]

Goal (issue 5): the time from an answer save to the board update has p99 ≤ 500 ms, and no event is
lost after a board reconnects.

Setup. PostgreSQL at `YINGZHI_BENCH_DATABASE_URL` (its public schema is dropped and migrated, as for
every benchmark) and Redis at `YINGZHI_BENCH_REDIS_URL` (default redis://127.0.0.1:6379/5). Seeding
as bench/common.py does it: units, `--officers` active officers with police numbers and minted tokens,
a bank of single-choice and true/false questions; plus an inspector at the root unit. Two app
processes (A and B, one uvicorn worker each) share the database and Redis. Through the HTTP API of
A the inspector creates a phone-mode spot session for the root unit (10 single + 5 true/false a paper,
more when the run needs more items) with draw_count = every officer and draws; then every officer
joins (`POST /spot/join`, its own device id) and reads its paper, even-numbered officers on A and
odd ones on B, each on its own keep-alive connection.

Saves. Each officer saves a first answer to its next item every `officers / rate` seconds on
average (±25 %, random phase), open loop but one save at a time per officer (a save due while the
previous one is unanswered goes out when it is answered; the lag is reported). First
`--baseline-seconds` of saves with no board connected (what a save costs without live boards), then
`--seconds` with the inspector's board WebSocket (`/api/v1/spot/sessions/{id}/live`) connected to
both processes; each board's first snapshot must show every save made before it connected.

Latency. For every snapshot a board receives, the participants' `answered` counts tell which saves
it shows for the first time: an officer's saves are sequential, so a count of k means its first k
saves. Latency = snapshot received − save sent, both on this process's monotonic clock. Half-way
through, board B's connection is dropped and reopened `--reconnect-gap` s later; the saves first
shown by the snapshot that opens the new connection are left out of B's latencies (their wait
includes the gap) and instead checked: that snapshot must show every save acknowledged before
reconnecting. At the end the last snapshot of each board must show exactly the distinct
(attempt, item) pairs acknowledged, per officer and per question, and so must the database.

Floors, in the same run: one Redis pub/sub hop (publish here → a pattern subscriber in another
process gets it, as the app's listener does; monotonic clocks are system-wide on Linux), idle and
during the load; and a bare board rebuild (`service.board` for the session, in this process, the
servers idle), before and after the answers. floor = pub/sub hop + rebuild: the least a board that
re-reads the database after a notification can take; the app also coalesces changes (by design) and
sends the snapshot. For comparison, the board's figures computed by PostgreSQL alone (`BOARD_SQL`).

All of it shares one machine: both app processes, PostgreSQL, Redis and this client (2 cores here,
often with other people's work); the CPU each used during the load is reported, with this client's
event-loop lag (a late loop delays the receive stamps too).
"""

import argparse
import asyncio
import contextlib
import math
import os
import random
import secrets
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.auth.models import AuthSession
from app.core.security import create_access_token, new_session_id
from app.db.types import utcnow
from app.spot import service as spot_service
from app.units.models import Role, Unit
from app.units.service import create_user
from bench.common import (
    APP_TARGET,
    HOST,
    PROJECT_ROOT,
    Server,
    app_changed_since,
    asyncpg_dsn,
    bench_settings,
    database_url,
    fetch,
    http_call,
    machine,
    main_guard,
    percentile,
    pool_settings,
    ratio,
    reset_database,
    seed,
    stage,
    write_results,
)
from bench.loadgen import Connection, request_bytes

API = "/api/v1"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
GOAL_P99_MS = 500.0
RANDOM_SEED = 20261127
# A paper of 10 single + 5 true/false (more if the run needs more items); the bank holds 4 times that.
PAPER_SINGLE, PAPER_TRUE_FALSE = 10, 5
BANK_FACTOR = 4
JITTER = 0.25  # each officer's interval between saves: mean × (1 ± JITTER)
JOIN_CONCURRENCY = 16
# uvicorn closes a keep-alive connection idle for 5 s: reopen before that instead of failing.
KEEPALIVE_REUSE_S = 4.0
SAVE_TIMEOUT_S = 30.0
SETTLE_TIMEOUT_S = 15.0  # after the last save, how long the boards get to show everything
PUBSUB_IDLE_MESSAGES = 200
PUBSUB_IDLE_RATE = 50.0  # per s
PUBSUB_LOAD_RATE = 10.0  # per s, during the load
REBUILDS = 20
LOOP_TICK_S = 0.01


def redis_url() -> str:
    return os.environ.get("YINGZHI_BENCH_REDIS_URL", DEFAULT_REDIS_URL)


def figures(seconds: Sequence[float]) -> dict[str, Any]:
    """Count and p50/p95/p99/max in milliseconds."""
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 1),
        "p95_ms": round(percentile(ordered, 95) * 1000, 1),
        "p99_ms": round(percentile(ordered, 99) * 1000, 1),
        "max_ms": round((ordered[-1] if ordered else math.nan) * 1000, 1),
    }


# ---------------------------------------------------------------- seeding and joining


@dataclass
class Item:
    id: int
    response: Any  # the answer this officer gives


@dataclass
class Save:
    user_id: int
    item_id: int
    origin: str  # the process that took it: "A" | "B"
    sent: float  # monotonic, when the (last) request went out
    first: bool  # the item's first answer (moves the board's counts); re-answers do not
    acked: float | None = None  # monotonic, when answered 200 with the answer stored


@dataclass
class Officer:
    user_id: int
    token: str  # "Bearer ..."
    server: str  # "A" | "B"
    port: int
    attempt_id: int = 0
    items: list[Item] = field(default_factory=list)
    conn: Connection | None = None
    saves: list[Save] = field(default_factory=list)  # first answers, in the order sent
    resaves: int = 0
    seq: int = 0  # the last seq sent (one counter for all its items: the highest seq wins)
    next_item: int = 0  # the next item to answer for the first time


def paper_size(officers: int, seconds: float, rate: float) -> tuple[int, int]:
    """(single, true/false) per paper: 10 + 5, or more so no officer runs out of new items."""
    expected = seconds * rate / officers
    needed = math.ceil(expected * 1.5)  # the jitter and the random phase give some officers more
    if needed <= PAPER_SINGLE + PAPER_TRUE_FALSE:
        return PAPER_SINGLE, PAPER_TRUE_FALSE
    true_false = math.ceil(needed / 3)
    return needed - true_false, true_false


async def seed_inspector(url: str, root_unit_id: int) -> str:
    """An inspector at the root unit with a minted access token (the raw token, no "Bearer ")."""
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            root = await session.get(Unit, root_unit_id)
            assert root is not None
            inspector = await create_user(
                session,
                username="bench-inspector",
                name="评估验收组",
                role=Role.inspector,
                unit=root,
                password_hash="-",  # nobody logs in
            )
            sid = new_session_id()
            now = utcnow()
            session.add(
                AuthSession(id=sid, user_id=inspector.id, created_at=now, expires_at=now + timedelta(days=1))
            )
            await session.commit()
            user_id = inspector.id
    finally:
        await engine.dispose()
    token, _ = create_access_token(
        bench_settings(url), user_id=user_id, session_id=sid, role=Role.inspector.value, now=datetime.now(UTC)
    )
    return token


async def create_spot_session(
    port: int, token: str, root_unit_id: int, officers: int, paper: tuple[int, int]
) -> dict[str, Any]:
    auth = f"Bearer {token}"
    body = {
        "title": "基准现场抽测",
        "unit_id": root_unit_id,
        "include_subunits": True,
        "mode": "phone",
        "draw_count": officers,
        "rules": [
            {"question_type": "single", "count": paper[0]},
            {"question_type": "true_false", "count": paper[1]},
        ],
        "time_limit_seconds": 3600,
    }
    status, spot = await http_call(port, "POST", f"{API}/spot/sessions", auth, body)
    if status != 201:
        raise SystemExit(f"creating the spot session answered {status}: {spot}")
    if spot["roster_size"] != officers:
        raise SystemExit(f"the roster holds {spot['roster_size']} officers, expected {officers}")
    status, drawn = await http_call(port, "POST", f"{API}/spot/sessions/{spot['id']}/draw", auth)
    if status != 200 or len(drawn["drawn"] or []) != officers:
        raise SystemExit(f"the draw answered {status}: {str(drawn)[:300]}")
    result: dict[str, Any] = drawn
    return result


async def call(
    conn: Connection, port: int, method: str, path: str, auth: str, body: Any = None
) -> tuple[int, Any]:
    raw = request_bytes(method, path, HOST, port, auth, orjson.dumps(body) if body is not None else None)
    async with asyncio.timeout(SAVE_TIMEOUT_S):
        status, answer = await conn.request(raw)
    return status, orjson.loads(answer) if answer else None


async def join_all(officers: list[Officer], code: str, rng: random.Random) -> dict[str, Any]:
    """Every officer joins on its own process and reads its paper; join latencies are reported."""
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)
    joins: dict[str, list[float]] = defaultdict(list)

    async def one(officer: Officer) -> None:
        async with gate:
            officer.conn = Connection(HOST, officer.port)
            started = time.monotonic()
            status, out = await call(
                officer.conn,
                officer.port,
                "POST",
                f"{API}/spot/join",
                officer.token,
                {"code": code, "device_id": f"bench-phone-{officer.user_id:06d}"},
            )
            joins[officer.server].append(time.monotonic() - started)
            if status != 200 or out.get("attempt_id") is None:
                raise SystemExit(f"officer {officer.user_id} could not join: {status} {out}")
            officer.attempt_id = out["attempt_id"]
            status, attempt = await call(
                officer.conn, officer.port, "GET", f"{API}/attempts/{officer.attempt_id}", officer.token
            )
            if status != 200:
                raise SystemExit(f"officer {officer.user_id} could not read attempt: {status} {attempt}")
        for item in sorted(attempt["items"], key=lambda i: i["position"]):
            if item["type"] == "single":
                answer: Any = rng.choice([o["id"] for o in item["options"]])
            elif item["type"] == "true_false":
                answer = rng.random() < 0.5
            else:
                raise SystemExit(f"unexpected item type {item['type']} in the spot paper")
            officer.items.append(Item(item["id"], answer))

    started = time.monotonic()
    await asyncio.gather(*(one(o) for o in officers))
    elapsed = time.monotonic() - started
    return {
        "seconds": round(elapsed, 2),
        "per_s": round(len(officers) / elapsed, 1),
        **{f"join_{name}": figures(values) for name, values in sorted(joins.items())},
        "items_per_paper": sorted({len(o.items) for o in officers}),
    }


# ---------------------------------------------------------------- the load: answer saves


@dataclass
class SaveStats:
    http: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # per process
    schedule_lag: list[float] = field(default_factory=list)
    acked: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    not_accepted: int = 0
    reopened: int = 0  # connections reopened before the server's keep-alive timeout
    retried: int = 0  # a reused connection the server had closed: sent again on a new one

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:300])


async def officer_saves(
    officer: Officer, t0: float, t_end: float, mean_interval: float, rng: random.Random, stats: SaveStats
) -> None:
    """One save at a time: first answers to the paper's items in order, then re-answers."""
    conn = officer.conn
    assert conn is not None
    due = t0 + rng.uniform(0, mean_interval)
    while due < t_end:
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        stats.schedule_lag.append(max(0.0, time.monotonic() - due))
        if officer.next_item < len(officer.items):
            item, first = officer.items[officer.next_item], True
            response = item.response
        else:  # out of new items: answer an earlier one again (moves no count; not measured)
            item, first = officer.items[rng.randrange(len(officer.items))], False
            response = (not item.response) if isinstance(item.response, bool) else item.response
        officer.seq += 1
        seq = officer.seq
        path = f"{API}/attempts/{officer.attempt_id}/items/{item.id}"
        raw = request_bytes(
            "PUT", path, HOST, officer.port, officer.token, orjson.dumps({"response": response, "seq": seq})
        )
        if conn.requests and time.monotonic() - conn.idle_since > KEEPALIVE_REUSE_S:
            conn.close()
            stats.reopened += 1
        save = Save(officer.user_id, item.id, officer.server, time.monotonic(), first)
        if first:
            officer.saves.append(save)
        try:
            async with asyncio.timeout(SAVE_TIMEOUT_S):
                try:
                    status, body = await conn.request(raw)
                except (asyncio.IncompleteReadError, ConnectionError):
                    if conn.requests <= 1:
                        raise
                    # The server closed the idle connection as we reused it: a phone would resend.
                    conn.close()
                    stats.retried += 1
                    status, body = await conn.request(raw)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            conn.close()
            stats.error(f"{officer.user_id} item {item.id}: {type(exc).__name__} {exc}")
            if first:
                officer.saves.pop()  # sent again next time (its count may show early: see "early")
            due += rng.uniform(1 - JITTER, 1 + JITTER) * mean_interval
            continue
        done = time.monotonic()
        stats.http[officer.server].append(done - save.sent)
        if status != 200:
            stats.error(f"{officer.user_id} item {item.id}: HTTP {status} {body[:200]!r}")
            if first:
                officer.saves.pop()
        else:
            answer = orjson.loads(body)
            # Not accepted but stored with our seq: a resend of a save that had been stored.
            if answer["accepted"] or answer["seq"] == seq:
                save.acked = done
                stats.acked += 1
                if first:
                    officer.next_item += 1
                else:
                    officer.resaves += 1
            else:
                stats.not_accepted += 1
                if first:
                    officer.saves.pop()
        due += rng.uniform(1 - JITTER, 1 + JITTER) * mean_interval


# ---------------------------------------------------------------- the boards


@dataclass
class Snapshot:
    connection: int  # 1, 2, ... (a reconnect opens the next)
    received: float  # monotonic
    received_wall: float
    seq: int | None
    cause: str  # "connect" | "change" | "heartbeat"
    answered: dict[int, int]  # user id -> answered
    questions_answered: int
    bytes: int
    sent_at: float | None  # server wall clock when sent
    event_sent_at: float | None  # the newest event's publish time, when a change caused it


def wall_seconds(value: Any) -> float | None:
    """A server time as epoch seconds: a number, or an ISO 8601 text."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value).timestamp()
    return None


class Board:
    """The inspector's live board on one process: every snapshot it receives, kept in order."""

    def __init__(self, name: str, port: int, spot_id: int, token: str) -> None:
        self.name = name
        self.uri = f"ws://{HOST}:{port}{API}/spot/sessions/{spot_id}/live"
        self.token = token
        self.snapshots: list[Snapshot] = []
        self.connection = 0
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.first_of: dict[int, asyncio.Future[Snapshot]] = {}
        self.problems: list[str] = []
        self.messages: dict[str, int] = defaultdict(int)  # by type

    async def open(self, limit_seconds: float = 30.0) -> Snapshot:
        """Connect, authenticate, and wait for the snapshot every (re)connect begins with."""
        self.connection += 1
        number = self.connection
        self.first_of[number] = asyncio.get_running_loop().create_future()
        self.ws = await connect(self.uri, max_size=None, open_timeout=limit_seconds)
        await self.ws.send(orjson.dumps({"type": "auth", "token": self.token}).decode())
        self.reader = asyncio.create_task(self._read(self.ws, number))
        async with asyncio.timeout(limit_seconds):
            return await asyncio.shield(self.first_of[number])

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        self.ws = None
        self.reader = None

    async def _read(self, ws: ClientConnection, number: int) -> None:
        try:
            async for message in ws:
                received, received_wall = time.monotonic(), time.time()
                data = orjson.loads(message)
                kind = str(data.get("type"))
                self.messages[kind] += 1
                if kind != "snapshot":
                    if kind == "error" and len(self.problems) < 10:
                        self.problems.append(f"connection {number}: {str(data)[:300]}")
                    continue
                board = data["board"]
                snapshot = Snapshot(
                    connection=number,
                    received=received,
                    received_wall=received_wall,
                    seq=data.get("seq"),
                    cause=str(data.get("cause")),
                    answered={p["user_id"]: p["answered"] for p in board["participants"]},
                    questions_answered=sum(q["answered"] for q in board["questions"]),
                    bytes=len(message.encode() if isinstance(message, str) else message),
                    sent_at=wall_seconds(data.get("sent_at")),
                    event_sent_at=wall_seconds(data.get("event_sent_at")),
                )
                self.snapshots.append(snapshot)
                first = self.first_of[number]
                if not first.done():
                    first.set_result(snapshot)
        except ConnectionClosed as exc:
            if exc.rcvd is not None and exc.rcvd.code != 1000 and len(self.problems) < 10:
                self.problems.append(f"connection {number} closed by the server: {exc.rcvd}")
        finally:
            first = self.first_of[number]
            if not first.done():
                first.set_exception(RuntimeError(f"board {self.name}: closed before its first snapshot"))

    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None


@dataclass
class Reconnect:
    dropped: float = math.nan
    reopened: float = math.nan  # when the new connection was asked for
    first: Snapshot | None = None


async def drop_and_reconnect(board: Board, at: float, gap: float, out: Reconnect) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    await board.close()
    out.dropped = time.monotonic()
    await asyncio.sleep(gap)
    out.reopened = time.monotonic()
    out.first = await board.open()


def board_latencies(board: Board, officers: dict[int, Officer], skip: Snapshot | None) -> dict[str, Any]:
    """Which saves each snapshot shows for the first time, and how long after their sending.

    `skip`: the snapshot opening a reconnect; what it shows first is not a latency (the gap is in it).
    """
    seen: dict[int, int] = {}
    latencies: dict[str, list[float]] = defaultdict(list)  # by the process that took the save
    shown_by: dict[str, int] = defaultdict(int)  # saves by the cause of the snapshot showing them first
    caught_up = early = unexplained = backwards = seq_not_increasing = 0
    last_seq: dict[int, int] = {}
    for n, snapshot in enumerate(board.snapshots):
        if snapshot.seq is not None:
            before = last_seq.get(snapshot.connection)
            if before is not None and snapshot.seq <= before:
                seq_not_increasing += 1
            last_seq[snapshot.connection] = snapshot.seq
        if n == 0:
            seen = dict(snapshot.answered)  # the state before the load
            continue
        for user_id, count in snapshot.answered.items():
            had = seen.get(user_id, 0)
            if count < had:
                backwards += 1
                continue
            saves = officers[user_id].saves if user_id in officers else []
            for k in range(had, count):
                if k >= len(saves):
                    unexplained += 1
                elif snapshot is skip:
                    caught_up += 1
                else:
                    shown_by[snapshot.cause] += 1
                    latency = snapshot.received - saves[k].sent
                    if latency < 0:
                        early += 1
                    latencies[saves[k].origin].append(latency)
            seen[user_id] = count
    every = [x for values in latencies.values() for x in values]
    return {
        "latencies": every,
        "by_origin": {f"saved_on_{origin}": figures(values) for origin, values in sorted(latencies.items())},
        "snapshots": len(board.snapshots),
        "snapshots_by_cause": dict(Counter(s.cause for s in board.snapshots)),
        "connections": board.connection,
        "saves_shown_first_by_cause": dict(shown_by),
        "shown_first_by_reconnect_snapshot": caught_up,
        "counts_without_a_save": unexplained,
        "counts_going_backwards": backwards,
        "shown_before_sent": early,
        "seq_not_increasing": seq_not_increasing,
        "mean_snapshot_bytes": round(sum(s.bytes for s in board.snapshots) / max(1, len(board.snapshots))),
        "messages": dict(board.messages),
        "problems": board.problems,
    }


def server_breakdown(board: Board) -> dict[str, Any]:
    """From the server's own stamps (wall clock, same machine): event → snapshot sent → received."""
    change, delivery = [], []
    for s in board.snapshots:
        if s.sent_at is not None:
            delivery.append(s.received_wall - s.sent_at)
            if s.event_sent_at is not None:
                change.append(s.sent_at - s.event_sent_at)
    return {"event_to_snapshot_sent": figures(change), "snapshot_sent_to_received": figures(delivery)}


def snapshot_intervals(board: Board) -> dict[str, Any]:
    gaps = [
        b.received - a.received
        for a, b in zip(board.snapshots, board.snapshots[1:], strict=False)
        if a.connection == b.connection
    ]
    return figures(gaps)


# ---------------------------------------------------------------- floors


async def pubsub_subscriber(url: str, channel: str) -> None:
    """In its own process: a pattern subscriber like the app's listener, reporting one-way delays."""
    redis = Redis.from_url(url)
    pubsub: PubSub = redis.pubsub()
    await pubsub.psubscribe(f"{channel}*")
    print("ready", flush=True)
    got: dict[str, list[float]] = defaultdict(list)
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 600:  # the parent is gone: give up
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
        now = time.monotonic()
        if message is None or message.get("type") != "pmessage":
            continue
        quiet_since = now
        body = orjson.loads(message["data"])
        if body.get("stop"):
            break
        got[body["phase"]].append(now - body["t"])
    print(orjson.dumps(got).decode(), flush=True)
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
    await redis.aclose()


class PubSubProbe:
    """Publishes stamped messages to a subscriber process; its delays are read at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.channel = f"bench:spot_live:{secrets.token_hex(4)}:"
        self.redis = Redis.from_url(url)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.spot_live",
            "--pubsub-subscriber",
            self.url,
            self.channel,
            cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        async with asyncio.timeout(30):
            line = await self.proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"the pub/sub subscriber did not start: {line!r}")

    async def publish(self, phase: str) -> None:
        await self.redis.publish(f"{self.channel}x", orjson.dumps({"t": time.monotonic(), "phase": phase}))

    async def run(
        self, phase: str, per_s: float, until: float | None = None, count: int | None = None
    ) -> None:
        sent = 0
        step = 1 / per_s
        due = time.monotonic()
        while (until is None or time.monotonic() < until) and (count is None or sent < count):
            await self.publish(phase)
            sent += 1
            due += step
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def finish(self) -> dict[str, list[float]]:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            await self.redis.publish(f"{self.channel}x", orjson.dumps({"stop": True}))
            async with asyncio.timeout(30):
                line = await self.proc.stdout.readline()
                await self.proc.wait()
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
            await self.redis.aclose()
        got: dict[str, list[float]] = orjson.loads(line)
        return got


async def time_rebuilds(url: str, spot_id: int, count: int) -> dict[str, Any]:
    """`service.board` for the session on a fresh session, then its JSON, as the socket does it.

    Also the CPU time of the rebuild in this process: what it costs whatever else the machine runs.
    """
    engine = create_async_engine(url)
    build: list[float] = []
    build_cpu: list[float] = []
    with_json: list[float] = []
    size = 0
    try:
        maker = async_sessionmaker(engine, expire_on_commit=False)
        for n in range(count + 2):  # two warm-ups
            started, started_cpu = time.perf_counter(), time.process_time()
            async with maker() as session:
                board = await spot_service.board(session, spot_id)
            built, built_cpu = time.perf_counter(), time.process_time()
            size = len(orjson.dumps(board.model_dump(mode="json")))
            if n >= 2:
                build.append(built - started)
                build_cpu.append(built_cpu - started_cpu)
                with_json.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return {
        "rebuild": figures(build),
        "rebuild_cpu": figures(build_cpu),
        "rebuild_and_json": figures(with_json),
        "board_json_bytes": size,
    }


# What the board shows, computed by PostgreSQL: participants, progress per attempt, per question
# served/answered/correct, per option counts, and the questions' texts. The least any board must read.
BOARD_SQL = [
    "SELECT p.user_id, u.name, u.police_number, n.name AS unit_name, p.drawn, p.joined_at, p.late,"
    " p.excused, p.excuse_reason, a.status, a.score_milli, a.max_score_milli"
    " FROM spot_participants p JOIN users u ON u.id = p.user_id JOIN units n ON n.id = u.unit_id"
    " LEFT JOIN attempts a ON a.id = p.attempt_id WHERE p.session_id = $1",
    "SELECT i.attempt_id, count(*) AS served, count(r.id) AS answered"
    " FROM spot_participants p JOIN attempt_items i ON i.attempt_id = p.attempt_id"
    " LEFT JOIN attempt_responses r ON r.item_id = i.id AND r.response <> 'null'::jsonb"
    " WHERE p.session_id = $1 GROUP BY i.attempt_id",
    "SELECT i.question_id, count(*) AS served, count(r.id) AS answered,"
    " count(r.id) FILTER (WHERE r.response = i.answer) AS correct"
    " FROM spot_participants p JOIN attempt_items i ON i.attempt_id = p.attempt_id"
    " LEFT JOIN attempt_responses r ON r.item_id = i.id AND r.response <> 'null'::jsonb"
    " WHERE p.session_id = $1 GROUP BY i.question_id",
    "SELECT i.question_id, r.response, count(*) AS chosen"
    " FROM spot_participants p JOIN attempt_items i ON i.attempt_id = p.attempt_id"
    " JOIN attempt_responses r ON r.item_id = i.id AND r.response <> 'null'::jsonb"
    " WHERE p.session_id = $1 GROUP BY i.question_id, r.response",
    "SELECT q.id, q.stem, q.type, q.options, q.answer FROM questions q WHERE q.id IN"
    " (SELECT i.question_id FROM spot_participants p JOIN attempt_items i ON i.attempt_id = p.attempt_id"
    " WHERE p.session_id = $1)",
]


async def time_board_sql(url: str, spot_id: int, count: int) -> dict[str, Any]:
    """The board's figures straight from PostgreSQL (BOARD_SQL, one connection), for comparison."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    took: list[float] = []
    try:
        for n in range(count + 2):  # two warm-ups
            started = time.perf_counter()
            for sql in BOARD_SQL:
                await conn.fetch(sql, spot_id)
            if n >= 2:
                took.append(time.perf_counter() - started)
    finally:
        await conn.close()
    return figures(took)


# ---------------------------------------------------------------- CPU and the client's loop


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def _pids_matching(comm: str, cmdline_part: str = "") -> list[int]:
    """Processes whose name is `comm` (and whose command line contains `cmdline_part`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == comm and (
                    cmdline_part in (entry / "cmdline").read_bytes().decode(errors="replace")
                ):
                    found.append(int(entry.name))
    return found


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU used by each party between start() and stop(), in cores (CPU seconds per second).

    Parties are found again at the end: a process born meanwhile (a PostgreSQL backend for a new
    pool connection) counts whole; one that ended meanwhile is missed.
    """

    def __init__(self, parties: dict[str, Callable[[], list[int]]]) -> None:
        self.parties = parties
        self.before: dict[str, dict[int, int]] = {}
        self.machine_before = (0, 0)
        self.started = 0.0

    def _sample(self) -> dict[str, dict[int, int]]:
        return {
            name: {pid: t for pid in pids() if (t := _cpu_ticks(pid)) is not None}
            for name, pids in self.parties.items()
        }

    def start(self) -> None:
        self.before = self._sample()
        self.machine_before = _machine_ticks()
        self.started = time.monotonic()

    def stop(self) -> dict[str, Any]:
        after = self._sample()
        wall = time.monotonic() - self.started
        tick = os.sysconf("SC_CLK_TCK")
        cores = {
            name: round(
                sum(t - self.before[name].get(pid, 0) for pid, t in after[name].items()) / tick / wall, 2
            )
            for name in self.parties
        }
        busy, total = _machine_ticks()
        busy_share = (busy - self.machine_before[0]) / max(1, total - self.machine_before[1])
        return {
            "cores_used": cores,
            "machine_busy_percent": round(100 * busy_share, 1),
            "cpus": os.cpu_count(),
            "seconds": round(wall, 1),
        }


async def watch_loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late this client's event loop wakes up: a late loop delays receive stamps too."""
    while not stop.is_set():
        due = time.monotonic() + LOOP_TICK_S
        await asyncio.sleep(LOOP_TICK_S)
        lags.append(max(0.0, time.monotonic() - due))


# ---------------------------------------------------------------- checks


def check_reconnect(reconnect: Reconnect, officers: dict[int, Officer]) -> dict[str, Any]:
    """The snapshot opening the new connection shows every save acknowledged before reconnecting."""
    first = reconnect.first
    if first is None:
        return {"ok": False, "problem": "no snapshot after reconnecting"}
    missing_saves = missing_officers = 0
    acked_before = sent_during_gap = 0
    for user_id, officer in officers.items():
        acked = sum(1 for s in officer.saves if s.acked is not None and s.acked < reconnect.reopened)
        acked_before += acked
        sent_during_gap += sum(1 for s in officer.saves if reconnect.dropped <= s.sent < reconnect.reopened)
        shown = first.answered.get(user_id, 0)
        if shown < acked:
            missing_officers += 1
            missing_saves += acked - shown
    return {
        "ok": missing_saves == 0,
        "gap_s": round(reconnect.reopened - reconnect.dropped, 2),
        "saves_sent_while_disconnected": sent_during_gap,
        "acked_before_reconnecting": acked_before,
        "shown_by_first_snapshot": sum(first.answered.values()),
        "missing_saves": missing_saves,
        "officers_missing_saves": missing_officers,
        "first_snapshot_after_s": round(first.received - reconnect.reopened, 3),
    }


def acked_pairs(officers: dict[int, Officer]) -> dict[int, int]:
    """Distinct (attempt, item) pairs acknowledged, per officer."""
    return {uid: len({s.item_id for s in o.saves if s.acked is not None}) for uid, o in officers.items()}


def check_final(board: Board, wanted: dict[int, int]) -> dict[str, Any]:
    last = board.latest()
    if last is None:
        return {"ok": False, "problem": "no snapshot"}
    wrong = sum(1 for uid, n in wanted.items() if last.answered.get(uid, 0) != n)
    total = sum(wanted.values())
    return {
        "ok": wrong == 0 and sum(last.answered.values()) == total and last.questions_answered == total,
        "acked_pairs": total,
        "participants_answered": sum(last.answered.values()),
        "questions_answered": last.questions_answered,
        "officers_differing": wrong,
    }


async def wait_settled(boards: Sequence[Board], wanted: dict[int, int], limit: float) -> float | None:
    """Seconds until every board's latest snapshot shows every acknowledged save (None: never)."""
    started = time.monotonic()
    total = sum(wanted.values())
    while time.monotonic() - started < limit:
        latest = [b.latest() for b in boards]
        if all(s is not None and sum(s.answered.values()) >= total for s in latest):
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return None


async def check_database(url: str, officers: dict[int, Officer], wanted: dict[int, int]) -> dict[str, Any]:
    by_attempt = {o.attempt_id: uid for uid, o in officers.items()}
    rows = await fetch(
        url,
        "SELECT attempt_id, count(*) AS n FROM attempt_responses"
        " WHERE attempt_id = ANY($1::int[]) AND response IS NOT NULL AND response <> 'null'::jsonb"
        " GROUP BY attempt_id",
        list(by_attempt),
    )
    stored = {by_attempt[r["attempt_id"]]: int(r["n"]) for r in rows}
    wrong = sum(1 for uid, n in wanted.items() if stored.get(uid, 0) != n)
    return {"ok": wrong == 0, "stored_pairs": sum(stored.values()), "officers_differing": wrong}


# ---------------------------------------------------------------- orchestration


@dataclass
class Live:
    """Everything the measured phases produce."""

    officers: dict[int, Officer]
    boards: dict[str, Board]
    baseline: SaveStats
    baseline_cpu: dict[str, Any]
    baseline_seconds: float
    first_snapshots_ok: bool
    stats: SaveStats
    cpu: dict[str, Any]
    load_seconds: float
    reconnect: Reconnect
    wanted: dict[int, int]
    settled: float | None
    lags: list[float]


def cpu_parties(servers: dict[str, Server], url: str) -> dict[str, Callable[[], list[int]]]:
    database_name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    return {
        "app_A": lambda: [servers["A"].proc.pid],
        "app_B": lambda: [servers["B"].proc.pid],
        "postgres_this_database": lambda: _pids_matching("postgres", f" {database_name} "),
        "postgres_all": lambda: _pids_matching("postgres"),
        "redis": lambda: _pids_matching("redis-server"),
        "client": lambda: [os.getpid()],
    }


async def save_phase(
    officers: dict[int, Officer], seconds: float, rate: float, rng: random.Random, stats: SaveStats
) -> tuple[float, float]:
    """Every officer saves for `seconds`; returns (start, end) of the phase on the monotonic clock."""
    t0 = time.monotonic() + 0.5
    mean_interval = len(officers) / rate
    await asyncio.gather(
        *(
            officer_saves(o, t0, t0 + seconds, mean_interval, random.Random(rng.random()), stats)
            for o in officers.values()
        )
    )
    return t0, time.monotonic()


async def measure(
    args: argparse.Namespace,
    servers: dict[str, Server],
    url: str,
    spot_id: int,
    probe: PubSubProbe,
    token: str,
    officers: dict[int, Officer],
    rng: random.Random,
) -> Live:
    """The baseline (saves, no board), then the saves watched by boards on A and B."""
    ports = {name: s.port for name, s in servers.items()}
    meter = CpuMeter(cpu_parties(servers, url))
    baseline = SaveStats()
    with stage(f"baseline: {args.baseline_seconds:.0f} s of saves at ~{args.rate:.0f}/s, no board connected"):
        meter.start()
        t0, t1 = await save_phase(officers, args.baseline_seconds, args.rate, rng, baseline)
        baseline_cpu = meter.stop()

    # Boards connecting now must show every save made so far.
    boards = {name: Board(name, ports[name], spot_id, token) for name in ("A", "B")}
    before = acked_pairs(officers)
    first_snapshots_ok = True
    for board in boards.values():
        first = await board.open()
        first_snapshots_ok &= len(first.answered) == len(officers) and all(
            first.answered.get(uid, 0) == n for uid, n in before.items()
        )

    stats = SaveStats()
    lags: list[float] = []
    stop_watch = asyncio.Event()
    reconnect = Reconnect()
    phase = f"{args.seconds:.0f} s of saves at ~{args.rate:.0f}/s, boards on A and B; B dropped half-way"
    with stage(phase):
        meter.start()
        watcher = asyncio.create_task(watch_loop_lag(stop_watch, lags))
        start = time.monotonic() + 0.5
        background = [
            asyncio.create_task(probe.run("load", PUBSUB_LOAD_RATE, until=start + args.seconds)),
            asyncio.create_task(
                drop_and_reconnect(boards["B"], start + args.seconds / 2, args.reconnect_gap, reconnect)
            ),
        ]
        started, ended = await save_phase(officers, args.seconds, args.rate, rng, stats)
        await asyncio.gather(*background)
        wanted = acked_pairs(officers)
        settled = await wait_settled(list(boards.values()), wanted, SETTLE_TIMEOUT_S)
        await asyncio.sleep(0.5)  # anything still coming would show as a count without a save
        cpu = meter.stop()
        stop_watch.set()
        await watcher
    for board in boards.values():
        await board.close()
    for officer in officers.values():
        if officer.conn is not None:
            officer.conn.close()
    return Live(
        officers=officers,
        boards=boards,
        baseline=baseline,
        baseline_cpu=baseline_cpu,
        baseline_seconds=t1 - t0,
        first_snapshots_ok=first_snapshots_ok,
        stats=stats,
        cpu=cpu,
        load_seconds=ended - started,
        reconnect=reconnect,
        wanted=wanted,
        settled=settled,
        lags=lags,
    )


def save_figures(stats: SaveStats, seconds: float) -> dict[str, Any]:
    return {
        "acked": stats.acked,
        "per_s": round(stats.acked / seconds, 1),
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "not_accepted": stats.not_accepted,
        "connections_reopened_before_keepalive_timeout": stats.reopened,
        "resent_on_closed_keepalive": stats.retried,
        "schedule_lag": figures(stats.schedule_lag),
        **{f"http_{name}": figures(values) for name, values in sorted(stats.http.items())},
    }


def board_results(live: Live) -> tuple[dict[str, Any], list[float]]:
    """Per board: latencies and checks; plus every latency of both boards."""
    per_board: dict[str, Any] = {}
    overall: list[float] = []
    for name, board in live.boards.items():
        row = board_latencies(board, live.officers, live.reconnect.first if name == "B" else None)
        values = row.pop("latencies")
        overall += values
        latency = figures(values)
        per_board[name] = {
            "latency": latency,
            "met": latency["p99_ms"] <= GOAL_P99_MS,
            **row,
            "snapshot_interval": snapshot_intervals(board),
            "server_stamps": server_breakdown(board),
            "final": check_final(board, live.wanted),
        }
    return per_board, overall


async def run(args: argparse.Namespace) -> None:
    state = machine()
    url = database_url()
    redis = redis_url()
    rng = random.Random(RANDOM_SEED)
    paper = paper_size(args.officers, args.seconds + args.baseline_seconds, args.rate)
    results: dict[str, Any] = {
        "config": {
            "officers": args.officers,
            "seconds": args.seconds,
            "baseline_seconds": args.baseline_seconds,
            "rate_per_s": args.rate,
            "mean_interval_s": round(args.officers / args.rate, 2),
            "paper": {"single": paper[0], "true_false": paper[1]},
            "processes": 2,
            "workers_per_process": 1,
            "reconnect_gap_s": args.reconnect_gap,
            "redis": redis.rsplit("@", 1)[-1],
        },
        "goal_p99_ms": GOAL_P99_MS,
    }

    with stage(f"migrating and seeding {args.officers} officers"):
        await reset_database(url)
        bank = [("single", paper[0] * BANK_FACTOR), ("true_false", paper[1] * BANK_FACTOR)]
        seeded = await seed(url, officers=args.officers, question_mix=bank)
        inspector_token = await seed_inspector(url, seeded.root_unit_id)

    # The pools of both processes must fit the shared server together: sized as for 2 workers.
    env, pool_note = await pool_settings(url, APP_TARGET, 2, False)
    env = env | {"YINGZHI_REDIS_URL": redis}
    servers = {name: Server(APP_TARGET, url, 1, env, pool_note) for name in ("A", "B")}
    probe: PubSubProbe | None = None
    try:
        with stage("two app processes sharing PostgreSQL and Redis"):
            await asyncio.gather(*(s.wait_ready() for s in servers.values()))

        with stage("the inspector creates and draws the session; every officer joins"):
            port_a = servers["A"].port
            spot = await create_spot_session(
                port_a, inspector_token, seeded.root_unit_id, args.officers, paper
            )
            officers = {}
            for n, uid in enumerate(seeded.officer_ids):
                name = "A" if n % 2 == 0 else "B"
                officers[uid] = Officer(uid, seeded.tokens[uid], name, servers[name].port)
            results["joins"] = await join_all(list(officers.values()), spot["code"], rng)
        print(f"  {results['joins']}", flush=True)

        with stage("floors: Redis pub/sub hop (idle), board rebuild and board SQL before the answers"):
            probe = PubSubProbe(redis)
            await probe.start()
            await probe.run("idle", PUBSUB_IDLE_RATE, count=PUBSUB_IDLE_MESSAGES)
            rebuild_before = await time_rebuilds(url, spot["id"], REBUILDS)
            sql_before = await time_board_sql(url, spot["id"], REBUILDS)

        live = await measure(args, servers, url, spot["id"], probe, inspector_token, officers, rng)

        with stage("floors: board rebuild and board SQL after the answers; checks"):
            rebuild_after = await time_rebuilds(url, spot["id"], REBUILDS)
            sql_after = await time_board_sql(url, spot["id"], REBUILDS)
            hops = await probe.finish()
            probe = None
            results["database"] = await check_database(url, officers, live.wanted)
    finally:
        if probe is not None:
            with contextlib.suppress(Exception):
                await probe.finish()
        for server in servers.values():
            server.stop()

    results["saves_without_board"] = save_figures(live.baseline, live.baseline_seconds) | {
        "cpu": live.baseline_cpu
    }
    results["saves"] = save_figures(live.stats, live.load_seconds) | {
        "first_answers_acked_in_both_phases": sum(live.wanted.values()),
        "re_answers_acked": sum(o.resaves for o in officers.values()),
    }

    per_board, overall = board_results(live)
    overall_figures = figures(overall)
    results["boards"] = per_board
    results["overall"] = overall_figures | {"met": overall_figures["p99_ms"] <= GOAL_P99_MS}
    results["first_snapshot_shows_earlier_saves"] = live.first_snapshots_ok
    results["reconnect"] = check_reconnect(live.reconnect, officers)
    results["settled_after_last_save_s"] = None if live.settled is None else round(live.settled, 3)

    pubsub = {phase: figures(values) for phase, values in hops.items()}
    hop = pubsub.get("load", {"p50_ms": math.nan, "p99_ms": math.nan})
    rebuild = rebuild_after["rebuild"]
    floor_p50, floor_p99 = hop["p50_ms"] + rebuild["p50_ms"], hop["p99_ms"] + rebuild["p99_ms"]
    results["floors"] = {
        "pubsub_hop": pubsub,
        "board_rebuild_before_answers": rebuild_before,
        "board_rebuild_after_answers": rebuild_after,
        "board_sql_before_answers": sql_before,
        "board_sql_after_answers": sql_after,
        "floor_p50_ms": round(floor_p50, 1),
        "floor_p99_ms": round(floor_p99, 1),
    }
    results["ratios"] = {
        "latency_p50_over_floor_p50": round(ratio(overall_figures["p50_ms"], floor_p50), 2),
        "latency_p99_over_floor_p99": round(ratio(overall_figures["p99_ms"], floor_p99), 2),
        "latency_p50_over_rebuild_p50": round(ratio(overall_figures["p50_ms"], rebuild["p50_ms"]), 2),
        "rebuild_p50_over_board_sql_p50": round(ratio(rebuild["p50_ms"], sql_after["p50_ms"]), 2),
        "latency_p50_over_pubsub_p50": round(ratio(overall_figures["p50_ms"], hop["p50_ms"]), 2),
    }
    results["cpu_during_load"] = live.cpu
    results["client_loop_lag"] = figures(live.lags)
    results["db_pools"] = pool_note
    results["server_log_problems"] = {name: s.problems for name, s in servers.items()}
    results["machine"] = state
    results["app_changed_during_run"] = app_changed_since(state["app_state"])
    report(results)
    print(f"results: {write_results('spot_live', results)}")


def report(results: dict[str, Any]) -> None:
    rows = [{"board": name, **board["latency"]} for name, board in results["boards"].items()]
    overall = results["overall"]
    print()
    print("board  saves shown  p50 ms  p95 ms  p99 ms  max ms")
    for row in [*rows, {"board": "both", **overall}]:
        print(
            f"{row['board']:<6} {row['n']:>11}  {row['p50_ms']:>6}  {row['p95_ms']:>6}"
            f"  {row['p99_ms']:>6}  {row['max_ms']:>6}"
        )
    print(f"goal p99 ≤ {GOAL_P99_MS:.0f} ms: {'met' if overall['met'] else 'NOT met'}")
    for label, key in (("saves, no board", "saves_without_board"), ("saves, 2 boards", "saves")):
        saves = results[key]
        http = ", ".join(
            f"{name[5:]} p50 {value['p50_ms']} / p99 {value['p99_ms']} ms"
            for name, value in saves.items()
            if name.startswith("http_")
        )
        print(
            f"{label}: {saves['acked']} acked ({saves['per_s']}/s), {saves['errors']} errors;"
            f" HTTP {http}; schedule lag p99 {saves['schedule_lag']['p99_ms']} ms"
        )
    print(f"first snapshots show the earlier saves: {results['first_snapshot_shows_earlier_saves']}")
    print(f"reconnect: {results['reconnect']}")
    for name, board in results["boards"].items():
        print(f"board {name}: final {board['final']}")
        print(
            f"  snapshots {board['snapshots_by_cause']},"
            f" every {board['snapshot_interval']['p50_ms']} ms (p50)"
        )
        print(f"  server stamps {board['server_stamps']}")
    print(f"database: {results['database']}")
    print(f"settled {results['settled_after_last_save_s']} s after the last save")
    floors = results["floors"]
    print(f"pub/sub hop: {floors['pubsub_hop']}")
    rebuild = floors["board_rebuild_after_answers"]
    print(f"board rebuild (after): {rebuild['rebuild']}; its CPU {rebuild['rebuild_cpu']}")
    print(f"board SQL (after): {floors['board_sql_after_answers']}")
    print(f"ratios: {results['ratios']}")
    print(f"cpu, no board: {results['saves_without_board']['cpu']}")
    print(f"cpu, 2 boards: {results['cpu_during_load']}")
    print(f"client loop lag: {results['client_loop_lag']}")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--pubsub-subscriber":
        asyncio.run(pubsub_subscriber(sys.argv[2], sys.argv[3]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--officers", type=int, default=300, help="officers drawn, all of them joining")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the officers save answers")
    parser.add_argument("--rate", type=float, default=80.0, help="answer saves per second, all officers")
    parser.add_argument("--reconnect-gap", type=float, default=2.0, help="board B stays away this long")
    parser.add_argument(
        "--baseline-seconds", type=float, default=5.0, help="saves with no board connected, first"
    )
    args = parser.parse_args()
    if args.officers < 2 or args.rate <= 0 or args.seconds <= 0:
        parser.error("--officers must be at least 2, --rate and --seconds positive")
    main_guard(lambda: run(args))


if __name__ == "__main__":
    main()
