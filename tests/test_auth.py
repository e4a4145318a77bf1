"""Login, throttling, token rotation and revocation, password changes (app/auth, app/core/deps.py)."""

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from jose import jwt
from sqlalchemy import update

from app.auth.models import AuthSession, RefreshToken
from app.core.security import create_access_token
from app.main import create_app
from app.units.models import User
from tests.conftest import TEST_SECRET, _empty_tables, make_settings
from tests.factories import PASSWORD, World, login
from tests.test_attempts import build_fast_world

API = "/api/v1"
USER_KEYS = {
    "id",
    "username",
    "police_number",
    "name",
    "role",
    "unit_id",
    "unit_name",
    "must_change_password",
    "language",
}


async def post_login(client: AsyncClient, username: str, password: str) -> Response:
    return await client.post(f"{API}/auth/login", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def set_user(app: FastAPI, user_id: int, **values: Any) -> None:
    async with app.state.database.sessionmaker() as session:
        await session.execute(update(User).where(User.id == user_id).values(**values))
        await session.commit()


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
async def world(app: FastAPI) -> World:
    return await build_fast_world(app)


# ---------------------------------------------------------------- login


async def test_login_and_me(client: AsyncClient, world: World) -> None:
    response = await post_login(client, "officer1", PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_token"] != body["access_token"]
    claims = jwt.get_unverified_claims(body["access_token"])
    assert claims["sub"] == str(world.users["officer1"]) and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 15 * 60

    me = await client.get(f"{API}/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert set(me.json()) == USER_KEYS
    assert me.json() == body["user"]
    assert me.json() == {
        "id": world.users["officer1"],
        "username": "officer1",
        "police_number": "officer1",
        "name": "张三",
        "role": "officer",
        "unit_id": world.court.id,
        "unit_name": "甲县人民法院",
        "must_change_password": False,
        "language": "zh-CN",
    }
    # Surrounding white space in the username is forgiven (typed on a phone).
    assert (await post_login(client, " officer1 ", PASSWORD)).status_code == 200


async def test_oauth2_token_endpoint(client: AsyncClient, world: World) -> None:
    response = await client.post(f"{API}/auth/token", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert response.json()["token_type"] == "bearer"
    assert (await client.get(f"{API}/me", headers=bearer(token))).json()["username"] == "admin"


async def test_bad_credentials_look_the_same(client: AsyncClient, world: World) -> None:
    wrong = await post_login(client, "officer1", "not-the-password")
    unknown = await post_login(client, "nobody", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "invalid_credentials"
        assert response.headers["www-authenticate"] == "Bearer"
    assert wrong.json() == unknown.json()
    empty = await client.post(f"{API}/auth/login", json={"username": "", "password": ""})
    assert empty.status_code == 422 and empty.json()["code"] == "validation_error"


async def test_no_or_bad_token(client: AsyncClient, world: World) -> None:
    missing = await client.get(f"{API}/me")
    assert missing.status_code == 401 and missing.json()["code"] == "not_authenticated"
    for token in ("garbage", "a.b.c", ""):
        response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["code"] in ("invalid_token", "not_authenticated")


# ---------------------------------------------------------------- throttling


async def test_throttle_per_account_and_address(app: FastAPI, client: AsyncClient, world: World) -> None:
    limit = app.state.settings.login_max_failures_per_account_address
    assert limit == 5
    for _ in range(limit):
        failed = await post_login(client, "officer1", "wrong-password")
        assert failed.status_code == 401 and failed.json()["code"] == "invalid_credentials"
    locked = await post_login(client, "officer1", "wrong-password")
    assert locked.status_code == 429, locked.text
    assert locked.json()["code"] == "too_many_login_attempts"
    retry_after = int(locked.headers["retry-after"])
    assert 0 < retry_after <= app.state.settings.login_window_seconds
    # Even the right password is refused from this address while the lock lasts.
    right = await post_login(client, "officer1", PASSWORD)
    assert right.status_code == 429 and right.json()["code"] == "too_many_login_attempts"
    # The same address may still log in to other accounts (the per-address limit is far higher).
    assert (await post_login(client, "officer2", PASSWORD)).status_code == 200
    # The owner elsewhere is never locked out by failures from this address.
    elsewhere_transport = ASGITransport(app=app, client=("10.0.0.9", 1234))
    async with AsyncClient(transport=elsewhere_transport, base_url="http://test") as elsewhere:
        ok = await post_login(elsewhere, "officer1", PASSWORD)
        assert ok.status_code == 200, ok.text
    # The account name is compared case-insensitively for the lock, so case games do not dodge it.
    dodged = await post_login(client, "OFFICER1", "wrong-password")
    assert dodged.status_code == 429


async def test_success_resets_the_account_counter(client: AsyncClient, world: World) -> None:
    for _ in range(4):
        assert (await post_login(client, "officer1", "wrong-password")).status_code == 401
    assert (await post_login(client, "officer1", PASSWORD)).status_code == 200
    for _ in range(4):
        failed = await post_login(client, "officer1", "wrong-password")
        assert failed.status_code == 401, failed.text
    assert (await post_login(client, "officer1", PASSWORD)).status_code == 200


@pytest.fixture
async def strict_app(database_url: str) -> AsyncIterator[FastAPI]:
    await _empty_tables(database_url)
    application = create_app(make_settings(database_url, login_max_failures_per_address=3))
    async with LifespanManager(application):
        await build_fast_world(application)
        yield application


async def test_throttle_per_address_across_usernames(strict_app: FastAPI) -> None:
    async with AsyncClient(transport=ASGITransport(app=strict_app), base_url="http://test") as client:
        for username in ("officer1", "officer2", "nobody"):
            failed = await post_login(client, username, "wrong-password")
            assert failed.status_code == 401, failed.text
        for username in ("officer3", "admin"):  # never failed, right password: the address is locked
            locked = await post_login(client, username, PASSWORD)
            assert locked.status_code == 429, locked.text
            assert locked.json()["code"] == "too_many_login_attempts"
            assert int(locked.headers["retry-after"]) > 0
    other = ASGITransport(app=strict_app, client=("10.0.0.9", 1234))
    async with AsyncClient(transport=other, base_url="http://test") as client:
        assert (await post_login(client, "officer3", PASSWORD)).status_code == 200


# ---------------------------------------------------------------- refresh and logout


async def test_refresh_rotates_and_reuse_ends_the_login(client: AsyncClient, world: World) -> None:
    first = (await post_login(client, "officer1", PASSWORD)).json()
    rotated = await client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["username"] == "officer1"
    assert (await client.get(f"{API}/me", headers=bearer(second["access_token"]))).status_code == 200
    third = (await client.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]})).json()
    assert (await client.get(f"{API}/me", headers=bearer(third["access_token"]))).status_code == 200

    # An old refresh token presented again was copied: the whole login ends.
    reused = await client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["code"] == "refresh_token_reused"
    newest = await client.post(f"{API}/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert newest.status_code == 401 and newest.json()["code"] == "session_revoked"
    for token in (first["access_token"], second["access_token"], third["access_token"]):
        response = await client.get(f"{API}/me", headers=bearer(token))
        assert response.status_code == 401 and response.json()["code"] == "session_revoked"

    # Another login of the same user (another phone) is not affected.
    other = (await post_login(client, "officer1", PASSWORD)).json()
    assert (await client.get(f"{API}/me", headers=bearer(other["access_token"]))).status_code == 200

    unknown = await client.post(f"{API}/auth/refresh", json={"refresh_token": "x" * 43})
    assert unknown.status_code == 401 and unknown.json()["code"] == "invalid_refresh_token"


async def test_refresh_retried_after_a_lost_answer_keeps_the_login(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    """Weak network: the answer to a refresh is lost, so the phone retries with the same token."""
    first = (await post_login(client, "officer1", PASSWORD)).json()
    lost = (await client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    retried = await client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert retried.status_code == 200, retried.text
    pair = retried.json()
    assert (await client.get(f"{API}/me", headers=bearer(pair["access_token"]))).status_code == 200
    # The undelivered replacement is gone; the new one works.
    gone = await client.post(f"{API}/auth/refresh", json={"refresh_token": lost["refresh_token"]})
    assert gone.status_code == 401 and gone.json()["code"] == "invalid_refresh_token"
    newest = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert newest.status_code == 200, newest.text

    # Past the grace period, the same retry is treated as a copied token and ends the login.
    later = (
        await client.post(f"{API}/auth/refresh", json={"refresh_token": newest.json()["refresh_token"]})
    ).json()
    grace = app.state.settings.refresh_reuse_grace_seconds
    async with app.state.database.sessionmaker() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=datetime.now(UTC) - timedelta(seconds=grace + 5))
        )
        await session.commit()
    stale = await client.post(f"{API}/auth/refresh", json={"refresh_token": newest.json()["refresh_token"]})
    assert stale.status_code == 401 and stale.json()["code"] == "refresh_token_reused"
    ended = await client.get(f"{API}/me", headers=bearer(later["access_token"]))
    assert ended.status_code == 401 and ended.json()["code"] == "session_revoked"


async def test_logout_revokes(client: AsyncClient, world: World) -> None:
    pair = (await post_login(client, "officer1", PASSWORD)).json()
    out = await client.post(
        f"{API}/auth/logout",
        json={"refresh_token": pair["refresh_token"]},
        headers=bearer(pair["access_token"]),
    )
    assert out.status_code == 204
    me = await client.get(f"{API}/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "session_revoked"
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401 and refreshed.json()["code"] == "session_revoked"

    # With only the refresh token (the access token already lost), logout still ends the login.
    pair = (await post_login(client, "officer1", PASSWORD)).json()
    assert (
        await client.post(f"{API}/auth/logout", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 204
    me = await client.get(f"{API}/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "session_revoked"


async def test_expired_login_session(app: FastAPI, client: AsyncClient, world: World) -> None:
    pair = (await post_login(client, "officer1", PASSWORD)).json()
    sid = jwt.get_unverified_claims(pair["access_token"])["sid"]
    async with app.state.database.sessionmaker() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == sid)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    me = await client.get(f"{API}/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "session_revoked"
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401 and refreshed.json()["code"] == "session_revoked"


# ---------------------------------------------------------------- access tokens


async def test_expired_and_forged_access_tokens(app: FastAPI, client: AsyncClient, world: World) -> None:
    settings = app.state.settings
    pair = (await post_login(client, "officer1", PASSWORD)).json()
    claims = jwt.get_unverified_claims(pair["access_token"])
    user_id, sid = int(claims["sub"]), claims["sid"]

    fresh, _ = create_access_token(
        settings, user_id=user_id, session_id=sid, role="officer", now=datetime.now(UTC)
    )
    assert (await client.get(f"{API}/me", headers=bearer(fresh))).status_code == 200  # the minting is right

    past = datetime.now(UTC) - timedelta(minutes=settings.access_token_minutes + 1)
    expired, _ = create_access_token(settings, user_id=user_id, session_id=sid, role="officer", now=past)
    other_key = make_settings(settings.database_url, secret_key="another-secret-key-" + "x" * 32)
    forged, _ = create_access_token(
        other_key, user_id=user_id, session_id=sid, role="admin", now=datetime.now(UTC)
    )
    now = int(datetime.now(UTC).timestamp())
    body = {"sub": str(user_id), "sid": sid, "role": "admin", "typ": "access", "iat": now, "exp": now + 600}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(body)}."
    hs512 = jwt.encode(body, TEST_SECRET, algorithm="HS512")
    wrong_type = jwt.encode({**body, "typ": "refresh"}, TEST_SECRET, algorithm="HS256")
    no_sid = jwt.encode({k: v for k, v in body.items() if k != "sid"}, TEST_SECRET, algorithm="HS256")
    # Right key and shape but someone else's session id: the session must belong to the user.
    admin_pair = (await post_login(client, "admin", PASSWORD)).json()
    admin_sid = jwt.get_unverified_claims(admin_pair["access_token"])["sid"]
    stolen_sid = jwt.encode({**body, "sid": admin_sid}, TEST_SECRET, algorithm="HS256")

    for label, token in (
        ("expired", expired),
        ("other key", forged),
        ("alg none", unsigned),
        ("HS512", hs512),
        ("refresh typ", wrong_type),
        ("no sid", no_sid),
        ("foreign session", stolen_sid),
    ):
        response = await client.get(f"{API}/me", headers=bearer(token))
        assert response.status_code == 401, (label, response.text)
        assert response.json()["code"] == "invalid_token", label


async def test_role_comes_from_the_database_not_the_token(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    pair = (await post_login(client, "officer1", PASSWORD)).json()
    claims = jwt.get_unverified_claims(pair["access_token"])
    token, _ = create_access_token(
        app.state.settings,
        user_id=int(claims["sub"]),
        session_id=claims["sid"],
        role="admin",
        now=datetime.now(UTC),
    )
    refused = await client.get(f"{API}/quizzes", headers=bearer(token))
    assert refused.status_code == 403 and refused.json()["code"] == "role_forbidden"


async def test_deactivated_user_is_locked_out(app: FastAPI, client: AsyncClient, world: World) -> None:
    pair = (await post_login(client, "officer1", PASSWORD)).json()
    assert (await client.get(f"{API}/me", headers=bearer(pair["access_token"]))).status_code == 200
    await set_user(app, world.users["officer1"], is_active=False)
    me = await client.get(f"{API}/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "invalid_token"
    quizzes = await client.get(f"{API}/me/quizzes", headers=bearer(pair["access_token"]))
    assert quizzes.status_code == 401
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401 and refreshed.json()["code"] == "session_revoked"
    again = await post_login(client, "officer1", PASSWORD)
    assert again.status_code == 403 and again.json()["code"] == "account_disabled"
    wrong = await post_login(client, "officer1", "wrong-password")
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"


# ---------------------------------------------------------------- passwords


async def test_must_change_password(app: FastAPI, client: AsyncClient, world: World) -> None:
    await set_user(app, world.users["officer1"], must_change_password=True)
    headers = await login(client, "officer1")
    me = await client.get(f"{API}/me", headers=headers)
    assert me.status_code == 200 and me.json()["must_change_password"] is True
    blocked = await client.get(f"{API}/me/quizzes", headers=headers)
    assert blocked.status_code == 403 and blocked.json()["code"] == "password_change_required"
    blocked = await client.post(f"{API}/quizzes/1/attempts", headers=headers)
    assert blocked.status_code == 403 and blocked.json()["code"] == "password_change_required"
    changed = await client.post(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": "Fresh-pass-77"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get(f"{API}/me", headers=headers)).json()["must_change_password"] is False
    assert (await client.get(f"{API}/me/quizzes", headers=headers)).status_code == 200


async def test_password_policy_and_change(client: AsyncClient, world: World) -> None:
    headers = await login(client, "officer1")
    other_pair = (await post_login(client, "officer1", PASSWORD)).json()
    other_device = bearer(other_pair["access_token"])
    url = f"{API}/me/password"
    for current, new, code in (
        ("wrong-current", "Fresh-pass-77", "wrong_current_password"),
        (PASSWORD, PASSWORD, "password_unchanged"),
        (PASSWORD, "my-officer1-pw", "password_contains_username"),
        (PASSWORD, "OFFICER1xyz", "password_contains_username"),
        (PASSWORD, "aaaabbbb", "password_too_simple"),
        (PASSWORD, "short", "password_too_short"),
    ):
        refused = await client.post(
            url, json={"current_password": current, "new_password": new}, headers=headers
        )
        assert refused.status_code == 422, (new, refused.text)
        assert refused.json()["code"] == code, new
    # Nothing changed so far.
    assert (await client.get(f"{API}/me", headers=other_device)).status_code == 200

    ok = await client.post(
        url, json={"current_password": PASSWORD, "new_password": "Fresh-pass-77"}, headers=headers
    )
    assert ok.status_code == 204, ok.text
    assert (await client.get(f"{API}/me", headers=headers)).status_code == 200  # this device stays in
    signed_out = await client.get(f"{API}/me", headers=other_device)
    assert signed_out.status_code == 401 and signed_out.json()["code"] == "session_revoked"
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": other_pair["refresh_token"]})
    assert refreshed.status_code == 401 and refreshed.json()["code"] == "session_revoked"
    assert (await post_login(client, "officer1", PASSWORD)).status_code == 401
    assert (await post_login(client, "officer1", "Fresh-pass-77")).status_code == 200


async def test_profile_language(client: AsyncClient, world: World) -> None:
    headers = await login(client, "officer1")
    updated = await client.patch(f"{API}/me", json={"language": "en"}, headers=headers)
    assert updated.status_code == 200 and updated.json()["language"] == "en"
    bad = await client.patch(f"{API}/me", json={"language": "fr"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
