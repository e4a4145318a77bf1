"""Live events for spot-session boards: notifications that something changed (the database stays
the truth; a board re-reads `service.board` when told). In-process fan-out; with Redis, across
processes (helper P2 extends this module)."""

import asyncio
from collections import defaultdict
from typing import Any


class LiveBus:
    """publish(session_id, event) → every subscriber of that session in this process."""

    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, session_id: int, event: dict[str, Any]) -> None:
        self.deliver(session_id, event)

    def deliver(self, session_id: int, event: dict[str, Any]) -> None:
        for queue in list(self._queues.get(session_id, ())):
            queue.put_nowait(event)

    def subscribe(self, session_id: int) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues[session_id].discard(queue)
        if not self._queues[session_id]:
            del self._queues[session_id]

    async def start(self) -> None:
        """Begin listening (Redis); nothing to do in-process."""

    async def stop(self) -> None:
        """Stop listening."""
