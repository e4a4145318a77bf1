"""Password hashing (Argon2 via pwdlib) and JWT access tokens (HS256, algorithm always explicit)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import Settings

ALGORITHM = "HS256"

password_hash = PasswordHash((Argon2Hasher(),))
# Checked against when the account does not exist, so a wrong username costs as long as a wrong
# password and response times do not reveal which accounts exist.
_DUMMY_HASH = password_hash.hash("dummy-password-for-timing")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


# Initial passwords are random (about 69 bits) and must be changed at first login, so guessing
# them offline is hopeless at any Argon2 cost; a light cost lets a roster of thousands of new
# officers commit in seconds instead of minutes. Chosen passwords always get the full cost.
_initial_password_hash = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1),))


def hash_initial_password(password: str) -> str:
    return _initial_password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        password_hash.verify(password, _DUMMY_HASH)
        return False
    try:
        return password_hash.verify(password, hashed)
    except Exception:  # a malformed stored hash is a failed login, never a 500
        return False


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    role: str
    issued_at: datetime
    expires_at: datetime


def create_access_token(
    settings: Settings, *, user_id: int, session_id: str, role: str, now: datetime
) -> tuple[str, int]:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "sid": session_id,
        "role": role,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM])
    except JWTError:
        return None
    try:
        if claims.get("typ") != "access":
            return None
        return AccessClaims(
            user_id=int(claims["sub"]),
            session_id=str(claims["sid"]),
            role=str(claims["role"]),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), tz=UTC),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
        )
    except (KeyError, TypeError, ValueError):
        return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Refresh tokens are stored only as this digest: a database leak gives no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_id() -> str:
    return secrets.token_hex(16)
