"""Admin API for units and users: happy paths checked against stored rows, every refusal checked
to leave the rows as they were."""

from typing import Any, TypeVar

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from app.auth.models import AuthSession
from app.core.security import verify_password
from app.db.base import Base
from app.units.models import Role, Unit, User
from app.units.service import create_user
from tests.factories import World, login, password_hash

API = "/api/v1"
M = TypeVar("M", bound=Base)


async def stored(app: FastAPI, model: type[M], row_id: int) -> M:
    """The row as committed, read in a fresh session."""
    async with app.state.database.sessionmaker() as session:
        row: M | None = await session.get(model, row_id)
        assert row is not None, f"{model.__name__} {row_id} is gone"
        return row


async def count(app: FastAPI, model: type[Base]) -> int:
    async with app.state.database.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def units_snapshot(app: FastAPI) -> list[tuple[int, int | None, str, int, str, str]]:
    async with app.state.database.sessionmaker() as session:
        rows = await session.execute(
            select(Unit.id, Unit.parent_id, Unit.path, Unit.depth, Unit.name, Unit.code).order_by(Unit.id)
        )
        return [tuple(r) for r in rows]


async def users_snapshot(app: FastAPI) -> list[tuple[Any, ...]]:
    async with app.state.database.sessionmaker() as session:
        rows = await session.execute(
            select(
                User.id,
                User.username,
                User.police_number,
                User.name,
                User.phone,
                User.role,
                User.unit_id,
                User.is_active,
                User.password_hash,
                User.must_change_password,
            ).order_by(User.id)
        )
        return [tuple(r) for r in rows]


async def add_user(
    app: FastAPI, username: str, role: Role, unit: Unit, police_number: str | None = None
) -> int:
    async with app.state.database.sessionmaker() as session:
        user = await create_user(
            session,
            username=username,
            name=username,
            role=role,
            unit=unit,
            password_hash=password_hash(),
            police_number=police_number,
        )
        await session.commit()
        return user.id


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


# ---------------------------------------------------------------- units


