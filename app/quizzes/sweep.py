"""Background sweep: attempts nobody submitted are finished from their saved answers."""

import asyncio
import logging

from app.core.config import Settings
from app.db.session import Database
from app.quizzes.service import sweep_expired

log = logging.getLogger("yingzhi.sweep")


async def sweep_once(database: Database, settings: Settings) -> int:
    async with database.sessionmaker() as session:
        return await sweep_expired(session, settings)


async def run_sweeper(database: Database, settings: Settings) -> None:
    while True:
        try:
            finished = await sweep_once(database, settings)
            if finished:
                log.info("finished %d expired attempts", finished)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed sweep must not stop later ones
            log.exception("sweep failed")
        await asyncio.sleep(settings.sweep_interval_seconds)
