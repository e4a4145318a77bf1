"""A small HTTP/1.1 keep-alive load client on raw asyncio streams, run as its own process.

    python -m bench.loadgen SPEC.json RESULT.json

It imports nothing from the app, so the same client drives the floors and the real endpoints and
ratios between them are fair. Two modes:

closed  every connection sends its next request as soon as the previous answer arrives, cycling
        over its own list of paths with a body {"response": ..., "seq": n}, n increasing per
        connection; requests started in the warm-up are not measured. With `track_acks` it parses
        each 2xx answer and keeps, per path, the highest seq answered with "accepted": true.
open    request i is sent at t0 + i * interval whatever happened before (latency is measured
        from that scheduled time, so time spent waiting for a free connection counts), over a pool
        of keep-alive connections that grows up to `max_connections`.

Any non-2xx status, timeout or connection error is an error; the first few are kept as samples.
"""

import asyncio
import contextlib
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

MAX_ERROR_SAMPLES = 5


class HttpError(Exception):
    """The server's answer could not be parsed or the connection closed mid-answer."""


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.usable = False
        self.requests = 0  # sent on this connection (for error reports)
        self.idle_since = 0.0
        self.idle_before = 0.0  # how long the connection sat idle before the current request

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.usable = True

    def close(self) -> None:
        self.usable = False
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.reader = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request (complete bytes) and read the whole answer."""
        if self.reader is None or self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.usable = False  # until the answer has been read completely
        self.idle_before = time.monotonic() - self.idle_since if self.requests else 0.0
        self.requests += 1
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP answer: {head[:60]!r}")
        status = int(head[9:12])
        length = -1
        chunked = False
        keep_alive = True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep_alive = value.strip().lower() != b"close"
        if chunked:
            body = await self._read_chunked()
        elif length >= 0:
            body = await self.reader.readexactly(length)
        else:  # no length: the body runs to the end of the connection
            body = await self.reader.read()
            keep_alive = False
        if keep_alive:
            self.usable = True
            self.idle_since = time.monotonic()
        else:
            self.close()
        return status, body

    def describe(self) -> str:
        if self.requests <= 1:
            return "on a new connection"
        return f"on a reused connection (request {self.requests}, idle {self.idle_before:.2f} s before it)"

    async def _read_chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


def request_bytes(
    method: str, path: str, host: str, port: int, auth: str | None, body: bytes | None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    if auth:
        lines.append(f"Authorization: {auth}")
    if body is not None:
        lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {len(body) if body is not None else 0}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


@dataclass
class Recorder:
    latencies: list[float] = field(default_factory=list)  # seconds, successful measured requests
    errors: int = 0
    warmup_requests: int = 0
    warmup_errors: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    body_bytes: int = 0
    connections_opened: int = 0

    def sample(self, text: str) -> None:
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(text[:400])

    def record(self, measured: bool, status: int | None, latency: float, body: bytes, problem: str) -> None:
        key = str(status) if status is not None else "connection_error"
        self.status_counts[key] = self.status_counts.get(key, 0) + 1
        ok = status is not None and 200 <= status < 300
        if not measured:
            self.warmup_requests += 1
            if not ok:
                self.warmup_errors += 1
                self.sample(f"(warm-up) {key}: {problem or body.decode(errors='replace')}")
            return
        if ok:
            self.latencies.append(latency)
            self.body_bytes += len(body)
        else:
            self.errors += 1
            self.sample(f"{key}: {problem or body.decode(errors='replace')}")


# ---------------------------------------------------------------- closed loop


async def _closed_worker(
    spec: dict[str, Any],
    conn_spec: dict[str, Any],
    rec: Recorder,
    acked: dict[str, int],
    not_accepted: list[int],
    warm_end: float,
    end: float,
) -> None:
    host, port, timeout = spec["host"], int(spec["port"]), float(spec["timeout"])
    track = bool(spec.get("track_acks"))
    auth: str | None = conn_spec.get("auth")
    method: str = conn_spec.get("method", "PUT")
    items: list[tuple[str, bytes]] = [(path, orjson.dumps(resp)) for path, resp in conn_spec["items"]]
    heads = {
        path: request_bytes(method, path, host, port, auth, b"").removesuffix(b"Content-Length: 0\r\n\r\n")
        for path, _ in items
    }
    conn = Connection(host, port)
    seq = 0
    i = 0
    loop = asyncio.get_running_loop()
    while loop.time() < end:
        path, response = items[i % len(items)]
        i += 1
        seq += 1
        body = b'{"response":' + response + b',"seq":' + str(seq).encode() + b"}"
        raw = heads[path] + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        started = loop.time()
        measured = started >= warm_end
        if not conn.usable and conn.writer is None:
            rec.connections_opened += 1
        try:
            async with asyncio.timeout(timeout):
                status, answer = await conn.request(raw)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
            conn.close()
            rec.record(measured, None, 0.0, b"", repr(exc))
            await asyncio.sleep(0.05)
            continue
        rec.record(measured, status, loop.time() - started, answer, "")
        if track and 200 <= status < 300:
            if orjson.loads(answer).get("accepted") is True:
                if acked.get(path, -1) < seq:
                    acked[path] = seq
            else:
                not_accepted[0] += 1
    conn.close()


async def run_closed(spec: dict[str, Any]) -> dict[str, Any]:
    rec = Recorder()
    acked: dict[str, int] = {}
    not_accepted = [0]
    loop = asyncio.get_running_loop()
    start = loop.time()
    warm_end = start + float(spec["warmup"])
    end = warm_end + float(spec["duration"])
    async with asyncio.timeout(float(spec["warmup"]) + float(spec["duration"]) + float(spec["timeout"]) + 30):
        await asyncio.gather(
            *(_closed_worker(spec, c, rec, acked, not_accepted, warm_end, end) for c in spec["connections"])
        )
    return {
        "measured_seconds": end - warm_end,
        "wall_seconds": loop.time() - start,
        "acked": acked,
        "not_accepted": not_accepted[0],
        **_recorder_out(rec),
    }


# ---------------------------------------------------------------- open loop


class Pool:
    """Keep-alive connections handed out first come, first served; grows up to `limit`."""

    def __init__(self, host: str, port: int, limit: int, rec: Recorder) -> None:
        self.host, self.port, self.limit, self.rec = host, port, limit, rec
        self.idle: deque[Connection] = deque()
        self.count = 0
        self.peak = 0
        self.waiters: deque[asyncio.Future[Connection | None]] = deque()

    async def acquire(self) -> Connection:
        if self.idle:
            return self.idle.pop()
        if self.count >= self.limit:
            waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            conn = await waiter
            if conn is not None:
                return conn
            # None: a connection was dropped and its slot passed to us; open a new one below.
        else:
            self.count += 1
            self.peak = max(self.peak, self.count)
        self.rec.connections_opened += 1
        return Connection(self.host, self.port)

    def release(self, conn: Connection) -> None:
        handoff: Connection | None = conn if conn.usable else None
        if handoff is None:
            conn.close()
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(handoff)
                return
        if handoff is not None:
            self.idle.append(handoff)
        else:
            self.count -= 1

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


async def _open_one(
    pool: Pool, raw: bytes, scheduled: float, limit: float, rec: Recorder, measured: bool
) -> None:
    loop = asyncio.get_running_loop()
    conn: Connection | None = None
    try:
        async with asyncio.timeout(max(0.001, scheduled + limit - loop.time())):
            conn = await pool.acquire()
            status, answer = await conn.request(raw)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
        where = conn.describe() if conn is not None else "waiting for a connection"
        if conn is not None:
            conn.close()
        rec.record(
            measured, None, 0.0, b"", f"{exc!r} {where}, {loop.time() - scheduled:.1f} s after scheduled"
        )
    else:
        rec.record(measured, status, loop.time() - scheduled, answer, "")
    finally:
        if conn is not None:
            pool.release(conn)


async def _warm_up(spec: dict[str, Any], rec: Recorder) -> None:
    warm = spec.get("warmup") or {}
    requests = warm.get("requests") or []
    if not requests:
        return
    host, port, timeout = spec["host"], int(spec["port"]), float(spec["timeout"])
    queue: deque[bytes] = deque(
        request_bytes(m, p, host, port, a, b.encode() if b is not None else None) for m, p, a, b in requests
    )
    pool = Pool(host, port, int(warm.get("concurrency", 16)), Recorder())

    async def worker() -> None:
        while queue:
            await _open_one(pool, queue.popleft(), time.monotonic(), timeout, rec, measured=False)

    await asyncio.gather(*(worker() for _ in range(int(warm.get("concurrency", 16)))))
    pool.close()


async def run_open(spec: dict[str, Any]) -> dict[str, Any]:
    rec = Recorder()
    await _warm_up(spec, rec)
    host, port, timeout = spec["host"], int(spec["port"]), float(spec["timeout"])
    interval = float(spec["interval"])
    raws = [
        request_bytes(m, p, host, port, a, b.encode() if b is not None else None)
        for m, p, a, b in spec["requests"]
    ]
    pool = Pool(host, port, int(spec["max_connections"]), rec)
    loop = asyncio.get_running_loop()
    done_at: list[float] = []

    async def one(raw: bytes, scheduled: float) -> None:
        await _open_one(pool, raw, scheduled, timeout, rec, measured=True)
        done_at.append(loop.time())

    t0 = loop.time() + 0.1
    tasks: list[asyncio.Task[None]] = []
    lag_max = 0.0
    async with asyncio.timeout(len(raws) * interval + timeout + 30):
        for i, raw in enumerate(raws):
            scheduled = t0 + i * interval
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag_max = max(lag_max, -delay)
            tasks.append(asyncio.create_task(one(raw, scheduled)))
        await asyncio.gather(*tasks)
    pool.close()
    last = max(done_at) if done_at else t0
    return {
        "offered": len(raws),
        "offered_seconds": len(raws) * interval,
        "measured_seconds": last - t0,  # first scheduled send to last answer
        "scheduler_lag_max_ms": lag_max * 1000,
        "peak_connections": pool.peak,
        **_recorder_out(rec),
    }


def _recorder_out(rec: Recorder) -> dict[str, Any]:
    return {
        "latencies": rec.latencies,
        "ok": len(rec.latencies),
        "errors": rec.errors,
        "warmup_requests": rec.warmup_requests,
        "warmup_errors": rec.warmup_errors,
        "status_counts": rec.status_counts,
        "error_samples": rec.error_samples,
        "mean_body_bytes": rec.body_bytes / len(rec.latencies) if rec.latencies else 0,
        "connections_opened": rec.connections_opened,
    }


async def main_async(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["mode"] == "closed":
        return await run_closed(spec)
    if spec["mode"] == "open":
        return await run_open(spec)
    raise ValueError(f"unknown mode {spec['mode']!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m bench.loadgen SPEC.json RESULT.json", file=sys.stderr)
        return 2
    spec = orjson.loads(Path(argv[1]).read_bytes())
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    result = runner(main_async(spec))
    Path(argv[2]).write_bytes(orjson.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
