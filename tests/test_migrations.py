"""The schema comes only from the migrations, and they must match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.db.models  # noqa: F401  - registers every model on Base.metadata
from app.db.base import Base
from app.db.migrations import current_revision, head_revision


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(current_revision) == head_revision()
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()
