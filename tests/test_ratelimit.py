"""Login throttling counters: in memory, and shared through Redis by several app processes."""

import os
import uuid

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis

from app.core.ratelimit import Counter, MemoryCounter, RedisCounter
from app.main import create_app
from tests.factories import World, build_world

REDIS_URL = os.environ.get("YINGZHI_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="YINGZHI_TEST_REDIS_URL is not set")


async def _exercise(counter: Counter) -> None:
    key = f"test:{uuid.uuid4().hex}"
    assert await counter.count(key) == (0, 0)
    assert await counter.hit(key, 60) == 1
    assert await counter.hit(key, 60) == 2
    hits, retry_after = await counter.count(key)
    assert hits == 2 and 1 <= retry_after <= 60
    await counter.reset(key)
    assert (await counter.count(key))[0] == 0


async def test_memory_counter() -> None:
    await _exercise(MemoryCounter())


@pytest.mark.redis
@needs_redis
async def test_redis_counter() -> None:
    assert REDIS_URL
    redis = Redis.from_url(REDIS_URL)
    try:
        await _exercise(RedisCounter(redis, prefix=f"yingzhi-test:{uuid.uuid4().hex}:"))
    finally:
        await redis.aclose()


@pytest.mark.redis
@needs_redis
async def test_throttle_is_shared_by_two_app_processes_through_redis(sqlite_url: str) -> None:
    """Failures counted by one app instance lock the account-address pair on another one too."""
    from tests.conftest import _empty_tables, make_settings

    assert REDIS_URL
    await _empty_tables(sqlite_url)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    settings = make_settings(sqlite_url, redis_url=REDIS_URL, login_max_failures_per_account_address=3)
    first, second = create_app(settings), create_app(settings)
    try:
        async with LifespanManager(first), LifespanManager(second):
            async with first.state.database.sessionmaker() as session:
                world: World = await build_world(session)
            assert world.users["officer1"]
            a = AsyncClient(transport=ASGITransport(app=first, client=("10.1.1.1", 1)), base_url="http://a")
            b = AsyncClient(transport=ASGITransport(app=second, client=("10.1.1.1", 2)), base_url="http://b")
            bad = {"username": "officer1", "password": "wrong-password"}
            for _ in range(3):
                assert (await a.post("/api/v1/auth/login", json=bad)).status_code == 401
            refused = await b.post(
                "/api/v1/auth/login", json={"username": "officer1", "password": "demo-pass-2021"}
            )
            assert refused.status_code == 429
            assert refused.json()["code"] == "too_many_login_attempts"
            assert int(refused.headers["Retry-After"]) > 0
            await a.aclose()
            await b.aclose()
    finally:
        await redis.flushdb()
        await redis.aclose()
