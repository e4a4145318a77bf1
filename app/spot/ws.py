"""The live board of a spot session over a WebSocket: `/api/v1/spot/sessions/{spot_id}/live`.

Protocol (JSON text frames):
1. The client connects, then sends within 5 s {"type": "auth", "token": "<access token>"}
   (never a token in the URL: URLs end up in logs). The token and its login are checked exactly as
   for HTTP requests; only the session's host (its creator) or an administrator may watch.
2. The server answers {"type": "snapshot", "board": <SpotBoard>, "seq": n, "cause": "connect" |
   "change" | "heartbeat", "sent_at": <server time>, "event_sent_at": <newest event's sent_at or
   null>} at once, then a fresh snapshot after every change (bursts coalesced: at most one per
   COALESCE_SECONDS, the last change never dropped), and one every HEARTBEAT_SECONDS when nothing
   happened (attempts finished by the timeout sweeper send no event).
3. The client may send {"type": "ping"}; the server answers {"type": "pong"}.
The board's `version` counts the change notifications this connection has taken in; `seq` numbers
its snapshots (both start again on reconnect, when the first snapshot is complete anyway).

The socket accepts no actions: host actions are HTTP endpoints authorized per request, so a forged
or replayed message can do nothing but close the socket. Every snapshot is read fresh from the
database; events only say "read again", so a board never depends on having seen every event.

Refusals close the socket with a code and a short reason (the error code):
4400 malformed or unexpected message, 4401 not authenticated / invalid or expired token / login
ended / no auth in time, 4403 not allowed (not the host, password change pending), 4404 no such
session.
"""

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from app.core.deps import access_claims, check_login, principal_from_token
from app.core.errors import AppError, NotFound
from app.core.security import AccessClaims
from app.db.session import Database
from app.spot import service
from app.spot.live import Event, LiveBus

log = logging.getLogger("yingzhi.spot.ws")

router = APIRouter(tags=["spot"])

AUTH_TIMEOUT_SECONDS = 5.0
COALESCE_SECONDS = 0.12
HEARTBEAT_SECONDS = 5.0
MAX_MESSAGE_CHARS = 8192

BAD_MESSAGE = 4400
NOT_AUTHENTICATED = 4401
NOT_ALLOWED = 4403
NOT_FOUND = 4404


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _parse(text: str | None) -> dict[str, Any]:
    if text is None or len(text) > MAX_MESSAGE_CHARS:
        raise Refused(BAD_MESSAGE, "bad_message")
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Refused(BAD_MESSAGE, "bad_message") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Refused(BAD_MESSAGE, "bad_message")
    return message


