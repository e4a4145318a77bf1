"""Invariant 7 for the admin API: every endpoint, every role, the exact status.

Roles: no token, an officer (甲县人民法院), the inspector (whole city), the unit admin of 甲县, the
unit admin of 乙县 ('otheradmin') and the administrator. Objects outside a caller's subtree
answer 404 like missing ones; roles without the right answer 403; no token answers 401.
Requests run role by role in the order above; requests that succeed and change something aim at
objects of their own (per role, or set up for the case) so no case depends on another's outcome.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient

from app.bank.router import router as bank_router
from app.bank.service import new_question
from app.units.models import Role
from app.units.router import router as units_router
from app.units.service import create_unit, create_user
from tests.factories import World, login, password_hash

API = "/api/v1"
ROLES = ("anon", "officer", "inspector", "unitadmin", "otheradmin", "admin")
LOGINS = {
    "officer": "officer1",
    "inspector": "inspector",
    "unitadmin": "unitadmin",
    "otheradmin": "otheradmin",
}

Ids = dict[str, int]


@dataclass(frozen=True)
class Case:
    route: str  # "METHOD /template" as the router declares it
    url: Callable[[Ids, str], str]
    expect: tuple[int, int, int, int, int, int]  # in ROLES order
    body: Callable[[Ids, str], Any] | None = None
    note: str = ""


def at(template: str) -> Callable[[Ids, str], str]:
    """A URL from a template naming objects in `ids` ({county}, {officer2}, ... and {self})."""
    return lambda ids, role: API + template.format(**ids, self=ids[f"self:{role}"])


def const(value: Any) -> Callable[[Ids, str], Any]:
    return lambda ids, role: value


def single_question(ids: Ids, role: str) -> dict[str, Any]:
    return {
        "bank_id": ids["bank"],
        "knowledge_area_id": ids["area"],
        "type": "single",
        "stem": f"新题 {role}",
        "options": ["甲", "乙"],
        "answer": 0,
    }


DENY_ALL_BUT_ADMIN_WRITE = (401, 403, 403, 403, 403)  # anon .. otheradmin
STAFF_READ = (401, 403, 200, 200, 200, 200)

CASES: list[Case] = [
    # ---- units
    Case("GET /units", at("/units"), STAFF_READ),
    Case(
        "GET /units", at("/units?parent_id={county}"), (401, 403, 200, 200, 404, 200), note="children of 甲县"
    ),
    Case("GET /units/{unit_id}", at("/units/{county}"), (401, 403, 200, 200, 404, 200)),
    Case("GET /units/{unit_id}", at("/units/{other}"), (401, 403, 200, 404, 200, 200)),
    Case(
        "POST /units",
        at("/units"),
        (401, 403, 403, 201, 422, 201),
        lambda ids, role: {"code": f"N-{role}", "name": "新部门", "parent_id": ids["court"]},
        "under 甲县人民法院",
    ),
    Case(
        "POST /units",
        at("/units"),
        (401, 403, 403, 422, 201, 201),
        lambda ids, role: {"code": f"O-{role}", "name": "新部门", "parent_id": ids["other"]},
        "under 乙县",
    ),
    Case(
        "POST /units",
        at("/units"),
        (401, 403, 403, 403, 403, 201),
        lambda ids, role: {"code": f"T-{role}", "name": "新市"},
        "top level",
    ),
    Case(
        "PATCH /units/{unit_id}",
        at("/units/{court}"),
        (401, 403, 403, 200, 404, 200),
        lambda ids, role: {"name": f"法院 {role}"},
    ),
    Case(
        "PATCH /units/{unit_id}",
        at("/units/{other}"),
        (401, 403, 403, 404, 200, 200),
        lambda ids, role: {"sort_order": 3},
    ),
    Case(
        "PATCH /units/{unit_id}",
        at("/units/{movable}"),
        (401, 403, 403, 403, 404, 200),
        lambda ids, role: {"parent_id": ids["court"]},
        "move",
    ),
    # ---- users
    Case("GET /users", at("/users"), STAFF_READ),
    Case("GET /users", at("/users?unit_id={county}"), (401, 403, 200, 200, 404, 200), note="unit filter"),
    Case("GET /users/{user_id}", at("/users/{officer2}"), (401, 403, 200, 200, 404, 200)),
    Case("GET /users/{user_id}", at("/users/{outsider}"), (401, 403, 200, 404, 200, 200)),
    Case(
        "POST /users",
        at("/users"),
        (401, 403, 403, 201, 422, 201),
        lambda ids, role: {
            "police_number": f"P-{role}",
            "name": "新人",
            "role": "officer",
            "unit_id": ids["court"],
        },
        "officer in 甲县人民法院",
    ),
    Case(
        "POST /users",
        at("/users"),
        (401, 403, 403, 403, 403, 201),
        lambda ids, role: {
            "username": f"I-{role}",
            "name": "新验收",
            "role": "inspector",
            "unit_id": ids["county"],
        },
        "inspector",
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{officer2}"),
        (401, 403, 403, 200, 404, 200),
        lambda ids, role: {"name": f"改名 {role}"},
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{outsider}"),
        (401, 403, 403, 404, 200, 200),
        lambda ids, role: {"phone": "110"},
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{insp_a}"),
        (401, 403, 403, 403, 404, 200),
        const({"name": "改名"}),
        "inspector inside 甲县",
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{ua_court}"),
        (401, 403, 403, 403, 404, 200),
        const({"name": "改名"}),
        "another unit admin inside 甲县",
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{admin_a}"),
        (401, 403, 403, 403, 404, 200),
        const({"name": "改名"}),
        "an administrator inside 甲县",
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{t_role}"),
        (401, 403, 403, 403, 404, 200),
        const({"role": "inspector"}),
        "role change",
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{t_move}"),
        (401, 403, 403, 200, 404, 200),
        lambda ids, role: {"unit_id": ids["county"]},
        "move within 甲县",
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{t_deact}"),
        (401, 403, 403, 200, 404, 200),
        const({"is_active": False}),
        "deactivate",
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{self}"),
        (401, 403, 403, 409, 409, 409),
        const({"is_active": False}),
        "deactivate self",
    ),
    Case(
        "PATCH /users/{user_id}",
        at("/users/{self}"),
        (401, 403, 403, 409, 409, 409),
        const({"role": "officer"}),
        "own role",
    ),
    Case(
        "POST /users/{user_id}/reset-password",
        at("/users/{t_reset}/reset-password"),
        (401, 403, 403, 200, 404, 200),
    ),
    Case(
        "POST /users/{user_id}/reset-password",
        at("/users/{insp_a}/reset-password"),
        (401, 403, 403, 403, 404, 200),
    ),
    Case(
        "POST /users/{user_id}/reset-password",
        at("/users/{outsider}/reset-password"),
        (401, 403, 403, 404, 200, 200),
    ),
    Case(
        "POST /users/{user_id}/reset-password",
        at("/users/{self}/reset-password"),
        (401, 403, 403, 409, 409, 409),
    ),
    # ---- knowledge areas
    Case("GET /knowledge-areas", at("/knowledge-areas"), STAFF_READ),
    Case(
        "POST /knowledge-areas",
        at("/knowledge-areas"),
        (*DENY_ALL_BUT_ADMIN_WRITE, 201),
        lambda ids, role: {"name": f"新类别 {role}"},
    ),
    Case(
        "PATCH /knowledge-areas/{area_id}",
        at("/knowledge-areas/{area}"),
        (*DENY_ALL_BUT_ADMIN_WRITE, 200),
        lambda ids, role: {"name": f"改名 {role}"},
    ),
    # ---- banks
    Case("GET /banks", at("/banks"), STAFF_READ),
    Case("GET /banks/{bank_id}", at("/banks/{bank}"), STAFF_READ),
    Case(
        "POST /banks",
        at("/banks"),
        (*DENY_ALL_BUT_ADMIN_WRITE, 201),
        lambda ids, role: {"name": f"题库 {role}"},
    ),
    Case(
        "PATCH /banks/{bank_id}",
        at("/banks/{bank}"),
        (*DENY_ALL_BUT_ADMIN_WRITE, 200),
        lambda ids, role: {"description": role},
    ),
    # ---- questions
    Case("GET /questions", at("/questions"), STAFF_READ),
    Case("GET /questions/{question_id}", at("/questions/{question}"), STAFF_READ),
    Case("GET /questions/{question_id}/versions", at("/questions/{question}/versions"), STAFF_READ),
    Case("POST /questions", at("/questions"), (*DENY_ALL_BUT_ADMIN_WRITE, 201), single_question),
    Case(
        "PATCH /questions/{question_id}",
        at("/questions/{question}"),
        (*DENY_ALL_BUT_ADMIN_WRITE, 200),
        lambda ids, role: {"explanation": f"解析 {role}"},
    ),
    Case(
        "DELETE /questions/{question_id}", at("/questions/{spare_question}"), (*DENY_ALL_BUT_ADMIN_WRITE, 204)
    ),
    Case(
        "POST /questions/{question_id}/restore",
        at("/questions/{question}/restore"),
        (*DENY_ALL_BUT_ADMIN_WRITE, 200),
    ),
]


def declared_routes() -> set[str]:
    return {
        f"{method} {route.path}"
        for router in (units_router, bank_router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def test_the_table_covers_every_admin_endpoint() -> None:
    assert {case.route for case in CASES} == declared_routes()


async def _setup(app: FastAPI, world: World) -> Ids:
    """Objects some cases change, each used by one case only."""
    async with app.state.database.sessionmaker() as session:
        movable = await create_unit(session, code="MOV", name="可移动", kind="other", parent=world.county)
        ids: Ids = {
            "city": world.city.id,
            "county": world.county.id,
            "court": world.court.id,
            "other": world.other_county.id,
            "movable": movable.id,
            "bank": world.bank.id,
            "area": world.areas["politics"].id,
            "question": world.question_ids["single"][0],
            **{name: user_id for name, user_id in world.users.items()},
        }
        people = [
            ("insp_a", Role.inspector, world.county, None),
            ("ua_court", Role.unit_admin, world.court, None),
            ("admin_a", Role.admin, world.county, None),
            ("t_role", Role.officer, world.court, "T-ROLE"),
            ("t_move", Role.officer, world.court, "T-MOVE"),
            ("t_deact", Role.officer, world.court, "T-DEACT"),
            ("t_reset", Role.officer, world.court, "T-RESET"),
        ]
        for username, role, unit, police_number in people:
            user = await create_user(
                session,
                username=username,
                name=username,
                role=role,
                unit=unit,
                password_hash=password_hash(),
                police_number=police_number,
            )
            ids[username] = user.id
        spare = new_question(
            bank=world.bank,
            area=world.areas["politics"],
            qtype="true_false",
            stem="没人用过的题。",
            option_texts=[],
            answer=True,
            explanation="",
            difficulty=1,
            points=1,
        )
        session.add(spare)
        await session.flush()
        ids["spare_question"] = spare.id
        await session.commit()
    for caller in ROLES:
        ids[f"self:{caller}"] = ids[LOGINS.get(caller, "admin")]
    return ids


async def test_every_admin_endpoint_for_every_role(app: FastAPI, client: AsyncClient, world: World) -> None:
    ids = await _setup(app, world)
    headers: dict[str, dict[str, str]] = {"anon": {}}
    for role in ROLES[1:]:
        headers[role] = await login(client, LOGINS.get(role, role))
    failures: list[str] = []
    for case in CASES:
        for role, expected in zip(ROLES, case.expect, strict=True):
            method = case.route.split(" ", 1)[0]
            url = case.url(ids, role)
            body = case.body(ids, role) if case.body else None
            response = await client.request(method, url, json=body, headers=headers[role])
            if response.status_code != expected:
                failures.append(
                    f"{method} {url} ({case.note or case.route}) as {role}: expected {expected}, "
                    f"got {response.status_code} {response.text[:200]}"
                )
            elif expected in (401, 403):
                code = response.json().get("code")
                want = "not_authenticated" if expected == 401 else "role_forbidden"
                if code != want:
                    failures.append(f"{method} {url} as {role}: code {code}, expected {want}")
    assert not failures, "\n".join(failures)
