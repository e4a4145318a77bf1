"""Live events for spot-session boards: notifications that something changed (the database stays
the truth; a board re-reads `service.board` when told, and also every few seconds).

Two modes:
- without Redis, `publish` delivers to the subscribers of this process only (one app process);
- with Redis, `publish` sends to the channel "yingzhi:<db>:spot:<session id>" and one listener
  task per process (PSUBSCRIBE "yingzhi:<db>:spot:*") delivers to the local subscribers, so a board
  connected to any process hears about changes made in every process. Pub/sub ignores Redis
  database numbers, so the number is part of the channel: deployments sharing one Redis server on
  different databases stay apart.

If Redis drops, the listener logs, backs off and reconnects; events published meanwhile are lost
across processes (pub/sub keeps nothing), so after reconnecting it tells every local board to
re-read ("resync"). A failed publish is delivered locally instead of failing the request that
saved the change.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

log = logging.getLogger("yingzhi.live")

Event = dict[str, Any]

RESYNC: Event = {"type": "changed", "kind": "resync"}


class LiveBus:
    """publish(session_id, event) → every subscriber of that session (in every process with Redis)."""

    def __init__(
        self,
        redis: Redis | None = None,
        *,
        prefix: str | None = None,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._queues: dict[int, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._redis = redis
        if prefix is None:
            db = redis.connection_pool.connection_kwargs.get("db", 0) if redis is not None else 0
            prefix = f"yingzhi:{db}:spot:"
        self.prefix = prefix
        self._max_backoff = max_backoff_seconds
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()  # set while the listener holds a live subscription

    @property
    def shared(self) -> bool:
        """True when events reach other processes (Redis configured)."""
        return self._redis is not None

    def channel(self, session_id: int) -> str:
        return f"{self.prefix}{session_id}"

    async def publish(self, session_id: int, event: Event) -> None:
        if self._redis is None:
            self.deliver(session_id, event)
            return
        try:
            await self._redis.publish(self.channel(session_id), orjson.dumps(event))
        except Exception as exc:
            # The change is saved already; boards elsewhere catch up with their periodic snapshot.
            log.warning("live: publishing to Redis failed (%s); delivering in this process only", exc)
            self.deliver(session_id, event)

    def deliver(self, session_id: int, event: Event) -> None:
        for queue in list(self._queues.get(session_id, ())):
            queue.put_nowait(event)

    def subscribe(self, session_id: int) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._queues[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: int, queue: asyncio.Queue[Event]) -> None:
        queues = self._queues.get(session_id)
        if queues is None:
            return
        queues.discard(queue)
        if not queues:
            del self._queues[session_id]

    def subscriber_count(self, session_id: int) -> int:
        return len(self._queues.get(session_id, ()))

    async def start(self, wait_seconds: float = 2.0) -> None:
        """Start the Redis listener and wait (briefly) for its subscription, so events published
        right after start-up are not missed. If Redis is down now, the listener keeps trying."""
        if self._redis is None or self._listener is not None:
            return
        self._listener = asyncio.create_task(self._listen(self._redis), name="spot-live-listener")
        try:
            await asyncio.wait_for(self._subscribed.wait(), wait_seconds)
        except TimeoutError:
            log.warning("live: no Redis subscription after %.1f s; retrying in the background", wait_seconds)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    @property
    def subscribed(self) -> bool:
        """True while the Redis listener holds its subscription."""
        return self._subscribed.is_set()

    async def _listen(self, redis: Redis) -> None:
        backoff = 0.2
        first = True
        while True:
            pubsub: PubSub = redis.pubsub()
            try:
                await pubsub.psubscribe(f"{self.prefix}*")
                self._subscribed.set()
                if first:
                    first = False
                else:
                    log.info("live: Redis subscription restored")
                    # Whatever was published while we were away is lost: every board re-reads.
                    for session_id in list(self._queues):
                        self.deliver(session_id, dict(RESYNC))
                backoff = 0.2
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                    if message is not None:
                        self._on_message(message)
            except Exception as exc:
                log.warning("live: Redis listener failed (%r); reconnecting in %.1f s", exc, backoff)
            finally:
                self._subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") != "pmessage":
            return
        channel = message["channel"]
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        try:
            session_id = int(name.removeprefix(self.prefix))
            event = orjson.loads(message["data"])
        except (ValueError, orjson.JSONDecodeError):
            log.warning("live: ignoring a malformed message on %s", name)
            return
        if isinstance(event, dict):
            self.deliver(session_id, event)
