from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from app.auth import service
from app.auth.schemas import (
    LoginRequest,
    LogoutRequest,
    PasswordChange,
    ProfileUpdate,
    RefreshRequest,
    TokenPair,
    UserOut,
)
from app.core.deps import (
    CounterDep,
    CurrentUserAllowingPasswordChange,
    SessionDep,
    SettingsDep,
    oauth2_scheme,
)
from app.core.security import decode_access_token
from app.units.models import Unit, User

router = APIRouter(tags=["auth"])


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/login", response_model=TokenPair)
async def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep, counter: CounterDep
) -> TokenPair:
    return await service.login(
        session,
        settings,
        counter,
        username=body.username,
        password=body.password,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )


@router.post("/auth/token", include_in_schema=True, summary="OAuth2 password flow (Swagger's Authorize)")
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    counter: CounterDep,
) -> dict[str, object]:
    pair = await service.login(
        session,
        settings,
        counter,
        username=form.username,
        password=form.password,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    return {"access_token": pair.access_token, "token_type": "bearer", "expires_in": pair.expires_in}


@router.post("/auth/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    return await service.refresh(session, settings, body.refresh_token)


@router.post("/auth/logout", status_code=204)
async def logout(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    body: LogoutRequest | None = None,
) -> Response:
    claims = decode_access_token(settings, token) if token else None
    await service.logout(
        session,
        refresh_token=body.refresh_token if body else None,
        session_id=claims.session_id if claims else None,
    )
    return Response(status_code=204)


async def _me(session: SessionDep, user_id: int) -> UserOut:
    user, unit_name = (
        await session.execute(
            select(User, Unit.name).join(Unit, Unit.id == User.unit_id).where(User.id == user_id)
        )
    ).one()
    return service.user_out(user, unit_name)


@router.get("/me", response_model=UserOut)
async def me(principal: CurrentUserAllowingPasswordChange, session: SessionDep) -> UserOut:
    return await _me(session, principal.id)


@router.patch("/me", response_model=UserOut)
async def update_me(
    body: ProfileUpdate, principal: CurrentUserAllowingPasswordChange, session: SessionDep
) -> UserOut:
    user = (await session.execute(select(User).where(User.id == principal.id))).scalar_one()
    if body.language:
        user.language = body.language
    await session.commit()
    return await _me(session, principal.id)


@router.post("/me/password", status_code=204)
async def change_password(
    body: PasswordChange, principal: CurrentUserAllowingPasswordChange, session: SessionDep
) -> Response:
    await service.change_password(
        session,
        user_id=principal.id,
        session_id=principal.session_id,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=204)