async def test_list_units_in_tree_order_with_officer_counts(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    listed = await client.get(f"{API}/units", headers=admin)
    assert listed.status_code == 200, listed.text
    units = listed.json()
    assert [u["code"] for u in units] == ["C", "C-A", "C-A-COURT", "C-B"]
    by_code = {u["code"]: u for u in units}
    court = by_code["C-A-COURT"]
    assert court == {
        "id": world.court.id,
        "parent_id": world.county.id,
        "code": "C-A-COURT",
        "name": "甲县人民法院",
        "kind": "department",
        "depth": 2,
        "path": f"/{world.city.id}/{world.county.id}/{world.court.id}/",
        "sort_order": 0,
        "officer_count": 2,
        "subtree_officer_count": 2,
    }
    assert (by_code["C-A"]["officer_count"], by_code["C-A"]["subtree_officer_count"]) == (1, 3)
    assert (by_code["C"]["officer_count"], by_code["C"]["subtree_officer_count"]) == (0, 4)
    assert (by_code["C-B"]["officer_count"], by_code["C-B"]["subtree_officer_count"]) == (1, 1)

    # Only active officers count.
    deactivated = await client.patch(
        f"{API}/users/{world.users['officer2']}", json={"is_active": False}, headers=admin
    )
    assert deactivated.status_code == 200, deactivated.text
    court_now = (await client.get(f"{API}/units/{world.court.id}", headers=admin)).json()
    assert (court_now["officer_count"], court_now["subtree_officer_count"]) == (1, 1)

    children = await client.get(f"{API}/units", params={"parent_id": world.city.id}, headers=admin)
    assert [u["code"] for u in children.json()] == ["C-A", "C-B"]

    unitadmin = await login(client, "unitadmin")
    own = await client.get(f"{API}/units", headers=unitadmin)
    assert [u["code"] for u in own.json()] == ["C-A", "C-A-COURT"]
    outside_parent = await client.get(
        f"{API}/units", params={"parent_id": world.other_county.id}, headers=unitadmin
    )
    assert_error(outside_parent, 404, "unit_not_found")


async def test_inspector_sees_only_own_subtree(app: FastAPI, client: AsyncClient, world: World) -> None:
    await add_user(app, "inspector-b", Role.inspector, world.other_county)
    inspector = await login(client, "inspector-b")
    units = await client.get(f"{API}/units", headers=inspector)
    assert [u["code"] for u in units.json()] == ["C-B"]
    users = (await client.get(f"{API}/users", headers=inspector)).json()
    assert sorted(u["username"] for u in users["items"]) == ["inspector-b", "otheradmin", "outsider"]
    assert users["total"] == 3
    assert_error(await client.get(f"{API}/units/{world.county.id}", headers=inspector), 404, "unit_not_found")
    assert_error(
        await client.get(f"{API}/users/{world.users['officer1']}", headers=inspector), 404, "user_not_found"
    )


async def test_get_unit_and_missing_unit(client: AsyncClient, world: World) -> None:
    unitadmin = await login(client, "unitadmin")
    got = await client.get(f"{API}/units/{world.county.id}", headers=unitadmin)
    assert got.status_code == 200, got.text
    assert got.json()["name"] == "甲县"
    assert got.json()["subtree_officer_count"] == 3
    assert_error(await client.get(f"{API}/units/999999", headers=unitadmin), 404, "unit_not_found")
    # Outside the subtree answers exactly like a missing unit.
    assert_error(
        await client.get(f"{API}/units/{world.other_county.id}", headers=unitadmin), 404, "unit_not_found"
    )


async def test_create_unit(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    created = await client.post(
        f"{API}/units",
        json={
            "code": "C-A-PROC",
            "name": "甲县人民检察院",
            "kind": "department",
            "parent_id": world.county.id,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    row = await stored(app, Unit, body["id"])
    assert (row.code, row.name, row.kind, row.parent_id, row.depth) == (
        "C-A-PROC",
        "甲县人民检察院",
        "department",
        world.county.id,
        2,
    )
    assert row.path == f"{world.county.path}{row.id}/"
    assert body["path"] == row.path
    assert body["officer_count"] == 0

    unitadmin = await login(client, "unitadmin")
    team = await client.post(
        f"{API}/units",
        json={"code": "C-A-COURT-1", "name": "刑庭", "parent_id": world.court.id},
        headers=unitadmin,
    )
    assert team.status_code == 201, team.text
    team_row = await stored(app, Unit, team.json()["id"])
    assert (team_row.kind, team_row.depth, team_row.path) == ("other", 3, f"{world.court.path}{team_row.id}/")

    top = await client.post(
        f"{API}/units", json={"code": "P", "name": "另一市", "kind": "city"}, headers=admin
    )
    assert top.status_code == 201, top.text
    top_row = await stored(app, Unit, top.json()["id"])
    assert (top_row.parent_id, top_row.depth, top_row.path) == (None, 0, f"/{top_row.id}/")


async def test_create_unit_refusals_change_nothing(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    unitadmin = await login(client, "unitadmin")
    before = await units_snapshot(app)
    cases: list[tuple[dict[str, str], dict[str, Any], int, str]] = [
        (admin, {"code": "C-A", "name": "重复", "parent_id": world.city.id}, 409, "unit_code_taken"),
        (admin, {"code": "X1", "name": "无上级", "parent_id": 999999}, 422, "unit_not_found"),
        (unitadmin, {"code": "X2", "name": "顶级"}, 403, "role_forbidden"),
        (
            unitadmin,
            {"code": "X3", "name": "乙县下", "parent_id": world.other_county.id},
            422,
            "unit_not_found",
        ),
        (unitadmin, {"code": "X4", "name": "市下", "parent_id": world.city.id}, 422, "unit_not_found"),
        (admin, {"code": "X5", "name": "  ", "parent_id": world.city.id}, 422, "validation_error"),
        (admin, {"code": "", "name": "空代码", "parent_id": world.city.id}, 422, "validation_error"),
        (
            admin,
            {"code": "X6", "name": "坏类型", "kind": "planet", "parent_id": world.city.id},
            422,
            "validation_error",
        ),
    ]
    for headers, body, status, code in cases:
        assert_error(await client.post(f"{API}/units", json=body, headers=headers), status, code)
    assert await units_snapshot(app) == before


async def test_update_unit_fields(app: FastAPI, client: AsyncClient, world: World) -> None:
    unitadmin = await login(client, "unitadmin")
    updated = await client.patch(
        f"{API}/units/{world.court.id}",
        json={"name": "甲县法院", "kind": "other", "sort_order": 7},
        headers=unitadmin,
    )
    assert updated.status_code == 200, updated.text
    row = await stored(app, Unit, world.court.id)
    assert (row.name, row.kind, row.sort_order, row.path) == ("甲县法院", "other", 7, world.court.path)
    assert updated.json()["name"] == "甲县法院"
    # Same parent again is not a move, so a unit administrator may send it.
    same = await client.patch(
        f"{API}/units/{world.court.id}", json={"parent_id": world.county.id}, headers=unitadmin
    )
    assert same.status_code == 200, same.text
    assert_error(
        await client.patch(f"{API}/units/999999", json={"name": "x"}, headers=unitadmin),
        404,
        "unit_not_found",
    )
    before = await units_snapshot(app)
    assert_error(
        await client.patch(f"{API}/units/{world.court.id}", json={"kind": "galaxy"}, headers=unitadmin),
        422,
        "validation_error",
    )
    assert await units_snapshot(app) == before


async def test_move_unit_updates_whole_subtree(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")

    async def make(code: str, parent_id: int) -> int:
        made = await client.post(
            f"{API}/units", json={"code": code, "name": code, "parent_id": parent_id}, headers=admin
        )
        assert made.status_code == 201, made.text
        unit_id: int = made.json()["id"]
        return unit_id

    d1 = await make("D1", world.county.id)
    d2 = await make("D2", d1)
    d3 = await make("D3", d2)
    await add_user(app, "deep-officer", Role.officer, await stored(app, Unit, d3), "P-DEEP")

    moved = await client.patch(f"{API}/units/{d1}", json={"parent_id": world.other_county.id}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert moved.json()["path"] == f"{world.other_county.path}{d1}/"
    assert moved.json()["subtree_officer_count"] == 1
    row1, row2, row3 = [await stored(app, Unit, i) for i in (d1, d2, d3)]
    assert (row1.parent_id, row1.path, row1.depth) == (
        world.other_county.id,
        f"{world.other_county.path}{d1}/",
        2,
    )
    assert (row2.parent_id, row2.path, row2.depth) == (d1, f"{world.other_county.path}{d1}/{d2}/", 3)
    assert (row3.parent_id, row3.path, row3.depth) == (d2, f"{world.other_county.path}{d1}/{d2}/{d3}/", 4)
    # Units outside the moved subtree are untouched.
    for unit in (world.city, world.county, world.court, world.other_county):
        row = await stored(app, Unit, unit.id)
        assert (row.path, row.depth) == (unit.path, unit.depth)
    # Scoping follows the move at once.
    otheradmin = await login(client, "otheradmin")
    unitadmin = await login(client, "unitadmin")
    assert [u["code"] for u in (await client.get(f"{API}/units", headers=otheradmin)).json()] == [
        "C-B",
        "D1",
        "D2",
        "D3",
    ]
    assert [u["code"] for u in (await client.get(f"{API}/units", headers=unitadmin)).json()] == [
        "C-A",
        "C-A-COURT",
    ]
    county_counts = (await client.get(f"{API}/units/{world.other_county.id}", headers=admin)).json()
    assert county_counts["subtree_officer_count"] == 2

    to_top = await client.patch(f"{API}/units/{d2}", json={"parent_id": None}, headers=admin)
    assert to_top.status_code == 200, to_top.text
    row2, row3 = await stored(app, Unit, d2), await stored(app, Unit, d3)
    assert (row2.parent_id, row2.path, row2.depth) == (None, f"/{d2}/", 0)
    assert (row3.path, row3.depth) == (f"/{d2}/{d3}/", 1)


async def test_move_unit_refusals_change_nothing(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    unitadmin = await login(client, "unitadmin")
    before = await units_snapshot(app)
    cases: list[tuple[dict[str, str], int, dict[str, Any], int, str]] = [
        (admin, world.county.id, {"parent_id": world.court.id}, 409, "unit_cycle"),
        (admin, world.county.id, {"parent_id": world.county.id}, 409, "unit_cycle"),
        (admin, world.city.id, {"parent_id": world.court.id, "name": "不该改"}, 409, "unit_cycle"),
        (admin, world.court.id, {"parent_id": 999999}, 422, "unit_not_found"),
        (unitadmin, world.court.id, {"parent_id": world.other_county.id}, 403, "role_forbidden"),
        (
            unitadmin,
            world.court.id,
            {"parent_id": world.county.id, "name": "x", "sort_order": "z"},
            422,
            "validation_error",
        ),
    ]
    for headers, unit_id, body, status, code in cases:
        assert_error(await client.patch(f"{API}/units/{unit_id}", json=body, headers=headers), status, code)
    assert await units_snapshot(app) == before


# ---------------------------------------------------------------- users: listing


async def test_list_users_scoped_filtered_and_paginated(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")

    async def usernames(headers: dict[str, str], **params: Any) -> tuple[list[str], int]:
        response = await client.get(f"{API}/users", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        return [u["username"] for u in page["items"]], page["total"]

    everyone, total = await usernames(admin)
    assert total == 8 and sorted(everyone) == sorted(world.users)
    first = (await client.get(f"{API}/users", params={"q": "张三"}, headers=admin)).json()["items"][0]
    assert first == {
        "id": world.users["officer1"],
        "username": "officer1",
        "police_number": "officer1",
        "name": "张三",
        "phone": None,
        "role": "officer",
        "unit_id": world.court.id,
        "unit_name": "甲县人民法院",
        "is_active": True,
        "must_change_password": False,
        "created_at": first["created_at"],
        "deactivated_at": None,
    }
    assert "password_hash" not in first

    names, total = await usernames(admin, unit_id=world.county.id)
    assert sorted(names) == ["officer1", "officer2", "officer3", "unitadmin"] and total == 4
    names, _ = await usernames(admin, unit_id=world.court.id)
    assert sorted(names) == ["officer1", "officer2"]
    names, total = await usernames(admin, role="officer")
    assert sorted(names) == ["officer1", "officer2", "officer3", "outsider"] and total == 4
    names, _ = await usernames(admin, q="ADMIN")
    assert sorted(names) == ["admin", "otheradmin", "unitadmin"]
    names, _ = await usernames(admin, q="officer3")
    assert names == ["officer3"]
    names, total = await usernames(admin, q="%")
    assert (names, total) == ([], 0)

    patched = await client.patch(
        f"{API}/users/{world.users['officer2']}", json={"is_active": False}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    names, _ = await usernames(admin, active=False)
    assert names == ["officer2"]
    names, total = await usernames(admin, active=True)
    assert "officer2" not in names and total == 7

    pages = [await usernames(admin, limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [len(p[0]) for p in pages] == [3, 3, 2] and all(p[1] == 8 for p in pages)
    assert sorted(n for p in pages for n in p[0]) == sorted(world.users)
    assert (await usernames(admin, limit=3, offset=50)) == ([], 8)
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"role": "king"}, {"active": "maybe"}):
        assert_error(await client.get(f"{API}/users", params=bad, headers=admin), 422, "validation_error")
    assert (await client.get(f"{API}/users", params={"limit": 500}, headers=admin)).status_code == 200

    unitadmin = await login(client, "unitadmin")
    names, total = await usernames(unitadmin)
    assert sorted(names) == ["officer1", "officer2", "officer3", "unitadmin"] and total == 4
    names, _ = await usernames(unitadmin, q="赵六")
    assert names == []
    assert_error(
        await client.get(f"{API}/users", params={"unit_id": world.other_county.id}, headers=unitadmin),
        404,
        "unit_not_found",
    )


# ---------------------------------------------------------------- users: creating


async def test_unit_admin_creates_officer_with_generated_password(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    unitadmin = await login(client, "unitadmin")
    created = await client.post(
        f"{API}/users",
        json={
            "police_number": "100001",
            "name": "新干警",
            "phone": "13800000000",
            "role": "officer",
            "unit_id": world.court.id,
        },
        headers=unitadmin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    initial = body["initial_password"]
    assert isinstance(initial, str) and len(initial) >= 10
    assert (body["username"], body["police_number"], body["must_change_password"]) == (
        "100001",
        "100001",
        True,
    )
    row = await stored(app, User, body["id"])
    assert (row.username, row.police_number, row.name, row.phone, row.role, row.unit_id) == (
        "100001",
        "100001",
        "新干警",
        "13800000000",
        "officer",
        world.court.id,
    )
    assert row.is_active and row.must_change_password and row.deactivated_at is None
    assert initial not in row.password_hash and verify_password(initial, row.password_hash)
    # Shown once: reading the user back never shows a password.
    again = await client.get(f"{API}/users/{row.id}", headers=unitadmin)
    assert "initial_password" not in again.json() and "password_hash" not in again.json()
    logged_in = await client.post(f"{API}/auth/login", json={"username": "100001", "password": initial})
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["user"]["must_change_password"] is True


async def test_admin_creates_staff_with_given_password(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    admin = await login(client, "admin")
    created = await client.post(
        f"{API}/users",
        json={
            "username": "inspector2",
            "name": "第二验收组",
            "role": "inspector",
            "unit_id": world.county.id,
            "password": "Lotus-river-93",
            "must_change_password": False,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["initial_password"] is None
    row = await stored(app, User, created.json()["id"])
    assert (row.role, row.police_number, row.must_change_password) == ("inspector", None, False)
    assert verify_password("Lotus-river-93", row.password_hash)
    await login(client, "inspector2", "Lotus-river-93")

    # An officer may have a username other than the police number; a given password is by default
    # one to change at first login.
    officer = await client.post(
        f"{API}/users",
        json={
            "username": "zhang.wei",
            "police_number": "100002",
            "name": "张伟",
            "role": "officer",
            "unit_id": world.other_county.id,
            "password": "Lotus-river-94",
        },
        headers=admin,
    )
    assert officer.status_code == 201, officer.text
    officer_row = await stored(app, User, officer.json()["id"])
    assert (officer_row.username, officer_row.police_number, officer_row.must_change_password) == (
        "zhang.wei",
        "100002",
        True,
    )


async def test_create_user_refusals_change_nothing(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    unitadmin = await login(client, "unitadmin")
    before = await users_snapshot(app)
    officer = {"name": "某人", "role": "officer", "unit_id": world.court.id}
    cases: list[tuple[dict[str, str], dict[str, Any], int, str]] = [
        (admin, {**officer, "police_number": "officer1"}, 409, "police_number_taken"),
        (admin, {**officer, "police_number": "admin"}, 409, "username_taken"),
        (admin, {**officer, "police_number": "200001", "username": "officer2"}, 409, "username_taken"),
        (admin, {**officer, "police_number": "200001", "password": "short"}, 422, "password_too_short"),
        (
            admin,
            {**officer, "police_number": "200001", "password": "200001-abcd"},
            422,
            "password_contains_username",
        ),
        (admin, {**officer, "police_number": "200001", "password": "aaaaaaaaab"}, 422, "password_too_simple"),
        (admin, {**officer, "username": "no-number"}, 422, "police_number_required"),
        (admin, {**officer, "role": "inspector"}, 422, "username_required"),
        (admin, {**officer, "police_number": "200001", "unit_id": 999999}, 422, "unit_not_found"),
        (admin, {**officer, "police_number": "200001", "role": "king"}, 422, "validation_error"),
        (admin, {**officer, "police_number": "200001", "name": " "}, 422, "validation_error"),
        (admin, {**officer, "police_number": "200001", "phone": "call me"}, 422, "validation_error"),
        (unitadmin, {**officer, "role": "inspector", "username": "x-insp"}, 403, "role_forbidden"),
        (unitadmin, {**officer, "role": "unit_admin", "username": "x-ua"}, 403, "role_forbidden"),
        (unitadmin, {**officer, "role": "admin", "username": "x-admin"}, 403, "role_forbidden"),
        (
            unitadmin,
            {**officer, "police_number": "200001", "unit_id": world.other_county.id},
            422,
            "unit_not_found",
        ),
        (unitadmin, {**officer, "police_number": "200001", "unit_id": world.city.id}, 422, "unit_not_found"),
    ]
    for headers, body, status, code in cases:
        assert_error(await client.post(f"{API}/users", json=body, headers=headers), status, code)
    assert await users_snapshot(app) == before


# ---------------------------------------------------------------- users: changing


async def test_update_user_fields(app: FastAPI, client: AsyncClient, world: World) -> None:
    unitadmin = await login(client, "unitadmin")
    officer1 = world.users["officer1"]
    updated = await client.patch(
        f"{API}/users/{officer1}",
        json={"name": "张三丰", "phone": "0571-1234567", "unit_id": world.county.id},
        headers=unitadmin,
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["unit_id"], updated.json()["unit_name"]) == (world.county.id, "甲县")
    row = await stored(app, User, officer1)
    assert (row.name, row.phone, row.unit_id, row.role) == (
        "张三丰",
        "0571-1234567",
        world.county.id,
        "officer",
    )
    cleared = await client.patch(f"{API}/users/{officer1}", json={"phone": None}, headers=unitadmin)
    assert cleared.status_code == 200, cleared.text
    assert (await stored(app, User, officer1)).phone is None
    # Null elsewhere leaves the field alone.
    kept = await client.patch(
        f"{API}/users/{officer1}", json={"name": None, "unit_id": None}, headers=unitadmin
    )
    assert kept.status_code == 200, kept.text
    assert ((await stored(app, User, officer1)).name, (await stored(app, User, officer1)).unit_id) == (
        "张三丰",
        world.county.id,
    )

    admin = await login(client, "admin")
    promoted = await client.patch(
        f"{API}/users/{world.users['officer3']}",
        json={"role": "unit_admin", "unit_id": world.other_county.id},
        headers=admin,
    )
    assert promoted.status_code == 200, promoted.text
    row = await stored(app, User, world.users["officer3"])
    assert (row.role, row.unit_id) == ("unit_admin", world.other_county.id)
    # A unit administrator may edit their own record (not their role).
    own = await client.patch(
        f"{API}/users/{world.users['unitadmin']}", json={"name": "甲县管理员二"}, headers=unitadmin
    )
    assert own.status_code == 200, own.text
    assert (await stored(app, User, world.users["unitadmin"])).name == "甲县管理员二"


async def test_deactivate_and_reactivate(app: FastAPI, client: AsyncClient, world: World) -> None:
    officer = await login(client, "officer2")
    assert (await client.get(f"{API}/me", headers=officer)).status_code == 200
    unitadmin = await login(client, "unitadmin")
    officer2 = world.users["officer2"]
    off = await client.patch(f"{API}/users/{officer2}", json={"is_active": False}, headers=unitadmin)
    assert off.status_code == 200, off.text
    assert off.json()["is_active"] is False and off.json()["deactivated_at"] is not None
    row = await stored(app, User, officer2)
    assert not row.is_active and row.deactivated_at is not None
    async with app.state.database.sessionmaker() as session:
        sessions = (
            (await session.execute(select(AuthSession).where(AuthSession.user_id == officer2)))
            .scalars()
            .all()
        )
    assert sessions and all(s.revoked_at is not None and s.revoked_reason == "deactivated" for s in sessions)
    assert (await client.get(f"{API}/me", headers=officer)).status_code == 401
    refused = await client.post(
        f"{API}/auth/login", json={"username": "officer2", "password": "demo-pass-2021"}
    )
    assert_error(refused, 403, "account_disabled")
    # Never deleted: there is no DELETE route (the /api catch-all answers 404), and the row stays.
    assert (await client.delete(f"{API}/users/{officer2}", headers=unitadmin)).status_code in (404, 405)
    assert await count(app, User) == 8

    on = await client.patch(f"{API}/users/{officer2}", json={"is_active": True}, headers=unitadmin)
    assert on.status_code == 200, on.text
    row = await stored(app, User, officer2)
    assert row.is_active and row.deactivated_at is None
    await login(client, "officer2")


async def test_reset_password(app: FastAPI, client: AsyncClient, world: World) -> None:
    officer = await login(client, "officer1")
    unitadmin = await login(client, "unitadmin")
    officer1 = world.users["officer1"]
    reset = await client.post(f"{API}/users/{officer1}/reset-password", headers=unitadmin)
    assert reset.status_code == 200, reset.text
    body = reset.json()
    assert (body["id"], body["username"], body["must_change_password"]) == (officer1, "officer1", True)
    row = await stored(app, User, officer1)
    assert row.must_change_password and verify_password(body["initial_password"], row.password_hash)
    assert not verify_password("demo-pass-2021", row.password_hash)
    assert_error(await client.get(f"{API}/me", headers=officer), 401, "session_revoked")
    old = await client.post(f"{API}/auth/login", json={"username": "officer1", "password": "demo-pass-2021"})
    assert_error(old, 401, "invalid_credentials")
    await login(client, "officer1", body["initial_password"])
    second = await client.post(f"{API}/users/{officer1}/reset-password", headers=unitadmin)
    assert second.json()["initial_password"] != body["initial_password"]
    assert_error(
        await client.post(f"{API}/users/999999/reset-password", headers=unitadmin), 404, "user_not_found"
    )


async def test_nobody_changes_own_role_or_deactivates_self(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    admin = await login(client, "admin")
    unitadmin = await login(client, "unitadmin")
    before = await users_snapshot(app)
    cases: list[tuple[dict[str, str], str, str, dict[str, Any] | None]] = [
        (admin, "admin", "patch", {"role": "inspector"}),
        (admin, "admin", "patch", {"is_active": False}),
        (admin, "admin", "patch", {"is_active": False, "name": "不该改"}),
        (admin, "admin", "reset", None),
        (unitadmin, "unitadmin", "patch", {"is_active": False}),
        (unitadmin, "unitadmin", "patch", {"role": "admin"}),
        (unitadmin, "unitadmin", "reset", None),
    ]
    for headers, username, action, body in cases:
        url = f"{API}/users/{world.users[username]}"
        if action == "patch":
            response = await client.patch(url, json=body, headers=headers)
        else:
            response = await client.post(f"{url}/reset-password", headers=headers)
        assert_error(response, 409, "cannot_modify_self")
    assert await users_snapshot(app) == before
    # Sending one's own current role is no change, so it is fine.
    same = await client.patch(f"{API}/users/{world.users['admin']}", json={"role": "admin"}, headers=admin)
    assert same.status_code == 200, same.text


async def test_unit_admin_may_not_touch_staff(app: FastAPI, client: AsyncClient, world: World) -> None:
    staff = {
        "inspector-a": await add_user(app, "inspector-a", Role.inspector, world.county),
        "unitadmin-court": await add_user(app, "unitadmin-court", Role.unit_admin, world.court),
        "admin-a": await add_user(app, "admin-a", Role.admin, world.county),
    }
    unitadmin = await login(client, "unitadmin")
    admin = await login(client, "admin")
    before = await users_snapshot(app)
    for user_id in staff.values():
        for body in ({"name": "改名"}, {"is_active": False}, {"phone": "110"}):
            assert_error(
                await client.patch(f"{API}/users/{user_id}", json=body, headers=unitadmin),
                403,
                "role_forbidden",
            )
        assert_error(
            await client.post(f"{API}/users/{user_id}/reset-password", headers=unitadmin),
            403,
            "role_forbidden",
        )
    officer1 = world.users["officer1"]
    assert_error(
        await client.patch(f"{API}/users/{officer1}", json={"role": "inspector"}, headers=unitadmin),
        403,
        "role_forbidden",
    )
    assert_error(
        await client.patch(
            f"{API}/users/{officer1}", json={"unit_id": world.other_county.id}, headers=unitadmin
        ),
        422,
        "unit_not_found",
    )
    assert_error(
        await client.patch(f"{API}/users/999999", json={"name": "x"}, headers=unitadmin),
        404,
        "user_not_found",
    )
    assert_error(
        await client.patch(f"{API}/users/{world.users['outsider']}", json={"name": "x"}, headers=unitadmin),
        404,
        "user_not_found",
    )
    assert_error(
        await client.patch(f"{API}/users/{staff['inspector-a']}", json={"role": "officer"}, headers=admin),
        422,
        "police_number_required",
    )
    assert await users_snapshot(app) == before
    # The administrator may.
    done = await client.patch(
        f"{API}/users/{staff['unitadmin-court']}", json={"is_active": False}, headers=admin
    )
    assert done.status_code == 200, done.text
    assert not (await stored(app, User, staff["unitadmin-court"])).is_active
