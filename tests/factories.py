"""Builds the small world most API tests start from, straight through the services."""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.bank.models import Bank, KnowledgeArea
from app.bank.service import get_or_create_area, get_or_create_bank, new_question
from app.core.security import hash_password
from app.units.models import Role, Unit
from app.units.service import create_unit, create_user

PASSWORD = "demo-pass-2021"


@lru_cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class World:
    city: Unit
    county: Unit
    court: Unit  # a department of `county`
    other_county: Unit
    bank: Bank
    areas: dict[str, KnowledgeArea]
    question_ids: dict[str, list[int]] = field(default_factory=dict)  # by type
    users: dict[str, int] = field(default_factory=dict)  # username -> id


async def build_world(session: AsyncSession) -> World:
    city = await create_unit(session, code="C", name="示范市", kind="city", parent=None)
    county = await create_unit(session, code="C-A", name="甲县", kind="county", parent=city)
    court = await create_unit(
        session, code="C-A-COURT", name="甲县人民法院", kind="department", parent=county
    )
    other = await create_unit(session, code="C-B", name="乙县", kind="county", parent=city)
    people = [
        ("admin", "系统管理员", Role.admin, city, None),
        ("inspector", "验收组", Role.inspector, city, None),
        ("unitadmin", "甲县管理员", Role.unit_admin, county, None),
        ("otheradmin", "乙县管理员", Role.unit_admin, other, None),
        ("officer1", "张三", Role.officer, court, "officer1"),
        ("officer2", "李四", Role.officer, court, "officer2"),
        ("officer3", "王五", Role.officer, county, "officer3"),
        ("outsider", "赵六", Role.officer, other, "outsider"),
    ]
    users = {}
    for username, name, role, unit, police_number in people:
        user = await create_user(
            session,
            username=username,
            name=name,
            role=role,
            unit=unit,
            password_hash=password_hash(),
            police_number=police_number,
        )
        users[username] = user.id
    bank = await get_or_create_bank(session, "测试题库")
    areas = {
        "warning": await get_or_create_area(session, "警示教育"),
        "rules": await get_or_create_area(session, "警示教育/三个规定"),
        "politics": await get_or_create_area(session, "政治教育"),
    }
    question_ids: dict[str, list[int]] = {"single": [], "multiple": [], "true_false": [], "fill_blank": []}
    specs: list[dict[str, Any]] = []
    for i in range(6):
        specs.append(
            dict(
                qtype="single",
                area=areas["rules"],
                stem=f"单选题{i}：逢问必录指什么？",
                option_texts=[f"正确{i}", f"错误甲{i}", f"错误乙{i}", f"错误丙{i}"],
                answer=0,
                points=1,
            )
        )
        specs.append(
            dict(
                qtype="multiple",
                area=areas["warning"],
                stem=f"多选题{i}：哪些属于四个自信？",
                option_texts=[f"道路{i}", f"理论{i}", f"制度{i}", f"历史{i}"],
                answer=[0, 1, 2],
                points=3,
            )
        )
        specs.append(
            dict(
                qtype="true_false",
                area=areas["politics"],
                stem=f"判断题{i}：国家宪法日是12月4日。",
                option_texts=[],
                answer=True,
                points=1,
            )
        )
        specs.append(
            dict(
                qtype="fill_blank",
                area=areas["politics"],
                stem=f"填空题{i}：举报平台是____，节日是____。",
                option_texts=[],
                answer=[["12337"], ["1月10日", "一月十日"]],
                points=2,
            )
        )
    for spec in specs:
        q = new_question(bank=bank, explanation=f"解析：{spec['stem']}", difficulty=2, **spec)
        session.add(q)
        await session.flush()
        question_ids[spec["qtype"]].append(q.id)
    await session.commit()
    return World(city, county, court, other, bank, areas, question_ids, users)


async def login(client: AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def quiz_body(world: World, **overrides: Any) -> dict[str, Any]:
    """One question of each type, aimed at the county subtree."""
    body: dict[str, Any] = {
        "title": "测试",
        "time_limit_seconds": 600,
        "attempts_allowed": 2,
        "pass_percent": 60,
        "rules": [
            {"question_type": "single", "count": 2},
            {"question_type": "multiple", "count": 1},
            {"question_type": "true_false", "count": 1},
            {"question_type": "fill_blank", "count": 1},
        ],
        "targets": [{"unit_id": world.county.id, "include_subunits": True}],
    }
    body.update(overrides)
    return body


async def published_quiz(client: AsyncClient, world: World, **overrides: Any) -> int:
    admin = await login(client, "admin")
    created = await client.post("/api/v1/quizzes", json=quiz_body(world, **overrides), headers=admin)
    assert created.status_code == 201, created.text
    quiz_id: int = created.json()["id"]
    published = await client.post(f"/api/v1/quizzes/{quiz_id}/publish", headers=admin)
    assert published.status_code == 200, published.text
    return quiz_id
