"""Statistics through the API: hand-computed figures, roll-ups equal to their parts and to a
brute-force recomputation from raw rows, freshness, targets, exports, scoping."""

import csv
import io
import random
from dataclasses import dataclass
from datetime import timedelta
from statistics import median
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from app.bank.models import Question
from app.db.types import utcnow
from app.quizzes.models import Attempt, AttemptItem
from app.stats import totals
from app.units.models import Role, Unit, User
from app.units.service import create_unit, create_user
from tests.factories import World, login, password_hash, published_quiz

API = "/api/v1"


@dataclass
class Paper:
    """One finished attempt to store: marks per question as (awarded, points)."""

    user: str
    marks: list[tuple[str, float, int]]  # (question type, awarded points, max points)
    number: int = 1
    days_ago: int = 0


async def store(
    app: FastAPI, world: World, quiz_id: int, papers: list[Paper], pass_percent: int = 60
) -> None:
    """Finished attempts written as the quiz flow would leave them (scores = Σ item marks), added
    to the running totals as finishing does."""
    async with app.state.database.sessionmaker() as session:
        users = {u.username: u for u in (await session.execute(select(User))).scalars()}
        questions = {q.id: q for q in (await session.execute(select(Question))).scalars()}
        for n, paper in enumerate(papers):
            user = users[paper.user]
            finished = utcnow() - timedelta(days=paper.days_ago)
            score = round(sum(a for _, a, _ in paper.marks) * 1000)
            maximum = sum(p for _, _, p in paper.marks) * 1000
            attempt = Attempt(
                quiz_id=quiz_id,
                user_id=user.id,
                unit_id=user.unit_id,
                number=paper.number,
                status="finished",
                finish_reason="submitted",
                seed=f"{n:064d}",
                draw_index=n,
                started_at=finished - timedelta(minutes=10),
                deadline=finished + timedelta(minutes=10),
                finished_at=finished,
                score_milli=score,
                max_score_milli=maximum,
                passed=score * 100 >= maximum * pass_percent,
            )
            session.add(attempt)
            await session.flush()
            used: dict[str, int] = {}
            for position, (qtype, awarded, points) in enumerate(paper.marks):
                question = questions[world.question_ids[qtype][used.get(qtype, 0)]]
                used[qtype] = used.get(qtype, 0) + 1
                session.add(
                    AttemptItem(
                        attempt_id=attempt.id,
                        position=position,
                        question_id=question.id,
                        question_version=1,
                        rule_position=list(world.question_ids).index(qtype),
                        knowledge_area_id=question.knowledge_area_id,
                        type=qtype,
                        difficulty=question.difficulty,
                        stem=question.stem,
                        options=question.options,
                        answer=question.answer,
                        explanation="",
                        points=points,
                        awarded_milli=round(awarded * 1000),
                        outcome="correct" if awarded == points else "wrong",
                    )
                )
            # What finishing an attempt adds to the running totals (app.quizzes.service.finish_attempt).
            await totals.record_finished(session, attempt.id)
        await session.commit()


def paper(user: str, right: int, of: int = 5, **kw: Any) -> Paper:
    """`right` of `of` single-choice questions (1 point each) answered right."""
    return Paper(user, [("single", 1.0 if i < right else 0.0, 1) for i in range(of)], **kw)


async def report(client: AsyncClient, headers: dict[str, str], unit_id: int, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/stats/units/{unit_id}/report", headers=headers, params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_hand_computed_report(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    await store(
        app,
        world,
        quiz_id,
        [
            paper("officer1", 2, number=1),  # 40 %, then 100 % on the second attempt
            paper("officer1", 5, number=2),
            paper("officer2", 4),  # 80 %
            paper("outsider", 3),  # 60 % (another county)
        ],
    )
    admin = await login(client, "admin")
    data = await report(client, admin, world.city.id, quiz_id=quiz_id)
    s = data["summary"]
    # Roster: officer1, officer2 (court), officer3 (county), outsider (other county) = 4.
    assert (s["roster"], s["participants"], s["participation_percent"]) == (4, 3, 75.0)
    # First attempts: 40, 80, 60 → mean 60, median 60; pass (≥ 60 %): 80 and 60 → 2 of 3.
    assert (s["scored"], s["mean_percent"], s["median_percent"]) == (3, 60.0, 60.0)
    assert (s["passed"], s["pass_rate_percent"]) == (2, 66.67)
    assert s["bands"] == {"0-59": 1, "60-69": 1, "70-79": 0, "80-89": 1, "90-100": 0}
    assert s["small_sample"] is True
    children = {c["name"]: c for c in data["children"]}
    assert set(children) == {"甲县", "乙县"} and data["own"] is None
    county = children["甲县"]
    assert (county["roster"], county["participants"], county["participation_percent"]) == (3, 2, 66.67)
    assert (county["mean_percent"], county["median_percent"]) == (60.0, 60.0)
    assert data["non_participants"]["total"] == 1
    assert data["non_participants"]["items"][0]["name"] == "王五"
    # Mastery: 2 + 4 + 3 of 15 single-choice points, all in 警示教育/三个规定 (and its parent).
    areas = {a["full_name"]: a for a in data["areas"]}
    assert areas["警示教育/三个规定"]["mastery_percent"] == 60.0
    assert areas["警示教育"]["awarded"] == 9 and areas["警示教育"]["possible"] == 15
    assert data["spot_sessions"] == []

    best = await report(client, admin, world.city.id, quiz_id=quiz_id, attempts="best")
    assert best["summary"]["mean_percent"] == 80.0  # 100, 80, 60
    assert best["summary"]["participants"] == 3
    last = await report(client, admin, world.city.id, quiz_id=quiz_id, attempts="last")
    assert last["summary"]["median_percent"] == 80.0

    county_report = await report(client, admin, world.county.id, quiz_id=quiz_id)
    assert county_report["summary"]["roster"] == 3
    assert [c["name"] for c in county_report["children"]] == ["甲县人民法院"]
    assert county_report["own"]["roster"] == 1 and county_report["own"]["scored"] == 0  # officer3


