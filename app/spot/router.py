"""Spot sessions over HTTP (the live board's WebSocket is in app/spot/ws.py)."""

from fastapi import APIRouter, Request, Response

from app.core.deps import CurrentUser, SessionDep, SettingsDep, StaffUser
from app.spot import service
from app.spot.schemas import (
    AuditOut,
    DrawRecord,
    DrawVerification,
    ExcuseIn,
    JoinIn,
    JoinOut,
    OralCheckOut,
    OralDrawIn,
    OralMarkIn,
    OverrideIn,
    SpotBoard,
    SpotCreate,
    SpotOut,
)

router = APIRouter(tags=["spot"])


async def changed(request: Request, spot_id: int, kind: str) -> None:
    """Tell every board of the session (in every process) to re-read it."""
    await request.app.state.live.publish(spot_id, {"type": "changed", "kind": kind})


@router.post("/spot/sessions", response_model=SpotOut, status_code=201)
async def create_session(body: SpotCreate, principal: StaffUser, session: SessionDep) -> SpotOut:
    """Fix the roster and commit to a secret seed (both hashes shown now); nobody is drawn yet."""
    return await service.create_session(session, principal, body)


@router.get("/spot/sessions", response_model=list[SpotOut])
async def list_sessions(principal: StaffUser, session: SessionDep) -> list[SpotOut]:
    return await service.list_sessions(session, principal)


@router.get("/spot/sessions/{spot_id}", response_model=SpotOut)
async def get_session(spot_id: int, principal: StaffUser, session: SessionDep) -> SpotOut:
    return await service.spot_out(session, await service.get_hosted(session, principal, spot_id))


@router.post("/spot/sessions/{spot_id}/draw", response_model=SpotOut)
async def draw(spot_id: int, principal: StaffUser, session: SessionDep, request: Request) -> SpotOut:
    """Draw the officers from the fixed roster with the committed seed, reveal the seed, start."""
    out = await service.draw_officers(session, principal, spot_id)
    await changed(request, spot_id, "drawn")
    return out


@router.get("/spot/sessions/{spot_id}/draw-record", response_model=DrawRecord)
async def draw_record(spot_id: int, principal: CurrentUser, session: SessionDep) -> DrawRecord:
    """The draw's published inputs and result: enough to recompute it anywhere."""
    return await service.visible_record(session, principal, spot_id)


@router.get("/spot/sessions/{spot_id}/draw-record/verify", response_model=DrawVerification)
async def verify_stored(spot_id: int, principal: CurrentUser, session: SessionDep) -> DrawVerification:
    return service.verify_record(await service.visible_record(session, principal, spot_id))


@router.post("/spot/verify-draw", response_model=DrawVerification)
async def verify_draw(record: DrawRecord, principal: CurrentUser) -> DrawVerification:
    """Recompute a draw from a published record (e.g. one saved before): every check must hold."""
    return service.verify_record(record)


@router.post("/spot/join", response_model=JoinOut)
async def join(
    body: JoinIn, principal: CurrentUser, session: SessionDep, settings: SettingsDep, request: Request
) -> JoinOut:
    """Join by the 6-digit code (the QR code carries it); again from the same phone resumes."""
    state = request.app.state
    out = await service.join(
        session, state.database, state.frozen_quizzes, settings, principal, body.code, body.device_id
    )
    await changed(request, out.session_id, "joined")
    return out


@router.get("/spot/sessions/{spot_id}/board", response_model=SpotBoard)
async def board(spot_id: int, principal: StaffUser, session: SessionDep, request: Request) -> SpotBoard:
    """The live state (the WebSocket sends the same after every change)."""
    await service.get_hosted(session, principal, spot_id)
    return await service.board(session, spot_id, request.app.state.spot_items)


@router.post("/spot/sessions/{spot_id}/participants/{user_id}/excuse", status_code=204)
async def excuse(
    spot_id: int, user_id: int, body: ExcuseIn, principal: StaffUser, session: SessionDep, request: Request
) -> Response:
    await service.excuse(session, principal, spot_id, user_id, body.reason)
    await changed(request, spot_id, "excused")
    return Response(status_code=204)


@router.post("/spot/sessions/{spot_id}/participants/{user_id}/release-device", status_code=204)
async def release_device(
    spot_id: int, user_id: int, principal: StaffUser, session: SessionDep, request: Request
) -> Response:
    await service.release_device(session, principal, spot_id, user_id)
    await changed(request, spot_id, "device_released")
    return Response(status_code=204)


@router.post("/spot/sessions/{spot_id}/oral", response_model=OralCheckOut, status_code=201)
async def oral_draw(
    spot_id: int, body: OralDrawIn, principal: StaffUser, session: SessionDep, request: Request
) -> OralCheckOut:
    """Oral mode: draw an officer (or name one) and a question; key and explanation for the host."""
    out = await service.oral_draw(session, principal, spot_id, body)
    await changed(request, spot_id, "oral_drawn")
    return out


@router.post("/spot/sessions/{spot_id}/oral/{check_id}/mark", response_model=OralCheckOut)
async def oral_mark(
    spot_id: int, check_id: int, body: OralMarkIn, principal: StaffUser, session: SessionDep, request: Request
) -> OralCheckOut:
    out = await service.oral_mark(session, principal, spot_id, check_id, body)
    await changed(request, spot_id, "oral_marked")
    return out


@router.post("/spot/sessions/{spot_id}/close", response_model=SpotOut)
async def close(spot_id: int, principal: StaffUser, session: SessionDep, request: Request) -> SpotOut:
    out = await service.close(session, principal, spot_id)
    await changed(request, spot_id, "closed")
    return out


@router.post("/spot/sessions/{spot_id}/overrides", status_code=204)
async def override(
    spot_id: int, body: OverrideIn, principal: StaffUser, session: SessionDep, request: Request
) -> Response:
    await service.override(session, principal, spot_id, body)
    await changed(request, spot_id, "override")
    return Response(status_code=204)


@router.get("/spot/sessions/{spot_id}/audit", response_model=list[AuditOut])
async def audit_log(spot_id: int, principal: StaffUser, session: SessionDep) -> list[AuditOut]:
    return await service.audit_log(session, principal, spot_id)
