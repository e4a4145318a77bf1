"""Authoring quizzes: create, update, publish (pool freeze), close, and who may do it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from app.quizzes.models import Attempt, Quiz, QuizRule
from tests.factories import World, login, published_quiz, quiz_body
from tests.test_attempts import API, build_fast_world, start


@pytest.fixture
async def world(app: FastAPI) -> World:
    return await build_fast_world(app)


QUIZ_KEYS = {
    "id",
    "title",
    "description",
    "status",
    "time_limit_seconds",
    "opens_at",
    "closes_at",
    "attempts_allowed",
    "pass_percent",
    "multiple_scoring",
    "review_policy",
    "shuffle_questions",
    "shuffle_options",
    "published_at",
    "rules",
    "targets",
    "question_count",
    "max_score",
}


async def create(client: AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    created = await client.post(f"{API}/quizzes", json=body, headers=headers)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


async def test_create_and_read_back(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    opens = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    body = quiz_body(
        world,
        title="政法队伍教育整顿应知应会",
        description="说明",
        opens_at="2030-01-01T16:00:00+08:00",
        closes_at="2030-01-02T00:00:00Z",
        multiple_scoring="half",
        review_policy="correctness",
        shuffle_questions=False,
        rules=[
            {
                "knowledge_area_id": world.areas["warning"].id,
                "include_subareas": True,
                "count": 2,
                "points": 2,
            },
            {
                "bank_id": world.bank.id,
                "question_type": "true_false",
                "difficulty_min": 1,
                "difficulty_max": 3,
                "count": 3,
                "points": 1,
            },
        ],
    )
    quiz = await create(client, admin, body)
    assert set(quiz) == QUIZ_KEYS
    assert quiz["status"] == "draft" and quiz["published_at"] is None
    assert datetime.fromisoformat(quiz["opens_at"]) == opens  # +08:00 read as the same instant
    assert datetime.fromisoformat(quiz["closes_at"]) == datetime(2030, 1, 2, tzinfo=UTC)
    assert quiz["multiple_scoring"] == "half" and quiz["review_policy"] == "correctness"
    assert quiz["shuffle_questions"] is False and quiz["shuffle_options"] is True
    assert quiz["question_count"] == 5 and quiz["max_score"] == 7.0
    assert [r["position"] for r in quiz["rules"]] == [1, 2]
    assert quiz["rules"][0]["knowledge_area_id"] == world.areas["warning"].id
    assert quiz["rules"][1]["question_type"] == "true_false" and quiz["rules"][1]["difficulty_max"] == 3
    assert all(r["pool_size"] is None for r in quiz["rules"])
    assert quiz["targets"] == [{"unit_id": world.county.id, "include_subunits": True}]
    fetched = await client.get(f"{API}/quizzes/{quiz['id']}", headers=admin)
    assert fetched.status_code == 200 and fetched.json() == quiz
    listed = (await client.get(f"{API}/quizzes", headers=admin)).json()
    assert [q["id"] for q in listed] == [quiz["id"]]
    missing = await client.get(f"{API}/quizzes/999999", headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "quiz_not_found"


async def test_validation_errors(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    base = quiz_body(world)
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"rules": [{"question_type": "single", "count": 1, "difficulty_min": 4, "difficulty_max": 2}]},
            "validation_error",
        ),
        ({"opens_at": "2030-01-01T08:00:00"}, "validation_error"),  # naive
        ({"closes_at": "2030-01-01T08:00:00"}, "validation_error"),
        ({"opens_at": "2030-01-02T00:00:00Z", "closes_at": "2030-01-01T00:00:00Z"}, "validation_error"),
        ({"opens_at": "2030-01-01T00:00:00Z", "closes_at": "2030-01-01T00:00:00Z"}, "validation_error"),
        ({"time_limit_seconds": 0}, "validation_error"),
        ({"attempts_allowed": 0}, "validation_error"),
        ({"pass_percent": 101}, "validation_error"),
        ({"multiple_scoring": "generous"}, "validation_error"),
        ({"review_policy": "everything"}, "validation_error"),
        ({"rules": []}, "validation_error"),
        ({"targets": []}, "validation_error"),
        ({"title": ""}, "validation_error"),
        ({"rules": [{"question_type": "essay", "count": 1}]}, "validation_error"),
        ({"rules": [{"question_type": "single", "count": 0}]}, "validation_error"),
        ({"rules": [{"bank_id": 999999, "count": 1}]}, "bank_not_found"),
        ({"rules": [{"knowledge_area_id": 999999, "count": 1}]}, "knowledge_area_not_found"),
        ({"targets": [{"unit_id": 999999}]}, "unit_not_found"),
        ({"targets": [{"unit_id": world.county.id}, {"unit_id": world.county.id}]}, "duplicate_target"),
    ]
    for override, code in cases:
        refused = await client.post(f"{API}/quizzes", json={**base, **override}, headers=admin)
        assert refused.status_code == 422, (override, refused.text)
        assert refused.json()["code"] == code, override
    assert (await client.get(f"{API}/quizzes", headers=admin)).json() == []  # nothing half-created


async def test_update_only_while_draft(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    quiz = await create(client, admin, quiz_body(world))
    changed = await client.put(
        f"{API}/quizzes/{quiz['id']}",
        json=quiz_body(
            world,
            title="改名",
            rules=[{"question_type": "single", "count": 3, "points": 2}],
            targets=[{"unit_id": world.city.id, "include_subunits": True}],
        ),
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "改名"
    assert [(r["position"], r["question_type"], r["count"]) for r in changed.json()["rules"]] == [
        (1, "single", 3)
    ]
    assert changed.json()["targets"] == [{"unit_id": world.city.id, "include_subunits": True}]
    assert changed.json()["max_score"] == 6.0
    bad = await client.put(
        f"{API}/quizzes/{quiz['id']}",
        json={**quiz_body(world), "rules": [{"bank_id": 999999, "count": 1}]},
        headers=admin,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "bank_not_found"
    assert (await client.get(f"{API}/quizzes/{quiz['id']}", headers=admin)).json()["title"] == "改名"

    assert (await client.post(f"{API}/quizzes/{quiz['id']}/publish", headers=admin)).status_code == 200
    refused = await client.put(f"{API}/quizzes/{quiz['id']}", json=quiz_body(world), headers=admin)
    assert refused.status_code == 409 and refused.json()["code"] == "quiz_not_draft"
    again = await client.post(f"{API}/quizzes/{quiz['id']}/publish", headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "quiz_not_draft"
    missing = await client.put(f"{API}/quizzes/999999", json=quiz_body(world), headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "quiz_not_found"


async def test_publish_freezes_pools(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    quiz = await create(client, admin, quiz_body(world))
    published = await client.post(f"{API}/quizzes/{quiz['id']}/publish", headers=admin)
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["status"] == "published" and body["published_at"] is not None
    assert [r["pool_size"] for r in body["rules"]] == [6, 6, 6, 6]
    async with app.state.database.sessionmaker() as session:
        rules = (
            (
                await session.execute(
                    select(QuizRule).where(QuizRule.quiz_id == quiz["id"]).order_by(QuizRule.position)
                )
            )
            .scalars()
            .all()
        )
        stored = await session.get(Quiz, quiz["id"])
    assert stored is not None and stored.draw_seed and len(stored.draw_seed) == 64
    assert [sorted(r.pool or []) for r in rules] == [
        sorted(world.question_ids[t]) for t in ("single", "multiple", "true_false", "fill_blank")
    ]


async def test_publish_unsatisfiable_rules(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    body = quiz_body(
        world,
        rules=[
            {"question_type": "single", "count": 2},  # fine
            {"question_type": "multiple", "count": 7},  # only 6 exist
            {"question_type": "single", "difficulty_min": 4, "count": 1},  # none that hard
        ],
    )
    quiz = await create(client, admin, body)
    refused = await client.post(f"{API}/quizzes/{quiz['id']}/publish", headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "quiz_rules_unsatisfiable"
    detail = refused.json()["detail"]
    assert [{k: d[k] for k in ("rule", "needed", "available", "matching")} for d in detail] == [
        {"rule": 2, "needed": 7, "available": 6, "matching": 6},
        {"rule": 3, "needed": 1, "available": 0, "matching": 0},
    ]
    assert all(isinstance(d["message"], str) and d["message"] for d in detail)
    # Still a draft, nothing frozen, and officers cannot see it.
    still = (await client.get(f"{API}/quizzes/{quiz['id']}", headers=admin)).json()
    assert still["status"] == "draft" and still["published_at"] is None
    assert all(r["pool_size"] is None for r in still["rules"])
    async with app.state.database.sessionmaker() as session:
        stored = await session.get(Quiz, quiz["id"])
    assert stored is not None and stored.draw_seed is None
    officer = await login(client, "officer1")
    assert (await client.get(f"{API}/me/quizzes", headers=officer)).json() == []
    # Fixed, it publishes.
    fixed = quiz_body(
        world, rules=[{"question_type": "single", "count": 2}, {"question_type": "multiple", "count": 6}]
    )
    assert (await client.put(f"{API}/quizzes/{quiz['id']}", json=fixed, headers=admin)).status_code == 200
    assert (await client.post(f"{API}/quizzes/{quiz['id']}/publish", headers=admin)).status_code == 200


async def test_overlapping_rules_earlier_rule_takes_first(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    # Rule 1 (警示教育 and its sub-area 三个规定) matches the 6 multiple and the 6 single questions and
    # takes all 12; rule 2 then finds every single question already taken.
    body = quiz_body(
        world,
        rules=[
            {"knowledge_area_id": world.areas["warning"].id, "include_subareas": True, "count": 4},
            {"question_type": "single", "count": 2},
        ],
    )
    quiz = await create(client, admin, body)
    refused = await client.post(f"{API}/quizzes/{quiz['id']}/publish", headers=admin)
    assert refused.status_code == 422 and refused.json()["code"] == "quiz_rules_unsatisfiable"
    (shortage,) = refused.json()["detail"]
    assert {k: shortage[k] for k in ("rule", "needed", "available", "matching")} == {
        "rule": 2,
        "needed": 2,
        "available": 0,
        "matching": 6,
    }
    assert "6" in shortage["message"]

    # Without sub-areas rule 1 matches only the 6 multiple questions, leaving the singles to rule 2.
    body["rules"][0]["include_subareas"] = False
    assert (await client.put(f"{API}/quizzes/{quiz['id']}", json=body, headers=admin)).status_code == 200
    published = await client.post(f"{API}/quizzes/{quiz['id']}/publish", headers=admin)
    assert published.status_code == 200, published.text
    assert [r["pool_size"] for r in published.json()["rules"]] == [6, 6]

    # Swapping the order: the single rule now comes first and takes its 6, the area rule keeps its 6.
    swapped = quiz_body(
        world,
        rules=[
            {"question_type": "single", "count": 2},
            {"knowledge_area_id": world.areas["warning"].id, "include_subareas": True, "count": 4},
        ],
    )
    other = await create(client, admin, swapped)
    published = await client.post(f"{API}/quizzes/{other['id']}/publish", headers=admin)
    assert published.status_code == 200, published.text
    assert [r["pool_size"] for r in published.json()["rules"]] == [6, 6]


async def test_close(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    draft = await create(client, admin, quiz_body(world))
    refused = await client.post(f"{API}/quizzes/{draft['id']}/close", headers=admin)
    assert refused.status_code == 409 and refused.json()["code"] == "quiz_not_published"
    later = datetime.now(UTC) + timedelta(days=3)
    quiz_id = await published_quiz(client, world, closes_at=later.isoformat())
    before = datetime.now(UTC)
    closed = await client.post(f"{API}/quizzes/{quiz_id}/close", headers=admin)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    closes_at = datetime.fromisoformat(closed.json()["closes_at"])
    assert before - timedelta(seconds=5) <= closes_at <= datetime.now(UTC) + timedelta(seconds=5)
    # An earlier closing time is kept as it was.
    earlier = datetime.now(UTC) - timedelta(hours=1)
    past_quiz = await published_quiz(
        client, world, opens_at=(earlier - timedelta(hours=1)).isoformat(), closes_at=earlier.isoformat()
    )
    closed = await client.post(f"{API}/quizzes/{past_quiz}/close", headers=admin)
    assert datetime.fromisoformat(closed.json()["closes_at"]) == earlier
    officer = await login(client, "officer1")
    refused = await start(client, quiz_id, officer)
    assert refused.status_code == 409 and refused.json()["code"] == "quiz_closed"


async def test_close_finishes_attempts_in_progress(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    admin, officer = await login(client, "admin"), await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    single = next(i for i in attempt["items"] if i["type"] == "single")
    right = next(o["id"] for o in single["options"] if o["text"].startswith("正确"))
    saved = await client.put(
        f"{API}/attempts/{attempt['id']}/items/{single['id']}",
        json={"response": right, "seq": 1},
        headers=officer,
    )
    assert saved.status_code == 200 and saved.json()["accepted"] is True
    before = datetime.now(UTC)
    assert (await client.post(f"{API}/quizzes/{quiz_id}/close", headers=admin)).status_code == 200
    after = datetime.now(UTC)
    async with app.state.database.sessionmaker() as session:
        row = await session.get(Attempt, attempt["id"])
    assert row is not None and row.status == "finished" and row.finish_reason == "closed"
    assert row.finished_at is not None and before <= row.finished_at <= after
    assert row.score_milli == 1000  # marked from the saved answers
    late = await client.put(
        f"{API}/attempts/{attempt['id']}/items/{single['id']}",
        json={"response": right, "seq": 2},
        headers=officer,
    )
    assert late.status_code == 409 and late.json()["code"] == "attempt_closed"
    view = (await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)).json()
    assert view["status"] == "finished" and view["result"]["finish_reason"] == "closed"
    assert view["result"]["score"] == 1.0


async def test_writes_are_for_admins_only(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    admin = await login(client, "admin")
    draft = await create(client, admin, quiz_body(world))
    body = quiz_body(world)
    for name in ("inspector", "unitadmin", "officer1"):
        headers = await login(client, name)
        for method, url, payload in (
            ("POST", f"{API}/quizzes", body),
            ("PUT", f"{API}/quizzes/{draft['id']}", body),
            ("POST", f"{API}/quizzes/{draft['id']}/publish", None),
            ("POST", f"{API}/quizzes/{quiz_id}/close", None),
        ):
            response = await client.request(method, url, json=payload, headers=headers)
            assert response.status_code == 403, (name, method, url, response.text)
            assert response.json()["code"] == "role_forbidden"
    listed = (await client.get(f"{API}/quizzes", headers=admin)).json()
    assert sorted(q["id"] for q in listed) == sorted([quiz_id, draft["id"]])
    assert {q["id"]: q["status"] for q in listed} == {quiz_id: "published", draft["id"]: "draft"}


async def test_staff_reads_are_scoped(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)  # aimed at 甲县
    for name, visible in (("inspector", True), ("unitadmin", True), ("otheradmin", False)):
        headers = await login(client, name)
        listed = await client.get(f"{API}/quizzes", headers=headers)
        assert listed.status_code == 200
        assert (quiz_id in [q["id"] for q in listed.json()]) is visible, name
        fetched = await client.get(f"{API}/quizzes/{quiz_id}", headers=headers)
        assert fetched.status_code == (200 if visible else 404), name
        if not visible:
            assert fetched.json()["code"] == "quiz_not_found"


async def test_max_score_is_known_only_when_every_rule_sets_points(client: AsyncClient, world: World) -> None:
    """Rules that keep each question's own points make the maximum depend on the paper: null."""
    officer = await login(client, "officer1")
    admin = await login(client, "admin")
    own_points = await published_quiz(client, world)
    fixed = await published_quiz(
        client,
        world,
        rules=[
            {"question_type": "single", "count": 2, "points": 5},
            {"question_type": "true_false", "count": 3, "points": 2},
        ],
    )
    mixed = await published_quiz(
        client,
        world,
        rules=[
            {"question_type": "single", "count": 2, "points": 5},
            {"question_type": "true_false", "count": 3},
        ],
    )
    listed = {
        q["id"]: q["max_score"] for q in (await client.get(f"{API}/me/quizzes", headers=officer)).json()
    }
    assert listed == {own_points: None, fixed: 16.0, mixed: None}
    for quiz_id, expected in ((own_points, None), (fixed, 16.0), (mixed, None)):
        assert (await client.get(f"{API}/quizzes/{quiz_id}", headers=admin)).json()["max_score"] == expected
    # The paper itself always knows its maximum; rule points override the question's own.
    attempt = (await start(client, fixed, officer)).json()
    assert sorted(i["points"] for i in attempt["items"]) == [2.0, 2.0, 2.0, 5.0, 5.0]
    result = (await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)).json()
    assert result["max_score"] == 16.0
