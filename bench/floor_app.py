"""The floors: a bare FastAPI app doing only the unavoidable part of each request.

    uvicorn bench.floor_app:create_floor_app --factory   (env BENCH_FLOOR_DSN: a plain asyncpg DSN)

PUT /floor/{attempt_id}/items/{item_id}     the app's own SaveIn body validated, a SaveOut answered
PUT /floor-db/{attempt_id}/items/{item_id}  the same plus one raw asyncpg upsert of the response row
GET /floor/paper                            an AttemptOut of 20 items, like a started attempt's answer

The real endpoints must add authentication, the attempt checks and the ORM to these; the ratio
real/floor is what that costs.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import orjson
from fastapi import FastAPI, Request

from app.db.types import utcnow
from app.quizzes.schemas import AttemptOut, ItemOut, OptionOut, SaveIn, SaveOut
from bench.common import QUESTION_MIX, sample_question

# Like the app's engine (pool_size 20 + max_overflow 20) unless the bench caps both.
POOL_MIN = int(os.environ.get("BENCH_FLOOR_POOL_MIN", "20"))
POOL_MAX = int(os.environ.get("BENCH_FLOOR_POOL_MAX", "40"))

UPSERT = """
INSERT INTO attempt_responses (attempt_id, item_id, response, seq, saved_at)
VALUES ($1, $2, $3::jsonb, $4, $5)
ON CONFLICT (attempt_id, item_id) DO UPDATE
SET response = excluded.response, seq = excluded.seq, saved_at = excluded.saved_at
WHERE attempt_responses.seq < excluded.seq
RETURNING seq, saved_at
"""


def sample_paper(items: int = 20) -> AttemptOut:
    """An attempt as the start endpoint answers it: same schema, texts of the seeded sizes."""
    now = utcnow()
    kinds = [kind for kind, count in QUESTION_MIX for _ in range(count)]
    out: list[ItemOut] = []
    for position in range(1, items + 1):
        q = sample_question(kinds[(position - 1) % len(kinds)], position)
        out.append(
            ItemOut(
                id=100_000 + position,
                position=position,
                type=q.qtype,
                stem=q.stem,
                options=[OptionOut(id=f"{position:04d}opt{i:02d}", text=t) for i, t in enumerate(q.options)],
                blanks=q.stem.count("____"),
                points=1.0,
                response=None,
                seq=None,
            )
        )
    return AttemptOut(
        id=1,
        quiz_id=1,
        quiz_title="基准测试：政法队伍教育整顿应知应会测试",
        number=1,
        status="in_progress",
        started_at=now,
        deadline=now + timedelta(hours=1),
        server_time=now,
        save_grace_seconds=20,
        items=out,
    )


def create_floor_app() -> FastAPI:
    dsn = os.environ.get("BENCH_FLOOR_DSN")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_MIN, max_size=POOL_MAX) if dsn else None
        try:
            yield
        finally:
            if app.state.pool is not None:
                await app.state.pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    paper = sample_paper()

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.put("/floor/{attempt_id}/items/{item_id}", response_model=SaveOut)
    async def floor_put(attempt_id: int, item_id: int, body: SaveIn) -> SaveOut:
        now = utcnow()
        return SaveOut(item_id=item_id, seq=body.seq, saved_at=now, accepted=True, server_time=now)

    @app.put("/floor-db/{attempt_id}/items/{item_id}", response_model=SaveOut)
    async def floor_db_put(attempt_id: int, item_id: int, body: SaveIn, request: Request) -> SaveOut:
        now = utcnow()
        pool: asyncpg.Pool = request.app.state.pool
        row = await pool.fetchrow(
            UPSERT, attempt_id, item_id, orjson.dumps(body.response).decode(), body.seq, now
        )
        if row is None:
            return SaveOut(item_id=item_id, seq=body.seq, saved_at=now, accepted=False, server_time=now)
        return SaveOut(
            item_id=item_id, seq=row["seq"], saved_at=row["saved_at"], accepted=True, server_time=now
        )

    @app.get("/floor/paper", response_model=AttemptOut)
    async def floor_paper() -> AttemptOut:
        return paper.model_copy(update={"server_time": utcnow()})

    return app
