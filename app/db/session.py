"""Async engine and sessions. SQLite: WAL, foreign keys on, busy timeout."""

import io
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import asyncpg
import numpy as np
import orjson
from sqlalchemy import event, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.config import Settings, get_settings
from app.core.errors import AppError

T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# orjson for JSON columns: papers carry options, keys and responses as JSON.
_JSON = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def make_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if url.startswith("sqlite"):
        # One connection per process: SQLite has one writer anyway, and a single connection means a
        # read-then-write transaction can never fail on a stale WAL snapshot (SQLITE_BUSY_SNAPSHOT).
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=120, **_JSON
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip on every request. A connection the server dropped fails
    # one request and is discarded by the pool; recycling keeps connections from going stale.
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=1800,
        **_JSON,
    )


class Database:
    """One engine and session factory per app instance (tests build several)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        # PostgreSQL only: a small asyncpg pool for the answer save, opened at start-up (open_raw_pool).
        self.raw_pool: asyncpg.Pool | None = None
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Same pool; each statement commits by itself. For single-statement hot paths (answer save).
        self.autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # A tiny pool of its own for one-statement counters (the draw index): never waits behind
        # requests holding main-pool connections. Unused on SQLite.
        self.counter_engine = (
            self.engine
            if settings.is_sqlite
            else create_async_engine(
                settings.database_url, pool_size=2, max_overflow=0, isolation_level="AUTOCOMMIT", **_JSON
            )
        )

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def open_raw_pool(self) -> None:
        if self.settings.is_sqlite or self.raw_pool is not None:
            return
        url = make_url(self.settings.database_url).set(drivername="postgresql")
        self.raw_pool = await asyncpg.create_pool(
            url.render_as_string(hide_password=False), min_size=1, max_size=self.settings.db_hot_pool_size
        )

    async def dispose(self) -> None:
        if self.raw_pool is not None:
            await self.raw_pool.close()
            self.raw_pool = None
        await self.engine.dispose()
        if self.counter_engine is not self.engine:
            await self.counter_engine.dispose()


_default: Database | None = None


def get_database() -> Database:
    global _default
    if _default is None:
        _default = Database(get_settings())
    return _default


async def get_or_raise(session: AsyncSession, model: type[T], ident: int, error: AppError) -> T:
    """Load a row by primary key, or raise `error` (404 for a path id, 422 for a body reference)."""
    row = await session.get(model, ident)
    if row is None:
        raise error
    return row


def upsert_insert(session: AsyncSession) -> Any:
    """The session's dialect's `insert`, which has `on_conflict_do_update` / `_do_nothing`."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def plan_each_query(session: AsyncSession) -> None:
    """For the rest of the session's transaction, let PostgreSQL plan every statement for its own
    parameters. asyncpg prepares statements, and after five runs PostgreSQL may keep a generic plan
    that ignores them: fine for the small queries of answering, but for reports, where a unit path
    prefix or a list of quizzes picks anything from one row to the whole table, it is a poor plan
    (statistics: 1.5 times slower)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


# PostgreSQL's binary COPY format: a fixed signature, flags, a header extension; then per row a
# field count and, per field, a length and the value (big-endian); then a trailer of -1.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_TRAILER = b"\xff\xff"


async def fetch_integers(
    session: AsyncSession, stmt: Any, width: int
) -> "np.ndarray[Any, np.dtype[np.int64]]":
    """All rows of a large SELECT of `width` INTEGER columns, none NULL, as an int64 array (rows ×
    width), in the session's transaction. On PostgreSQL the rows come as binary COPY, read by numpy
    in one step: a few hundred thousand rows in about half the time of asyncpg records."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        rows = (await session.execute(stmt)).all()
        return np.array(rows, dtype=np.int64).reshape(-1, width)
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    buffer = io.BytesIO()
    await driver.copy_from_query(str(compiled), *params, output=buffer, format="binary")
    data = buffer.getvalue()
    if not data.startswith(_COPY_SIGNATURE) or not data.endswith(_COPY_TRAILER):
        raise ValueError("not a binary COPY stream")
    extension = int.from_bytes(data[15:19], "big")
    body = data[19 + extension : -len(_COPY_TRAILER)]
    # Each cell: its length (4), then its value.
    row = np.dtype([("fields", ">i2"), ("cells", ">i4", (width, 2))])
    if len(body) % row.itemsize:
        raise ValueError("rows of unexpected size: every column must be a non-NULL INTEGER")
    records = np.frombuffer(body, dtype=row)
    if (records["fields"] != width).any() or (records["cells"][:, :, 0] != 4).any():
        raise ValueError("rows of unexpected shape: every column must be a non-NULL INTEGER")
    return records["cells"][:, :, 1].astype(np.int64)
