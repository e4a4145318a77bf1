"""Test harness: every API test runs on SQLite, and on PostgreSQL when YINGZHI_TEST_DATABASE_URL is set.

The schema is created only by the migrations. Each test starts from empty tables.
"""

import gc
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from app.db.base import Base
from app.db.migrations import upgrade
from app.main import create_app
from tests.factories import World, build_world

PG_URL = os.environ.get("YINGZHI_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("YINGZHI_TEST_REDIS_URL")
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"

if os.environ.get("CI") and not (PG_URL and REDIS_URL):
    raise RuntimeError(
        "CI must set YINGZHI_TEST_DATABASE_URL and YINGZHI_TEST_REDIS_URL: no silent skips in CI"
    )

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _reset_postgres_schema(url: str) -> None:
    import asyncio

    async def reset() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


@pytest.fixture(autouse=True)
def _short_garbage_collections() -> None:
    """Every test builds an app, and the collector is left large object graphs; CPython's full
    collections over them paused the shared event loop for up to 5 s, which broke the live board's
    time windows. Moving what exists into the permanent generation before each test (cheap) limits
    every collection to the objects made since: pauses stay under 0.2 s, at the price of earlier
    tests' garbage cycles never being reclaimed (~1.7 GB at the end of the suite)."""
    gc.freeze()


@pytest.fixture(scope="session")
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="yingzhi-test-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'test.db'}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not PG_URL:
        pytest.skip("YINGZHI_TEST_DATABASE_URL is not set")
    # A clean schema on every run: nothing depends on what an earlier run left behind.
    _reset_postgres_schema(PG_URL)
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "environment": "test",
        "sweep_enabled": False,
        "redis_url": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def _empty_tables(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())
    await engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    await _empty_tables(settings.database_url)
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


@pytest.fixture
async def world(app: FastAPI) -> World:
    """A small unit tree with every role, a bank with every question type, nothing published."""
    async with app.state.database.sessionmaker() as session:
        return await build_world(session)
