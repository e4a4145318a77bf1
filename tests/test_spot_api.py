"""Spot sessions through the API: the verifiable draw, joining, answering, oral mode, closing,
overrides, the audit log, scoping and every refusal."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from app.spot import draw
from app.spot.models import SpotAudit, SpotParticipant
from tests.factories import World, login

API = "/api/v1"
DEVICE = "device-aaaa-0001"


def spot_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "现场抽查测试",
        "unit_id": world.county.id,
        "mode": "phone",
        "draw_count": 2,
        "rules": [{"question_type": "single", "count": 2}, {"question_type": "true_false", "count": 1}],
        "time_limit_seconds": 600,
    }
    body.update(overrides)
    return body


async def create(client: AsyncClient, world: World, **overrides: Any) -> dict[str, Any]:
    inspector = await login(client, "inspector")
    response = await client.post(
        f"{API}/spot/sessions", headers=inspector, json=spot_body(world, **overrides)
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_the_draw_is_committed_before_and_verifiable_after(client: AsyncClient, world: World) -> None:
    inspector = await login(client, "inspector")
    spot = await create(client, world)
    # Before the draw: commitment and roster hash shown, seed and result hidden.
    assert spot["status"] == "lobby" and spot["seed"] is None and spot["drawn"] is None
    assert len(spot["seed_commitment"]) == 64 and spot["roster_size"] == 3  # officer1..3 in 甲县
    record = (await client.get(f"{API}/spot/sessions/{spot['id']}/draw-record", headers=inspector)).json()
    assert record["seed"] is None
    premature = await client.get(f"{API}/spot/sessions/{spot['id']}/draw-record/verify", headers=inspector)
    assert premature.status_code == 409

    drawn = (await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)).json()
    assert drawn["status"] == "running" and len(drawn["drawn"]) == 2
    assert draw.commitment(drawn["seed"]) == spot["seed_commitment"]
    record = (await client.get(f"{API}/spot/sessions/{spot['id']}/draw-record", headers=inspector)).json()
    assert [n for n, _ in record["roster"]] == sorted(n for n, _ in record["roster"])
    verified = (
        await client.get(f"{API}/spot/sessions/{spot['id']}/draw-record/verify", headers=inspector)
    ).json()
    assert verified["ok"] is True and [c["name"] for c in verified["checks"]] == [
        "seed_commitment",
        "roster_hash",
        "drawn",
    ]
    # Anyone can recompute from the published record; a changed seed or roster fails.
    officer = await login(client, "officer1")
    ok = (await client.post(f"{API}/spot/verify-draw", headers=officer, json=record)).json()
    assert ok["ok"] is True
    other_seed = {**record, "seed": "0" * 64}
    failed = (await client.post(f"{API}/spot/verify-draw", headers=officer, json=other_seed)).json()
    assert failed["ok"] is False
    assert {c["name"]: c["ok"] for c in failed["checks"]}["seed_commitment"] is False
    fewer = {**record, "roster": record["roster"][1:]}
    failed = (await client.post(f"{API}/spot/verify-draw", headers=officer, json=fewer)).json()
    assert {c["name"]: c["ok"] for c in failed["checks"]}["roster_hash"] is False
    again = await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
    assert again.status_code == 409 and again.json()["code"] == "spot_already_drawn"


def test_a_changed_seed_or_roster_changes_the_draw() -> None:
    roster = [draw.RosterEntry(f"{n:06d}", n) for n in range(1, 41)]
    seed = "ab" * 32
    chosen = draw.draw(roster, seed, 5)
    assert chosen == draw.draw(list(reversed(roster)), seed, 5)  # the order given does not matter
    assert chosen != draw.draw(roster, "cd" * 32, 5)
    assert chosen != draw.draw([r for r in roster if r.police_number != chosen[0]], seed, 5)
    checks = draw.verify(
        roster=roster,
        seed=seed,
        count=5,
        published_commitment=draw.commitment(seed),
        published_roster_hash=draw.roster_hash(roster),
        published_drawn=chosen,
    )
    assert all(c.ok for c in checks)
    tampered = draw.verify(
        roster=roster[1:],
        seed=seed,
        count=5,
        published_commitment=draw.commitment(seed),
        published_roster_hash=draw.roster_hash(roster),
        published_drawn=chosen,
    )
    assert not all(c.ok for c in tampered)
    # The documented algorithm, recomputed by hand: sha256("<seed>:<police number>").
    import hashlib

    by_key = sorted(roster, key=lambda r: hashlib.sha256(f"{seed}:{r.police_number}".encode()).hexdigest())
    assert chosen == [r.police_number for r in by_key[:5]]


async def test_officers_join_answer_and_the_board_follows(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    inspector = await login(client, "inspector")
    spot = await create(client, world, draw_count=3)
    early = await client.post(
        f"{API}/spot/join",
        headers=await login(client, "officer1"),
        json={"code": spot["code"], "device_id": DEVICE},
    )
    assert early.status_code == 409 and early.json()["code"] == "spot_not_started"
    await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
    officer = await login(client, "officer1")
    joined = await client.post(
        f"{API}/spot/join", headers=officer, json={"code": spot["code"], "device_id": DEVICE}
    )
    assert joined.status_code == 200, joined.text
    attempt_id = joined.json()["attempt_id"]
    assert attempt_id and joined.json()["late"] is False
    # The same phone rejoins where it was; another phone is refused.
    again = await client.post(
        f"{API}/spot/join", headers=officer, json={"code": spot["code"], "device_id": DEVICE}
    )
    assert again.json()["attempt_id"] == attempt_id
    other = await client.post(
        f"{API}/spot/join", headers=officer, json={"code": spot["code"], "device_id": "another-phone-01"}
    )
    assert other.status_code == 409 and other.json()["code"] == "spot_other_device"
    # Answer with the ordinary quiz endpoints.
    paper = (await client.get(f"{API}/attempts/{attempt_id}", headers=officer)).json()
    first = paper["items"][0]
    response = first["options"][0]["id"] if first["type"] == "single" else True
    saved = await client.put(
        f"{API}/attempts/{attempt_id}/items/{first['id']}",
        headers=officer,
        json={"response": response, "seq": 1},
    )
    assert saved.status_code == 200 and saved.json()["accepted"] is True
    board = (await client.get(f"{API}/spot/sessions/{spot['id']}/board", headers=inspector)).json()
    me = next(p for p in board["participants"] if p["name"] == "张三")
    assert (me["answered"], me["total"], me["finished"]) == (1, 3, False)
    assert sum(q["answered"] for q in board["questions"]) == 1
    # The hidden quiz is not an ordinary quiz: not listed, not startable directly.
    listed = (await client.get(f"{API}/me/quizzes", headers=officer)).json()
    assert all(q["id"] != spot["quiz_id"] for q in listed)
    direct = await client.post(
        f"{API}/quizzes/{spot['quiz_id']}/attempts", headers=await login(client, "officer2")
    )
    assert direct.status_code == 404
    await client.post(f"{API}/attempts/{attempt_id}/submit", headers=officer)
    board = (await client.get(f"{API}/spot/sessions/{spot['id']}/board", headers=inspector)).json()
    assert next(p for p in board["participants"] if p["name"] == "张三")["finished"] is True

    closed = await client.post(f"{API}/spot/sessions/{spot['id']}/close", headers=inspector)
    assert closed.json()["status"] == "closed"
    gone = await client.post(
        f"{API}/spot/join",
        headers=await login(client, "officer2"),
        json={"code": spot["code"], "device_id": DEVICE},
    )
    assert gone.status_code == 404 and gone.json()["code"] == "spot_code_invalid"
    async with app.state.database.sessionmaker() as session:
        actions = [
            a.action for a in (await session.execute(select(SpotAudit).order_by(SpotAudit.id))).scalars()
        ]
    assert actions == ["created", "drawn", "joined", "closed"]


async def test_who_may_join(client: AsyncClient, world: World) -> None:
    inspector = await login(client, "inspector")
    spot = await create(client, world, draw_count=1)
    drawn = (await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)).json()
    names = {"officer1": "officer1", "officer2": "officer2", "officer3": "officer3"}
    not_drawn = next(u for u in names if u not in drawn["drawn"])
    refused = await client.post(
        f"{API}/spot/join",
        headers=await login(client, not_drawn),
        json={"code": spot["code"], "device_id": DEVICE},
    )
    assert refused.status_code == 403 and refused.json()["code"] == "spot_not_drawn"
    wrong = await client.post(
        f"{API}/spot/join",
        headers=await login(client, "officer1"),
        json={"code": "000000" if spot["code"] != "000000" else "111111", "device_id": DEVICE},
    )
    assert wrong.status_code == 404 and wrong.json()["code"] == "spot_code_invalid"
    open_spot = await create(client, world, draw_count=None)
    await client.post(f"{API}/spot/sessions/{open_spot['id']}/draw", headers=inspector)
    outsider = await client.post(
        f"{API}/spot/join",
        headers=await login(client, "outsider"),
        json={"code": open_spot["code"], "device_id": DEVICE},
    )
    assert outsider.status_code == 403 and outsider.json()["code"] == "spot_out_of_scope"
    anyone = await client.post(
        f"{API}/spot/join",
        headers=await login(client, "officer3"),
        json={"code": open_spot["code"], "device_id": DEVICE},
    )
    assert anyone.status_code == 200


async def test_oral_mode_marks_and_overrides(app: FastAPI, client: AsyncClient, world: World) -> None:
    inspector = await login(client, "inspector")
    spot = await create(client, world, mode="oral", draw_count=2, time_limit_seconds=None)
    await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
    first = (await client.post(f"{API}/spot/sessions/{spot['id']}/oral", headers=inspector, json={})).json()
    assert "answer" in first["question"] and "explanation" in first["question"]
    second = (await client.post(f"{API}/spot/sessions/{spot['id']}/oral", headers=inspector, json={})).json()
    assert second["user_id"] != first["user_id"] and second["question_id"] != first["question_id"]
    everyone = await client.post(f"{API}/spot/sessions/{spot['id']}/oral", headers=inspector, json={})
    assert everyone.status_code == 409 and everyone.json()["code"] == "spot_everyone_asked"
    marked = await client.post(
        f"{API}/spot/sessions/{spot['id']}/oral/{first['id']}/mark",
        headers=inspector,
        json={"result": "partly", "note": "漏答一点"},
    )
    assert marked.json()["result"] == "partly"
    await client.post(f"{API}/spot/sessions/{spot['id']}/close", headers=inspector)
    frozen = await client.post(
        f"{API}/spot/sessions/{spot['id']}/oral/{first['id']}/mark",
        headers=inspector,
        json={"result": "correct"},
    )
    assert frozen.status_code == 409 and frozen.json()["code"] == "spot_closed"
    no_reason = await client.post(
        f"{API}/spot/sessions/{spot['id']}/overrides",
        headers=inspector,
        json={"kind": "oral", "check_id": first["id"], "result": "correct"},
    )
    assert no_reason.status_code == 422
    override = await client.post(
        f"{API}/spot/sessions/{spot['id']}/overrides",
        headers=inspector,
        json={
            "kind": "oral",
            "check_id": first["id"],
            "result": "correct",
            "reason": "复核录像后确认回答完整",
        },
    )
    assert override.status_code == 204
    log = (await client.get(f"{API}/spot/sessions/{spot['id']}/audit", headers=inspector)).json()
    last = log[-1]
    assert last["action"] == "override" and last["actor"] == "验收组"
    assert last["detail"]["before"]["result"] == "partly" and last["detail"]["after"]["result"] == "correct"
    assert last["detail"]["reason"] == "复核录像后确认回答完整"


async def test_only_the_host_runs_a_session(client: AsyncClient, world: World) -> None:
    spot = await create(client, world)
    for username, status in [("unitadmin", 404), ("otheradmin", 404), ("officer1", 403)]:
        headers = await login(client, username)
        for method, path in [("POST", "/draw"), ("GET", "/board"), ("POST", "/close"), ("GET", "/audit")]:
            response = await client.request(
                method, f"{API}/spot/sessions/{spot['id']}{path}", headers=headers
            )
            assert response.status_code == status, (username, path, response.text)
    admin = await login(client, "admin")
    assert (await client.get(f"{API}/spot/sessions/{spot['id']}/board", headers=admin)).status_code == 200
    officer = await login(client, "officer1")
    refused = await client.post(f"{API}/spot/sessions", headers=officer, json=spot_body(world))
    assert refused.status_code == 403
    unit_admin = await login(client, "unitadmin")
    refused = await client.post(f"{API}/spot/sessions", headers=unit_admin, json=spot_body(world))
    assert refused.status_code == 403
    inspector = await login(client, "inspector")
    bad_rules = await client.post(
        f"{API}/spot/sessions",
        headers=inspector,
        json=spot_body(world, rules=[{"question_type": "single", "count": 99}]),
    )
    assert bad_rules.status_code == 422 and bad_rules.json()["code"] == "quiz_rules_unsatisfiable"
    outsider_record = await client.get(
        f"{API}/spot/sessions/{spot['id']}/draw-record", headers=await login(client, "outsider")
    )
    assert outsider_record.status_code == 404


async def test_spot_results_are_reported_apart(app: FastAPI, client: AsyncClient, world: World) -> None:
    inspector = await login(client, "inspector")
    spot = await create(client, world, draw_count=3)
    await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
    officer = await login(client, "officer1")
    joined = (
        await client.post(
            f"{API}/spot/join", headers=officer, json={"code": spot["code"], "device_id": DEVICE}
        )
    ).json()
    await client.post(f"{API}/attempts/{joined['attempt_id']}/submit", headers=officer)
    admin = await login(client, "admin")
    report = (
        await client.get(
            f"{API}/stats/units/{world.city.id}/report",
            headers=admin,
            params={"from": "2020-01-01", "to": "2100-01-01"},
        )
    ).json()
    assert report["summary"]["scored"] == 0  # the spot attempt is not a quiz result
    assert report["spot_sessions"][0]["label"] == "现场抽查"
    assert report["spot_sessions"][0]["scored"] == 1 and report["spot_sessions"][0]["joined"] == 1
    async with app.state.database.sessionmaker() as session:
        assert len((await session.execute(select(SpotParticipant))).scalars().all()) == 3
