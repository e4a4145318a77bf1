"""The application factory: one app per settings object (tests build several)."""

import asyncio
import contextlib
import gzip
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from redis.asyncio import Redis
from sqlalchemy import text

from app.auth.router import router as auth_router
from app.bank.router import router as bank_router
from app.core.config import Settings, get_settings
from app.core.errors import install_error_handlers
from app.core.ratelimit import MemoryCounter, RedisCounter
from app.db.migrations import current_revision, head_revision
from app.db.session import Database
from app.imports.router import router as imports_router
from app.practice.router import router as practice_router
from app.quizzes.router import router as quizzes_router
from app.quizzes.service import FrozenQuizCache, ShapeCache
from app.quizzes.sweep import run_sweeper
from app.spot.live import LiveBus
from app.spot.router import router as spot_router
from app.spot.service import ServedItems
from app.spot.ws import router as spot_ws_router
from app.stats.router import router as stats_router
from app.units.router import router as units_router

log = logging.getLogger("yingzhi")

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    # The officer's hot paths (quizzes) first: routes are matched in order.
    for domain_router in (
        quizzes_router,
        auth_router,
        units_router,
        bank_router,
        imports_router,
        practice_router,
        stats_router,
        spot_router,
        spot_ws_router,
    ):
        router.include_router(domain_router)
    return router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.database.open_raw_pool()
        await app.state.live.start()
        sweeper: asyncio.Task[None] | None = None
        if settings.sweep_enabled:
            sweeper = asyncio.create_task(run_sweeper(app.state.database, settings))
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await app.state.live.stop()
            if app.state.redis is not None:
                await app.state.redis.aclose()
            await app.state.database.dispose()

    app = FastAPI(
        title="Yingzhi 应知",
        version="0.1.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = Database(settings)
    app.state.redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    app.state.counter = RedisCounter(app.state.redis) if app.state.redis is not None else MemoryCounter()
    # Per app, not per module: each app (and each test) has its own database.
    app.state.shape_cache = ShapeCache()
    app.state.frozen_quizzes = FrozenQuizCache()
    app.state.live = LiveBus(app.state.redis)
    app.state.spot_quizzes = {}  # quiz id -> its spot session id, or None
    app.state.spot_items = ServedItems()  # items of spot attempts, for the live board
    install_error_handlers(app)
    app.include_router(api_router())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        # request.app, not a closure over `app`: FastAPI caches endpoint functions module-wide, and
        # a closure would keep every app built in one process (the tests build hundreds) alive.
        try:
            async with request.app.state.database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                revision = await conn.run_sync(current_revision)
        except Exception as exc:
            log.warning("readiness check failed: %s", exc)
            return JSONResponse({"status": "database unreachable", "code": "not_ready"}, status_code=503)
        head = head_revision()
        if revision != head:
            return JSONResponse(
                {"status": f"migrations at {revision}, head is {head}", "code": "migrations_pending"},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "revision": revision})

    _mount_frontend(app, settings)
    return app


_COMPRESSIBLE = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


@lru_cache(maxsize=256)
def _gzipped(path: Path, mtime_ns: int) -> bytes:
    """Compressed once per file version (the mtime is part of the cache key)."""
    return gzip.compress(path.read_bytes(), compresslevel=9)


def _mount_frontend(app: FastAPI, settings: Settings) -> None:
    """Serve the built SPA; unknown /api paths stay JSON 404s, never the SPA page."""
    dist = settings.frontend_dist.resolve()

    @app.api_route(
        "/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    async def api_not_found(rest: str) -> JSONResponse:
        return JSONResponse({"detail": f"No API endpoint /api/{rest}", "code": "not_found"}, status_code=404)

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str, request: Request) -> Any:
        index = dist / "index.html"
        if not index.is_file():
            return JSONResponse(
                {"detail": "The front end is not built (run `make run`)", "code": "frontend_missing"},
                status_code=404,
            )
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist):
            # Hashed asset names never change content, so they may be cached for a year.
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            if candidate.suffix in _COMPRESSIBLE and "gzip" in request.headers.get("accept-encoding", ""):
                # Slow county networks: gzip cuts the app's JS and CSS to about a third.
                return Response(
                    _gzipped(candidate, candidate.stat().st_mtime_ns),
                    media_type=_COMPRESSIBLE[candidate.suffix],
                    headers={"Cache-Control": cache, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
                )
            return FileResponse(candidate, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
