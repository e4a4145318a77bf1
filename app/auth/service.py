"""Login, refresh-token rotation, logout and password change."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app.auth.models import AuthSession, RefreshToken
from app.auth.schemas import TokenPair, UserOut
from app.core.config import Settings
from app.core.errors import AppError, Forbidden, Unauthorized, Unprocessable
from app.core.ratelimit import Counter
from app.core.security import (
    create_access_token,
    hash_password,
    new_refresh_token,
    new_session_id,
    token_digest,
    verify_password,
)
from app.db.types import utcnow
from app.units.models import Unit, User


class TooManyAttempts(AppError):
    status_code = 429
    code = "too_many_login_attempts"


def _throttle_keys(username: str, address: str) -> tuple[str, str]:
    # Per (account, address): a stranger elsewhere can never lock the real owner out.
    # Per address: one address spraying many accounts is slowed down.
    return f"login:acct:{username.casefold()}:{address}", f"login:addr:{address}"


async def _check_throttle(counter: Counter, settings: Settings, username: str, address: str) -> None:
    account_key, address_key = _throttle_keys(username, address)
    for key, limit in (
        (account_key, settings.login_max_failures_per_account_address),
        (address_key, settings.login_max_failures_per_address),
    ):
        hits, retry_after = await counter.count(key)
        if hits >= limit:
            raise TooManyAttempts(
                f"Too many failed logins; try again in {retry_after} seconds",
                headers={"Retry-After": str(retry_after)},
            )


def user_out(user: User, unit_name: str) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        police_number=user.police_number,
        name=user.name,
        role=user.role,
        unit_id=user.unit_id,
        unit_name=unit_name,
        must_change_password=user.must_change_password,
        language=user.language,
    )


async def _issue_tokens(
    session: AsyncSession, settings: Settings, user: User, auth_session: AuthSession, now: datetime
) -> TokenPair:
    refresh = new_refresh_token()
    session.add(RefreshToken(session_id=auth_session.id, token_hash=token_digest(refresh), created_at=now))
    access, expires_in = create_access_token(
        settings, user_id=user.id, session_id=auth_session.id, role=user.role, now=now
    )
    unit_name = (await session.execute(select(Unit.name).where(Unit.id == user.unit_id))).scalar_one()
    await session.commit()
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=expires_in, user=user_out(user, unit_name)
    )


async def login(
    session: AsyncSession,
    settings: Settings,
    counter: Counter,
    *,
    username: str,
    password: str,
    address: str,
    user_agent: str | None,
) -> TokenPair:
    username = username.strip()
    await _check_throttle(counter, settings, username, address)
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    # Argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    valid = await run_in_threadpool(verify_password, password, user.password_hash if user else None)
    if not valid or user is None:
        account_key, address_key = _throttle_keys(username, address)
        await counter.hit(account_key, settings.login_window_seconds)
        await counter.hit(address_key, settings.login_window_seconds)
        raise Unauthorized("Wrong police number / username or password", code="invalid_credentials")
    if not user.is_active:
        raise Forbidden("This account is disabled", code="account_disabled")
    await counter.reset(_throttle_keys(username, address)[0])
    now = utcnow()
    auth_session = AuthSession(
        id=new_session_id(),
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_days),
        client_address=address[:64],
        user_agent=(user_agent or "")[:255],
    )
    session.add(auth_session)
    return await _issue_tokens(session, settings, user, auth_session, now)


async def refresh(session: AsyncSession, settings: Settings, token: str) -> TokenPair:
    now = utcnow()
    found = (
        await session.execute(
            select(RefreshToken, AuthSession, User)
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .join(User, User.id == AuthSession.user_id)
            .where(RefreshToken.token_hash == token_digest(token))
        )
    ).one_or_none()
    if found is None:
        raise Unauthorized("Unknown refresh token", code="invalid_refresh_token")
    stored, auth_session, user = found
    if auth_session.revoked_at is not None or auth_session.expires_at <= now or not user.is_active:
        raise Unauthorized("This login has ended; log in again", code="session_revoked")
    # Claim the token atomically: of two concurrent refreshes with one token, one wins.
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        if await _replacement_was_lost(session, settings, stored.id, auth_session.id, now):
            # The answer to that refresh never reached the phone (weak network): its replacement
            # was never used. Drop the undelivered replacement and rotate again.
            await session.execute(
                delete(RefreshToken).where(
                    RefreshToken.session_id == auth_session.id, RefreshToken.used_at.is_(None)
                )
            )
            await session.execute(
                update(RefreshToken).where(RefreshToken.id == stored.id).values(used_at=now)
            )
            return await _issue_tokens(session, settings, user, auth_session, now)
        # Otherwise a used token presented again was copied: end the whole login.
        await revoke_session(session, auth_session.id, "refresh_reused")
        await session.commit()
        raise Unauthorized("Refresh token already used; log in again", code="refresh_token_reused")
    return await _issue_tokens(session, settings, user, auth_session, now)


async def _replacement_was_lost(
    session: AsyncSession, settings: Settings, token_id: int, session_id: str, now: datetime
) -> bool:
    """A spent token may be retried shortly after its rotation while no newer token was used."""
    used_at = (
        await session.execute(select(RefreshToken.used_at).where(RefreshToken.id == token_id))
    ).scalar_one()
    if used_at is None or now - used_at > timedelta(seconds=settings.refresh_reuse_grace_seconds):
        return False
    newer = await session.execute(
        select(RefreshToken.id)
        .where(RefreshToken.session_id == session_id, RefreshToken.used_at > used_at)
        .limit(1)
    )
    return newer.first() is None


async def revoke_session(session: AsyncSession, session_id: str, reason: str) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def logout(session: AsyncSession, *, refresh_token: str | None, session_id: str | None) -> None:
    ids: set[str] = set()
    if session_id:
        ids.add(session_id)
    if refresh_token:
        sid = (
            await session.execute(
                select(RefreshToken.session_id).where(RefreshToken.token_hash == token_digest(refresh_token))
            )
        ).scalar_one_or_none()
        if sid:
            ids.add(sid)
    for sid in ids:
        await revoke_session(session, sid, "logout")
    await session.commit()


async def revoke_all_sessions(
    session: AsyncSession, user_id: int, reason: str, keep: str | None = None
) -> None:
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if keep:
        stmt = stmt.where(AuthSession.id != keep)
    await session.execute(stmt)


def password_problem(username: str, new_password: str) -> str | None:
    if len(new_password) < 8:
        return "password_too_short"
    if new_password.casefold() == username.casefold() or username.casefold() in new_password.casefold():
        return "password_contains_username"
    if len(set(new_password)) < 4:
        return "password_too_simple"
    return None


async def change_password(
    session: AsyncSession, *, user_id: int, session_id: str, current_password: str, new_password: str
) -> None:
    user = (await session.execute(select(User).where(User.id == user_id))).scalar_one()
    if not await run_in_threadpool(verify_password, current_password, user.password_hash):
        raise Unprocessable("The current password is wrong", code="wrong_current_password")
    if current_password == new_password:
        raise Unprocessable("The new password must differ from the current one", code="password_unchanged")
    problem = password_problem(user.username, new_password)
    if problem:
        raise Unprocessable(
            "Use at least 8 characters, not containing your username, with some variety", code=problem
        )
    user.password_hash = await run_in_threadpool(hash_password, new_password)
    user.must_change_password = False
    # Other devices logged in with the old password are signed out.
    await revoke_all_sessions(session, user_id, "password_changed", keep=session_id)
    await session.commit()
