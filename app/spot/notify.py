"""Telling a spot session's boards that an answer changed, from the quiz endpoints.

Costs a dict lookup on the hot save path for ordinary quizzes: which quiz an attempt belongs to
comes from the attempt-shape cache, and whether that quiz is a spot session's is cached per process
(a quiz never becomes or stops being one).
"""

import time
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.quizzes.models import Attempt
from app.spot.models import SpotSession


async def _scalar(state: Any, session: AsyncSession | None, stmt: Any) -> Any:
    # A request that holds a session must use it: on SQLite a second connection would wait
    # for the one the request already holds.
    if session is not None:
        return (await session.execute(stmt)).scalar_one_or_none()
    async with state.database.autocommit_engine.connect() as conn:
        return (await conn.execute(stmt)).scalar_one_or_none()


async def spot_for_quiz(state: Any, quiz_id: int, session: AsyncSession | None = None) -> int | None:
    cache: dict[int, int | None] = state.spot_quizzes
    if quiz_id not in cache:
        cache[quiz_id] = await _scalar(
            state, session, select(SpotSession.id).where(SpotSession.quiz_id == quiz_id)
        )
    return cache[quiz_id]


async def notify_spot_board(
    request: Request, attempt_id: int, kind: str, session: AsyncSession | None = None
) -> None:
    state = request.app.state
    shape = state.shape_cache.get(attempt_id)
    quiz_id = shape.quiz_id if shape is not None and shape.quiz_id else None
    if quiz_id is None:
        quiz_id = await _scalar(state, session, select(Attempt.quiz_id).where(Attempt.id == attempt_id))
    if quiz_id is None:
        return
    spot_id = await spot_for_quiz(state, quiz_id, session)
    if spot_id is not None:
        await state.live.publish(
            spot_id, {"type": "changed", "kind": kind, "attempt_id": attempt_id, "sent_at": time.time()}
        )
