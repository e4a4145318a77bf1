"""Fixed-window failure counters: in Redis when configured (shared by all processes), else in memory."""

import time
from typing import Protocol

from redis.asyncio import Redis


class Counter(Protocol):
    async def count(self, key: str) -> tuple[int, int]:
        """(failures in the current window, seconds until it ends)."""
        ...

    async def hit(self, key: str, window: int) -> int: ...

    async def reset(self, key: str) -> None: ...


class MemoryCounter:
    def __init__(self) -> None:
        self._hits: dict[str, tuple[int, float]] = {}

    async def count(self, key: str) -> tuple[int, int]:
        entry = self._hits.get(key)
        if entry is None:
            return 0, 0
        hits, ends = entry
        remaining = ends - time.monotonic()
        if remaining <= 0:
            del self._hits[key]
            return 0, 0
        return hits, max(1, int(remaining + 0.999))

    async def hit(self, key: str, window: int) -> int:
        now = time.monotonic()
        hits, ends = self._hits.get(key, (0, now + window))
        if ends <= now:
            hits, ends = 0, now + window
        self._hits[key] = (hits + 1, ends)
        if len(self._hits) > 100_000:  # bounded memory under a spray of addresses
            self._hits = {k: v for k, v in self._hits.items() if v[1] > now}
        return hits + 1

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class RedisCounter:
    def __init__(self, redis: Redis, prefix: str = "yingzhi:rl:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def count(self, key: str) -> tuple[int, int]:
        pipe = self._redis.pipeline()
        pipe.get(self._prefix + key)
        pipe.ttl(self._prefix + key)
        value, ttl = await pipe.execute()
        if value is None:
            return 0, 0
        return int(value), max(1, int(ttl))

    async def hit(self, key: str, window: int) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(self._prefix + key)
        pipe.expire(self._prefix + key, window, nx=True)
        hits, _ = await pipe.execute()
        return int(hits)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
