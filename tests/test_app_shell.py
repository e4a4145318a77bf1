"""The app around the domains: health, JSON 404s under /api, the SPA, settings that refuse to start."""

from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError

from app.core.config import DEMO_SECRET_KEY, Settings
from app.main import create_app
from tests.conftest import make_settings


async def test_unknown_api_paths_answer_json_404(client: AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/nothing-here"),
        ("POST", "/api/v2/x"),
        ("DELETE", "/api/v1/units/x/y/z"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["code"] == "not_found"


async def test_openapi_and_docs(client: AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/attempts/{attempt_id}/items/{item_id}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == (
        "/api/v1/auth/token"
    )
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_swagger_password_flow_issues_a_working_token(client: AsyncClient, world: object) -> None:
    token = await client.post("/api/v1/auth/token", data={"username": "admin", "password": "demo-pass-2021"})
    assert token.status_code == 200, token.text
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["username"] == "admin"


async def test_spa_is_served_with_cache_headers(tmp_path: Path, database_url: str) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>应知</html>", encoding="utf-8")
    (dist / "assets" / "app-1a2b3c.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside")
    app = create_app(make_settings(database_url, frontend_dist=dist))
    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http,
    ):
        index = await http.get("/quiz/12")  # client-side route
        assert index.status_code == 200 and "应知" in index.text
        assert index.headers["cache-control"] == "no-cache"
        asset = await http.get("/assets/app-1a2b3c.js")
        assert asset.headers["cache-control"].endswith("immutable")
        assert asset.headers["content-encoding"] == "gzip" and asset.text == "console.log(1)"
        plain = await http.get("/assets/app-1a2b3c.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.text == "console.log(1)"
        escaped = await http.get("/..%2Fsecret.txt")
        assert "outside" not in escaped.text


async def test_missing_frontend_build_is_a_clear_error(tmp_path: Path, database_url: str) -> None:
    app = create_app(make_settings(database_url, frontend_dist=tmp_path / "none"))
    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.get("/")
        assert response.status_code == 404
        assert response.json()["code"] == "frontend_missing"


def test_production_refuses_the_demo_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=DEMO_SECRET_KEY)
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(secret_key="short")
    assert Settings(environment="production", secret_key="x" * 40).environment == "production"