async def _receive_text(websocket: WebSocket) -> str | None:
    """The next text frame; None for a binary one. Raises WebSocketDisconnect when the client left."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text: str | None = message.get("text")
    return text


def _refusal(exc: AppError) -> Refused:
    return Refused(NOT_ALLOWED if exc.status_code == 403 else NOT_AUTHENTICATED, exc.code)


async def _authenticate(websocket: WebSocket, spot_id: int) -> AccessClaims:
    """The first message must be the auth message; returns the host's token claims."""
    try:
        text = await asyncio.wait_for(_receive_text(websocket), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        raise Refused(NOT_AUTHENTICATED, "auth_timeout") from None
    message = _parse(text)
    token = message.get("token")
    if message["type"] != "auth" or not isinstance(token, str) or set(message) != {"type", "token"}:
        raise Refused(BAD_MESSAGE, "bad_message")
    # The same checks as every HTTP request (signature, expiry, account, login not ended).
    database: Database = websocket.app.state.database
    async with database.sessionmaker() as session:
        try:
            claims = access_claims(websocket, token)
            principal = await principal_from_token(websocket, token, session)
        except AppError as exc:
            raise _refusal(exc) from None
        if principal.must_change_password:
            raise Refused(NOT_ALLOWED, "password_change_required")
        try:
            await service.get_session(session, spot_id)
        except NotFound:
            raise Refused(NOT_FOUND, "spot_not_found") from None
        try:
            await service.get_hosted(session, principal, spot_id)
        except NotFound:
            raise Refused(NOT_ALLOWED, "spot_not_host") from None
    return claims


async def _check_login(websocket: WebSocket, claims: AccessClaims) -> None:
    """An open socket lasts as long as the login behind it (logging out or disabling the account
    ends it); the access token's own expiry only matters when connecting."""
    database: Database = websocket.app.state.database
    try:
        async with database.engine.connect() as conn:
            await check_login(conn, claims)
    except AppError as exc:
        raise _refusal(exc) from None


class BoardStream:
    """One watcher's connection: snapshots out, pings in."""

    def __init__(self, websocket: WebSocket, spot_id: int, claims: AccessClaims) -> None:
        self.websocket = websocket
        self.spot_id = spot_id
        self.claims = claims
        self.seq = 0
        self.events_seen = 0
        self._send_lock = asyncio.Lock()
        self._login_checked = time.monotonic()

    async def send(self, payload: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(orjson.dumps(payload).decode())

    async def snapshot(self, cause: str, event_sent_at: float | None) -> None:
        state = self.websocket.app.state
        database: Database = state.database
        async with database.sessionmaker() as session:
            board = await service.board(session, self.spot_id, state.spot_items)
        board.version = self.events_seen
        self.seq += 1
        await self.send(
            {
                "type": "snapshot",
                "seq": self.seq,
                "cause": cause,
                "sent_at": time.time(),
                "event_sent_at": event_sent_at,
                "board": board.model_dump(mode="json"),
            }
        )

    def _drain(self, queue: asyncio.Queue[Event], newest: float | None) -> float | None:
        while not queue.empty():
            newest = self._note(queue.get_nowait(), newest)
        return newest

    def _note(self, event: Event, newest: float | None) -> float | None:
        self.events_seen += 1
        sent_at = event.get("sent_at")
        if isinstance(sent_at, int | float) and (newest is None or sent_at > newest):
            return float(sent_at)
        return newest

    async def recheck_login(self) -> None:
        """At most every HEARTBEAT_SECONDS, busy or quiet: is the login still there?"""
        if time.monotonic() - self._login_checked >= HEARTBEAT_SECONDS:
            await _check_login(self.websocket, self.claims)
            self._login_checked = time.monotonic()

    async def push(self, queue: asyncio.Queue[Event]) -> None:
        """Snapshots: one at once, then after changes (coalesced) or after a quiet while."""
        await self.snapshot("connect", None)
        last = time.monotonic()
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await self.recheck_login()
                await self.snapshot("heartbeat", None)
                last = time.monotonic()
                continue
            newest = self._note(event, None)
            # Changes in the quiet window are gathered and shown by one snapshot at its end; a
            # change arriving while that snapshot is read waits in the queue for the next one.
            pause = last + COALESCE_SECONDS - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            newest = self._drain(queue, newest)
            await self.recheck_login()
            await self.snapshot("change", newest)
            last = time.monotonic()

    async def pull(self) -> None:
        """The client may only ping; anything else closes the socket."""
        while True:
            message = _parse(await _receive_text(self.websocket))
            if message != {"type": "ping"}:
                raise Refused(BAD_MESSAGE, "bad_message")
            await self.send({"type": "pong"})


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code, reason)


@router.websocket("/spot/sessions/{spot_id}/live")
async def live_board(websocket: WebSocket, spot_id: int) -> None:
    await websocket.accept()
    live: LiveBus = websocket.app.state.live
    try:
        claims = await _authenticate(websocket, spot_id)
    except Refused as refused:
        await _close(websocket, refused.code, refused.reason)
        return
    except WebSocketDisconnect:
        return
    stream = BoardStream(websocket, spot_id, claims)
    # Subscribed before the first snapshot is read, so no change can fall in between.
    queue = live.subscribe(spot_id)
    tasks = [asyncio.create_task(stream.push(queue)), asyncio.create_task(stream.pull())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        error = next(iter(done)).exception()
        if isinstance(error, Refused):
            await _close(websocket, error.code, error.reason)
        elif isinstance(error, NotFound):
            await _close(websocket, NOT_FOUND, "spot_not_found")
        elif error is not None and not isinstance(error, WebSocketDisconnect | OSError):
            log.error("live board %s failed", spot_id, exc_info=error)
            await _close(websocket, 1011, "internal_error")
    finally:
        for task in tasks:
            task.cancel()
        live.unsubscribe(spot_id, queue)
