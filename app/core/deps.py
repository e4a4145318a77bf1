"""Request dependencies shared by every domain: settings, database session, the caller."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from starlette.requests import HTTPConnection

from app.auth.models import AuthSession
from app.core.config import Settings
from app.core.errors import Forbidden, Unauthorized
from app.core.ratelimit import Counter
from app.core.security import AccessClaims, decode_access_token
from app.db.session import Database
from app.db.types import utcnow
from app.units.models import Role, Unit, User


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database_dep(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_counter(request: Request) -> Counter:
    counter: Counter = request.app.state.counter
    return counter


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
CounterDep = Annotated[Counter, Depends(get_counter)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, loaded once per request with one query."""

    id: int
    username: str
    name: str
    role: str
    unit_id: int
    unit_path: str
    session_id: str
    must_change_password: bool

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    def covers_unit_path(self, path: str) -> bool:
        """True when a unit with this path lies in the caller's subtree (admins: everywhere)."""
        return self.is_admin or path.startswith(self.unit_path)


_PRINCIPAL_QUERY = (
    select(
        User.id,
        User.username,
        User.name,
        User.role,
        User.unit_id,
        Unit.path,
        User.is_active,
        User.must_change_password,
        AuthSession.revoked_at,
        AuthSession.expires_at,
    )
    .join(Unit, Unit.id == User.unit_id)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(User.id == bindparam("user_id"), AuthSession.id == bindparam("session_id"))
)


def _refuse_ended_login(row: Any) -> None:
    if row is None or not row.is_active:
        raise Unauthorized("Account not found or disabled", code="invalid_token")
    if row.revoked_at is not None or row.expires_at <= utcnow():
        raise Unauthorized("This login has ended; log in again", code="session_revoked")


async def check_login(conn: AsyncConnection, claims: AccessClaims) -> None:
    """Raise the caller-facing error when the token's account or login is no longer valid."""
    row = (
        await conn.execute(_PRINCIPAL_QUERY, {"user_id": claims.user_id, "session_id": claims.session_id})
    ).one_or_none()
    _refuse_ended_login(row)
    assert row is not None
    if row.must_change_password:
        raise Forbidden("Change your password before continuing", code="password_change_required")


def access_claims(request: HTTPConnection, token: str | None) -> AccessClaims:
    if not token:
        raise Unauthorized("Not authenticated", code="not_authenticated")
    settings: Settings = request.app.state.settings
    claims = decode_access_token(settings, token)
    if claims is None:
        raise Unauthorized("Invalid or expired token", code="invalid_token")
    return claims


async def principal_from_token(
    request: HTTPConnection, token: str | None, session: AsyncSession
) -> Principal:
    claims = access_claims(request, token)
    row = (
        await session.execute(_PRINCIPAL_QUERY, {"user_id": claims.user_id, "session_id": claims.session_id})
    ).one_or_none()
    _refuse_ended_login(row)
    assert row is not None
    return Principal(
        id=row.id,
        username=row.username,
        name=row.name,
        role=row.role,
        unit_id=row.unit_id,
        unit_path=row.path,
        session_id=claims.session_id,
        must_change_password=row.must_change_password,
    )


async def token_claims(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AccessClaims:
    """A valid signature and expiry only; the caller must check the login itself (hot paths)."""
    return access_claims(request, token)


ClaimsDep = Annotated[AccessClaims, Depends(token_claims)]


async def principal_allowing_password_change(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    return await principal_from_token(request, token, session)


async def current_principal(
    principal: Annotated[Principal, Depends(principal_allowing_password_change)],
) -> Principal:
    if principal.must_change_password:
        raise Forbidden("Change your password before continuing", code="password_change_required")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
CurrentUserAllowingPasswordChange = Annotated[Principal, Depends(principal_allowing_password_change)]


async def _admin(principal: CurrentUser) -> Principal:
    if principal.role != Role.admin:
        raise Forbidden("Administrators only", code="role_forbidden")
    return principal


async def _manager(principal: CurrentUser) -> Principal:
    if principal.role not in (Role.admin, Role.unit_admin):
        raise Forbidden("Administrators and unit administrators only", code="role_forbidden")
    return principal


async def _staff(principal: CurrentUser) -> Principal:
    if principal.role == Role.officer:
        raise Forbidden("Not for officers", code="role_forbidden")
    return principal


AdminUser = Annotated[Principal, Depends(_admin)]
ManagerUser = Annotated[Principal, Depends(_manager)]
StaffUser = Annotated[Principal, Depends(_staff)]