async def test_weakest_questions_and_trend(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    papers = [
        Paper(
            f"officer{1 + i % 3}" if i < 6 else "outsider",
            [("single", 1.0, 1), ("true_false", 0.0, 1)],
            number=1 + i // 3 if i < 6 else 1,
            days_ago=i % 2,
        )
        for i in range(7)
    ]
    await store(app, world, quiz_id, papers)
    admin = await login(client, "admin")
    data = await report(client, admin, world.city.id, quiz_id=quiz_id, attempts="last")
    weakest = data["weakest_questions"]
    assert weakest[0]["type"] == "true_false" and weakest[0]["facility_percent"] == 0.0
    assert weakest[0]["answered"] == 4  # last attempts of officer1..3 and outsider
    response = await client.get(
        f"{API}/stats/units/{world.city.id}/trend",
        headers=admin,
        params={"quiz_id": quiz_id, "attempts": "last"},
    )
    points = response.json()
    assert sum(p["scored"] for p in points) == 4
    assert points[-1]["participants_cumulative"] == 4


async def test_a_submission_shows_at_once(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    admin = await login(client, "admin")
    before = await report(client, admin, world.county.id, quiz_id=quiz_id)
    officer = await login(client, "officer1")
    started = await client.post(f"{API}/quizzes/{quiz_id}/attempts", headers=officer)
    submitted = await client.post(f"{API}/attempts/{started.json()['id']}/submit", headers=officer)
    assert submitted.status_code == 200
    after = await report(client, admin, world.county.id, quiz_id=quiz_id)
    assert (before["summary"]["participants"], after["summary"]["participants"]) == (0, 1)
    assert after["summary"]["scored"] == 1 and after["summary"]["mean_percent"] == 0.0


async def test_a_selection_is_required(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    response = await client.get(f"{API}/stats/units/{world.city.id}/report", headers=admin)
    assert response.status_code == 422 and response.json()["code"] == "selection_required"
    dated = await client.get(
        f"{API}/stats/units/{world.city.id}/report",
        headers=admin,
        params={"from": "2020-01-01", "to": "2030-01-01"},
    )
    assert dated.status_code == 200


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_figures_equal_a_brute_force_recomputation(
    app: FastAPI, client: AsyncClient, world: World, seed: int
) -> None:
    """Random rosters and attempts: every unit's figures equal a direct count over the raw rows,
    and a parent's counts are the sum over its children and its own members."""
    rng = random.Random(seed)
    async with app.state.database.sessionmaker() as session:
        units = [world.court, world.county, world.other_county]
        for i in range(rng.randint(2, 4)):
            units.append(
                await create_unit(
                    session,
                    code=f"X{i}",
                    name=f"派出所{i}",
                    kind="department",
                    parent=rng.choice([world.county, world.other_county]),
                )
            )
        for i in range(30):
            await create_user(
                session,
                username=f"p{i}",
                name=f"警员{i}",
                role=Role.officer,
                unit=rng.choice(units),
                password_hash=password_hash(),
                police_number=f"9{i:04d}",
            )
        await session.commit()
        officers = (await session.execute(select(User).where(User.role == Role.officer))).scalars().all()
        # A few leave: they stay out of the roster, their attempts still count where they were.
        for user in rng.sample(list(officers), 3):
            user.is_active = False
        await session.commit()
        paths = dict((await session.execute(select(Unit.id, Unit.path))).all())
        people = {u.username: (u.unit_id, u.is_active) for u in officers}
    quiz_id = await published_quiz(client, world)
    papers = []
    for username in people:
        for number in range(1, rng.choice([0, 1, 1, 2]) + 1):
            papers.append(
                Paper(
                    username,
                    [("single", float(rng.random() < 0.6), 1) for _ in range(5)]
                    + [("fill_blank", rng.choice([0.0, 1.0, 2.0]), 2)],
                    number=number,
                )
            )
    await store(app, world, quiz_id, papers)

    admin = await login(client, "admin")
    firsts = {p.user: p for p in papers if p.number == 1}

    def expected(unit_path: str) -> dict[str, Any]:
        inside = {u for u, (unit_id, _) in people.items() if paths[unit_id].startswith(unit_path)}
        roster = {u for u in inside if people[u][1]}
        took = {u for u in roster if u in firsts}
        percents = [
            sum(a for _, a, _ in firsts[u].marks) * 100 / sum(p for _, _, p in firsts[u].marks)
            for u in inside
            if u in firsts
        ]
        return {
            "roster": len(roster),
            "participants": len(took),
            "scored": len(percents),
            "mean": round(sum(percents) / len(percents), 2) if percents else None,
            "median": round(median(percents), 2) if percents else None,
            "passed": sum(1 for p in percents if p >= 60),
        }

    for unit in (world.city, world.county, world.other_county):
        data = await report(client, admin, unit.id, quiz_id=quiz_id)
        want = expected(paths[unit.id])
        got = data["summary"]
        assert (got["roster"], got["participants"], got["scored"], got["passed"]) == (
            want["roster"],
            want["participants"],
            want["scored"],
            want["passed"],
        ), unit.name
        assert (got["mean_percent"], got["median_percent"]) == (want["mean"], want["median"])
        parts = data["children"] + ([data["own"]] if data["own"] else [])
        for key in ("roster", "participants", "scored", "passed"):
            assert got[key] == sum(part[key] for part in parts), (unit.name, key)
        for band, count in got["bands"].items():
            assert count == sum(part["bands"][band] for part in parts)
        for child in data["children"]:
            child_want = expected(paths[child["unit_id"]])
            assert (child["roster"], child["participants"], child["scored"]) == (
                child_want["roster"],
                child_want["participants"],
                child_want["scored"],
            )
        assert data["non_participants"]["total"] == want["roster"] - want["participants"]


async def test_targets_per_unit(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    await store(app, world, quiz_id, [paper("officer1", 5), paper("officer2", 5), paper("outsider", 1)])
    admin = await login(client, "admin")
    created = await client.post(
        f"{API}/evaluations",
        headers=admin,
        json={
            "name": "2026 年度评估",
            "quiz_ids": [quiz_id],
            "min_participation_percent": 60,
            "min_mean_percent": 70,
        },
    )
    assert created.status_code == 201, created.text
    evaluation_id = created.json()["id"]
    data = await report(client, admin, world.city.id, evaluation_id=evaluation_id)
    assert data["evaluation"]["name"] == "2026 年度评估"
    children = {c["name"]: c for c in data["children"]}
    # 甲县: 2 of 3 took part (66.67 % ≥ 60), mean 100 ≥ 70 → met. 乙县: mean 20 < 70 → not met.
    assert children["甲县"]["targets"]["met"] is True
    assert children["乙县"]["targets"]["met"] is False
    checks = {c["name"]: c for c in children["乙县"]["targets"]["checks"]}
    assert checks["participation"]["met"] is True and checks["mean"] == {
        "name": "mean",
        "threshold": 70.0,
        "value": 20.0,
        "met": False,
    }
    patched = await client.patch(
        f"{API}/evaluations/{evaluation_id}", headers=admin, json={"min_mean_percent": None}
    )
    assert patched.status_code == 200 and patched.json()["min_mean_percent"] is None
    again = await report(client, admin, world.city.id, evaluation_id=evaluation_id)
    assert all(c["targets"]["met"] for c in again["children"])
    bad = await client.patch(f"{API}/evaluations/{evaluation_id}", headers=admin, json={"quiz_ids": []})
    assert bad.status_code == 422
    unit_admin = await login(client, "unitadmin")
    refused = await client.post(
        f"{API}/evaluations", headers=unit_admin, json={"name": "x", "quiz_ids": [quiz_id]}
    )
    assert refused.status_code == 403


async def test_exports_are_formula_safe_and_match_the_report(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    async with app.state.database.sessionmaker() as session:
        unit = await session.get(Unit, world.court.id)
        assert unit is not None
        unit.name = '=HYPERLINK("http://evil","点我")'
        await session.commit()
    quiz_id = await published_quiz(client, world)
    await store(app, world, quiz_id, [paper("officer1", 3), paper("officer2", 4)])
    admin = await login(client, "admin")
    data = await report(client, admin, world.county.id, quiz_id=quiz_id)
    xlsx = await client.get(
        f"{API}/stats/units/{world.county.id}/report.xlsx", headers=admin, params={"quiz_id": quiz_id}
    )
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["单位", "知识点", "薄弱题目", "未参加人员"]
    sheet = book["单位"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("单位", "应参加人数", "参加人数", "参与率%")
    assert rows[1][1:4] == (
        data["summary"]["roster"],
        data["summary"]["participants"],
        data["summary"]["participation_percent"],
    )
    court_row = next(r for r in sheet.iter_rows() if r[0].value == '=HYPERLINK("http://evil","点我")')
    assert court_row[0].data_type == "s"  # text, never a formula
    assert court_row[5].value == data["children"][0]["mean_percent"]

    response = await client.get(
        f"{API}/stats/units/{world.county.id}/report.csv",
        headers=admin,
        params={"quiz_id": quiz_id, "table": "units"},
    )
    assert response.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][0] == "单位"
    assert any(r[0] == '\'=HYPERLINK("http://evil","点我")' for r in table)
    names = await client.get(
        f"{API}/stats/units/{world.county.id}/report.csv",
        headers=admin,
        params={"quiz_id": quiz_id, "table": "non_participants"},
    )
    assert [r[0] for r in csv.reader(io.StringIO(names.content.decode("utf-8-sig")))] == ["姓名", "王五"]


async def test_item_analysis_endpoint(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    rng = random.Random(7)
    await store(
        app,
        world,
        quiz_id,
        [
            Paper(
                user,
                [("single", float(rng.random() < 0.7), 1), ("true_false", 1.0, 1), ("fill_blank", 0.0, 2)],
            )
            for user in ("officer1", "officer2", "officer3", "outsider")
        ],
    )
    admin = await login(client, "admin")
    response = await client.get(f"{API}/stats/quizzes/{quiz_id}/item-analysis", headers=admin)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["attempts"] == 4 and data["small_sample"] is True
    by_type = {q["type"]: q for q in data["questions"]}
    assert by_type["true_false"]["facility"] == 100.0 and "too_easy" in by_type["true_false"]["flags"]
    assert by_type["fill_blank"]["facility"] == 0.0 and "too_hard" in by_type["fill_blank"]["flags"]
    unit_admin = await login(client, "unitadmin")
    scoped = (await client.get(f"{API}/stats/quizzes/{quiz_id}/item-analysis", headers=unit_admin)).json()
    assert scoped["attempts"] == 3  # the other county's attempt is outside the subtree
    xlsx = await client.get(f"{API}/stats/quizzes/{quiz_id}/item-analysis.xlsx", headers=admin)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["整卷统计", "题目分析"]
    assert book["整卷统计"]["B2"].value == 4


STATS_PATHS = [
    "/stats/units/{unit}/report?quiz_id={quiz}",
    "/stats/units/{unit}/report.xlsx?quiz_id={quiz}",
    "/stats/units/{unit}/report.csv?quiz_id={quiz}",
    "/stats/units/{unit}/trend?quiz_id={quiz}",
    "/stats/quizzes/{quiz}/item-analysis?unit_id={unit}",
    "/stats/quizzes/{quiz}/item-analysis.csv?unit_id={unit}",
]


@pytest.mark.parametrize("path", STATS_PATHS)
async def test_scoping_of_every_statistics_endpoint(client: AsyncClient, world: World, path: str) -> None:
    quiz_id = await published_quiz(client, world)
    cases = [
        ("admin", world.city.id, 200),
        ("inspector", world.city.id, 200),
        ("unitadmin", world.county.id, 200),
        ("unitadmin", world.court.id, 200),
        ("unitadmin", world.city.id, 404),  # above their unit
        ("unitadmin", world.other_county.id, 404),
        ("otheradmin", world.county.id, 404),
        ("officer1", world.court.id, 403),
    ]
    for username, unit_id, status in cases:
        headers = await login(client, username)
        response = await client.get(API + path.format(unit=unit_id, quiz=quiz_id), headers=headers)
        assert response.status_code == status, (username, unit_id, response.text)
    assert (await client.get(API + path.format(unit=world.city.id, quiz=quiz_id))).status_code == 401


async def test_officers_cannot_read_evaluations(client: AsyncClient, world: World) -> None:
    officer = await login(client, "officer1")
    assert (await client.get(f"{API}/evaluations", headers=officer)).status_code == 403
