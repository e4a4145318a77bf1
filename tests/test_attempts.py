"""The officer's quiz flow through the API (DESIGN.md "Contracts → Officer quiz flow"), on both databases."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.main import create_app
from app.quizzes.models import Attempt, AttemptItem, AttemptResponse
from app.quizzes.sweep import sweep_once
from app.units.models import User
from tests.conftest import _empty_tables, make_settings
from tests.factories import PASSWORD, World, build_world, login, published_quiz

API = "/api/v1"
ITEM_KEYS = {"id", "position", "type", "stem", "options", "blanks", "points", "response", "seq"}
CORRECT_MULTIPLE_PREFIXES = ("道路", "理论", "制度")


# ---------------------------------------------------------------- helpers shared with other test files

# Argon2 with the smallest cost: login verifies whatever parameters the stored hash names, so the
# whole login path runs unchanged, in microseconds instead of ~0.15 s of CPU per login.
FAST_HASH = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),)).hash(PASSWORD)


async def build_fast_world(app: FastAPI) -> World:
    """conftest's world, with every account's password hashed cheaply."""
    session: AsyncSession
    async with app.state.database.sessionmaker() as session:
        world = await build_world(session)
        await session.execute(update(User).values(password_hash=FAST_HASH))
        await session.commit()
    return world


@pytest.fixture
async def world(app: FastAPI) -> World:
    return await build_fast_world(app)


def correct_single(item: dict[str, Any]) -> str:
    option: str = next(o["id"] for o in item["options"] if o["text"].startswith("正确"))
    return option


def wrong_single(item: dict[str, Any]) -> str:
    option: str = next(o["id"] for o in item["options"] if not o["text"].startswith("正确"))
    return option


def correct_multiple(item: dict[str, Any]) -> list[str]:
    return [o["id"] for o in item["options"] if o["text"].startswith(CORRECT_MULTIPLE_PREFIXES)]


def right_answer(item: dict[str, Any]) -> Any:
    """A full-marks response for an item of the test world's bank, as an officer would send it."""
    if item["type"] == "single":
        return correct_single(item)
    if item["type"] == "multiple":
        return correct_multiple(item)
    if item["type"] == "true_false":
        return True
    return ["12337", "一月十日"]


def items_of(attempt: dict[str, Any], qtype: str) -> list[dict[str, Any]]:
    return [i for i in attempt["items"] if i["type"] == qtype]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def start(client: AsyncClient, quiz_id: int, headers: dict[str, str]) -> Response:
    return await client.post(f"{API}/quizzes/{quiz_id}/attempts", headers=headers)


async def save(
    client: AsyncClient, attempt_id: int, item_id: int, response: Any, seq: int, headers: dict[str, str]
) -> Response:
    return await client.put(
        f"{API}/attempts/{attempt_id}/items/{item_id}",
        json={"response": response, "seq": seq},
        headers=headers,
    )


async def saved_ok(
    client: AsyncClient, attempt_id: int, item_id: int, response: Any, seq: int, headers: dict[str, str]
) -> dict[str, Any]:
    answer = await save(client, attempt_id, item_id, response, seq, headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["accepted"] is True, body
    return body


async def db_attempt(app: FastAPI, attempt_id: int) -> Attempt:
    session: AsyncSession
    async with app.state.database.sessionmaker() as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        return attempt


async def set_deadline(app: FastAPI, attempt_id: int, deadline: datetime) -> None:
    """Move an attempt's clock (tests only): started_at keeps the time limit apart."""
    async with app.state.database.sessionmaker() as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        limit = attempt.deadline - attempt.started_at
        await session.execute(
            update(Attempt)
            .where(Attempt.id == attempt_id)
            .values(deadline=deadline, started_at=deadline - limit)
        )
        await session.commit()


async def answer_hand_built_set(
    client: AsyncClient, attempt: dict[str, Any], headers: dict[str, str]
) -> None:
    """single right, single wrong, multiple 2 of 3 right, true/false wrong, fill-in one blank of two right."""
    aid = attempt["id"]
    first, second = items_of(attempt, "single")
    await saved_ok(client, aid, first["id"], correct_single(first), 1, headers)
    await saved_ok(client, aid, second["id"], wrong_single(second), 1, headers)
    (multiple,) = items_of(attempt, "multiple")
    await saved_ok(client, aid, multiple["id"], correct_multiple(multiple)[:2], 1, headers)
    (tf,) = items_of(attempt, "true_false")
    await saved_ok(client, aid, tf["id"], False, 1, headers)
    (fill,) = items_of(attempt, "fill_blank")
    await saved_ok(client, aid, fill["id"], ["１２３３７", "十月一日"], 1, headers)


# ---------------------------------------------------------------- start, resume, view


async def test_start_then_resume_returns_the_same_attempt(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    first = await start(client, quiz_id, officer)
    assert first.status_code == 201, first.text
    attempt = first.json()
    assert attempt["quiz_id"] == quiz_id
    assert attempt["number"] == 1
    assert attempt["status"] == "in_progress"
    assert attempt["result"] is None
    assert parse_time(attempt["deadline"]) - parse_time(attempt["started_at"]) == timedelta(seconds=600)
    assert abs(parse_time(attempt["server_time"]) - datetime.now(UTC)) < timedelta(seconds=30)
    assert len(attempt["items"]) == 5
    assert [i["position"] for i in attempt["items"]] == [1, 2, 3, 4, 5]
    assert sorted(i["type"] for i in attempt["items"]) == [
        "fill_blank",
        "multiple",
        "single",
        "single",
        "true_false",
    ]
    for item in attempt["items"]:
        assert set(item) == ITEM_KEYS
        assert item["response"] is None and item["seq"] is None
        assert item["blanks"] == (2 if item["type"] == "fill_blank" else 0)
        assert (
            len(item["options"])
            == {"single": 4, "multiple": 4, "true_false": 0, "fill_blank": 0}[item["type"]]
        )
        assert (
            item["points"]
            == {"single": 1.0, "multiple": 3.0, "true_false": 1.0, "fill_blank": 2.0}[item["type"]]
        )

    again = await start(client, quiz_id, officer)
    assert again.status_code == 200, again.text
    resumed = again.json()
    assert resumed["id"] == attempt["id"]
    assert resumed["items"] == attempt["items"]
    assert resumed["deadline"] == attempt["deadline"]

    viewed = await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)
    assert viewed.status_code == 200, viewed.text
    assert viewed.json()["items"] == attempt["items"]
    assert viewed.json()["deadline"] == attempt["deadline"]

    async with app.state.database.sessionmaker() as session:
        count = (await session.execute(select(func.count()).select_from(Attempt))).scalar_one()
    assert count == 1


async def test_saves_follow_seq(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    aid = attempt["id"]
    item = items_of(attempt, "single")[0]
    right, wrong = correct_single(item), wrong_single(item)

    first = await saved_ok(client, aid, item["id"], right, 5, officer)
    assert first["seq"] == 5 and first["item_id"] == item["id"]

    # A lower seq arriving late never overwrites: not accepted, and told the stored seq.
    late = await save(client, aid, item["id"], wrong, 3, officer)
    assert late.status_code == 200, late.text
    assert late.json()["accepted"] is False
    assert late.json()["seq"] == 5

    # The same seq with the same answer is a retry: accepted, nothing changes.
    retry = await save(client, aid, item["id"], right, 5, officer)
    assert retry.status_code == 200 and retry.json()["accepted"] is True and retry.json()["seq"] == 5
    # The same seq with a different answer is not the stored one.
    clash = await save(client, aid, item["id"], wrong, 5, officer)
    assert clash.status_code == 200 and clash.json()["accepted"] is False

    view = (await client.get(f"{API}/attempts/{aid}", headers=officer)).json()
    stored = next(i for i in view["items"] if i["id"] == item["id"])
    assert stored["response"] == right and stored["seq"] == 5

    # A higher seq wins.
    await saved_ok(client, aid, item["id"], wrong, 6, officer)
    view = (await client.get(f"{API}/attempts/{aid}", headers=officer)).json()
    stored = next(i for i in view["items"] if i["id"] == item["id"])
    assert stored["response"] == wrong and stored["seq"] == 6

    # null clears the answer.
    await saved_ok(client, aid, item["id"], None, 7, officer)
    view = (await client.get(f"{API}/attempts/{aid}", headers=officer)).json()
    stored = next(i for i in view["items"] if i["id"] == item["id"])
    assert stored["response"] is None and stored["seq"] == 7

    async with app.state.database.sessionmaker() as session:
        rows = (
            (await session.execute(select(AttemptResponse).where(AttemptResponse.attempt_id == aid)))
            .scalars()
            .all()
        )
    assert [(r.item_id, r.seq) for r in rows] == [(item["id"], 7)]

    # The cleared item is marked blank.
    result = (await client.post(f"{API}/attempts/{aid}/submit", headers=officer)).json()
    marked = next(i for i in result["items"] if i["id"] == item["id"])
    assert marked["outcome"] == "blank" and marked["awarded"] == 0.0 and marked["response"] is None


async def test_every_type_round_trips(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    aid = attempt["id"]
    answers: dict[int, Any] = {}
    for seq, item in enumerate(attempt["items"], start=1):
        response = right_answer(item)
        await saved_ok(client, aid, item["id"], response, seq, officer)
        answers[item["id"]] = response
    view = (await client.get(f"{API}/attempts/{aid}", headers=officer)).json()
    assert {i["id"]: i["response"] for i in view["items"]} == answers
    result = (await client.post(f"{API}/attempts/{aid}/submit", headers=officer)).json()
    assert result["score"] == result["max_score"] == 8.0
    assert result["passed"] is True
    assert {i["outcome"] for i in result["items"]} == {"correct"}


# ---------------------------------------------------------------- submit and marks


@pytest.mark.parametrize(
    ("mode", "score", "multiple_awarded", "passed"),
    [("all_or_nothing", 2.0, 0.0, False), ("partial", 4.0, 2.0, True), ("half", 3.5, 1.5, False)],
)
async def test_submit_scores_a_hand_built_paper(
    client: AsyncClient, world: World, mode: str, score: float, multiple_awarded: float, passed: bool
) -> None:
    quiz_id = await published_quiz(client, world, multiple_scoring=mode, pass_percent=50)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    await answer_hand_built_set(client, attempt, officer)

    submitted = await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)
    assert submitted.status_code == 200, submitted.text
    result = submitted.json()
    assert result["score"] == score
    assert result["max_score"] == 8.0
    assert result["passed"] is passed
    assert result["status"] == "finished"
    assert result["finish_reason"] == "submitted"
    assert result["attempt_id"] == attempt["id"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for item in result["items"]:
        by_type.setdefault(item["type"], []).append(item)
    singles = sorted(by_type["single"], key=lambda i: -i["awarded"])
    assert [(i["outcome"], i["awarded"]) for i in singles] == [("correct", 1.0), ("wrong", 0.0)]
    (multiple,) = by_type["multiple"]
    assert multiple["awarded"] == multiple_awarded
    assert multiple["outcome"] == ("wrong" if mode == "all_or_nothing" else "partial")
    (tf,) = by_type["true_false"]
    assert (tf["outcome"], tf["awarded"], tf["response"]) == ("wrong", 0.0, False)
    (fill,) = by_type["fill_blank"]
    assert (fill["outcome"], fill["awarded"]) == ("partial", 1.0)
    assert fill["response"] == ["１２３３７", "十月一日"]  # stored as typed, marked normalised
    assert sum(i["awarded"] for i in result["items"]) == score

    # Submit is idempotent: the same result again, nothing re-marked.
    again = await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)
    assert again.status_code == 200
    assert again.json() == result

    # The attempt view carries the same result, and saves are now refused.
    view = (await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)).json()
    assert view["status"] == "finished"
    assert view["result"] == result
    late = await save(client, attempt["id"], tf["id"], True, 99, officer)
    assert late.status_code == 409 and late.json()["code"] == "attempt_closed"


async def test_submit_with_nothing_saved_scores_zero(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world, pass_percent=0)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    result = (await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)).json()
    assert result["score"] == 0.0 and result["max_score"] == 8.0
    assert result["passed"] is True  # pass_percent 0
    assert {i["outcome"] for i in result["items"]} == {"blank"}
    finished = parse_time(result["finished_at"])
    assert parse_time(attempt["started_at"]) <= finished <= parse_time(attempt["deadline"])


# ---------------------------------------------------------------- review policies


async def _finished_result(
    client: AsyncClient, world: World, policy: str
) -> tuple[int, dict[str, Any], dict[str, Any], dict[str, str]]:
    quiz_id = await published_quiz(client, world, review_policy=policy)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    await answer_hand_built_set(client, attempt, officer)
    result = await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)
    assert result.status_code == 200, result.text
    return quiz_id, attempt, result.json(), officer


async def test_review_score_only(client: AsyncClient, world: World) -> None:
    _, _, result, _ = await _finished_result(client, world, "score_only")
    assert result["review_policy"] == "score_only"
    assert result["shows_correctness"] is False and result["shows_answers"] is False
    assert result["items"] == []
    assert result["score"] == 2.0 and result["max_score"] == 8.0


async def test_review_correctness(client: AsyncClient, world: World) -> None:
    _, _, result, _ = await _finished_result(client, world, "correctness")
    assert result["shows_correctness"] is True and result["shows_answers"] is False
    assert len(result["items"]) == 5
    for item in result["items"]:
        assert item["outcome"] in ("correct", "wrong", "partial")
        assert item["awarded"] is not None
        assert item["correct_response"] is None
        assert item["explanation"] is None


async def test_review_full(client: AsyncClient, world: World) -> None:
    _, attempt, result, _ = await _finished_result(client, world, "full")
    assert result["shows_correctness"] is True and result["shows_answers"] is True
    for item in result["items"]:
        assert item["explanation"] == f"解析：{item['stem']}"
        served = next(i for i in attempt["items"] if i["id"] == item["id"])
        expected = right_answer(served)
        if item["type"] == "fill_blank":
            expected = [["12337"], ["1月10日", "一月十日"]]
        if item["type"] == "multiple":
            assert sorted(item["correct_response"]) == sorted(expected)
        else:
            assert item["correct_response"] == expected


async def test_review_full_after_close_shows_keys_only_once_closed(client: AsyncClient, world: World) -> None:
    quiz_id, attempt, result, officer = await _finished_result(client, world, "full_after_close")
    assert result["shows_correctness"] is True and result["shows_answers"] is False
    assert all(i["correct_response"] is None and i["explanation"] is None for i in result["items"])
    assert all(i["outcome"] is not None for i in result["items"])
    view = (await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)).json()
    assert view["result"]["shows_answers"] is False
    assert all(i["correct_response"] is None for i in view["result"]["items"])

    admin = await login(client, "admin")
    closed = await client.post(f"{API}/quizzes/{quiz_id}/close", headers=admin)
    assert closed.status_code == 200, closed.text

    view = (await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)).json()
    assert view["result"]["shows_answers"] is True
    assert all(i["explanation"] == f"解析：{i['stem']}" for i in view["result"]["items"])
    assert all(i["correct_response"] is not None for i in view["result"]["items"])
    again = (await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)).json()
    assert again["shows_answers"] is True
    assert again["score"] == result["score"]


# ---------------------------------------------------------------- when a quiz may be started


async def test_attempts_allowed_is_enforced(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world, attempts_allowed=2)
    officer = await login(client, "officer1")
    first = (await start(client, quiz_id, officer)).json()
    await client.post(f"{API}/attempts/{first['id']}/submit", headers=officer)
    second = await start(client, quiz_id, officer)
    assert second.status_code == 201, second.text
    assert second.json()["number"] == 2 and second.json()["id"] != first["id"]
    mine = (await client.get(f"{API}/me/quizzes", headers=officer)).json()
    entry = next(q for q in mine if q["id"] == quiz_id)
    assert entry["state"] == "in_progress" and entry["attempt_in_progress_id"] == second.json()["id"]
    assert entry["attempts_used"] == 2
    await client.post(f"{API}/attempts/{second.json()['id']}/submit", headers=officer)
    third = await start(client, quiz_id, officer)
    assert third.status_code == 409, third.text
    assert third.json()["code"] == "attempts_exhausted"
    mine = (await client.get(f"{API}/me/quizzes", headers=officer)).json()
    entry = next(q for q in mine if q["id"] == quiz_id)
    assert entry["state"] == "finished" and entry["can_start"] is False
    assert entry["last_score"] == 0.0 and entry["best_score"] == 0.0


async def test_my_quizzes_tracks_scores(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world, attempts_allowed=3, pass_percent=50)
    officer = await login(client, "officer1")
    mine = (await client.get(f"{API}/me/quizzes", headers=officer)).json()
    assert [q["id"] for q in mine] == [quiz_id]
    entry = mine[0]
    assert entry["state"] == "open" and entry["can_start"] is True and entry["attempts_used"] == 0
    assert entry["question_count"] == 5 and entry["last_score"] is None and entry["best_score"] is None

    attempt = (await start(client, quiz_id, officer)).json()
    for item in attempt["items"]:
        if item["type"] == "single":
            await saved_ok(client, attempt["id"], item["id"], correct_single(item), 1, officer)
        if item["type"] == "multiple":
            await saved_ok(client, attempt["id"], item["id"], correct_multiple(item), 1, officer)
    await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)  # 5 of 8
    second = (await start(client, quiz_id, officer)).json()
    await client.post(f"{API}/attempts/{second['id']}/submit", headers=officer)  # 0 of 8
    entry = (await client.get(f"{API}/me/quizzes", headers=officer)).json()[0]
    assert entry["state"] == "open" and entry["attempts_used"] == 2
    assert entry["last_score"] == 0.0 and entry["last_passed"] is False
    assert entry["best_score"] == 5.0


async def test_quiz_not_open_yet(client: AsyncClient, world: World) -> None:
    opens = datetime.now(UTC) + timedelta(hours=1)
    quiz_id = await published_quiz(client, world, opens_at=opens.isoformat())
    officer = await login(client, "officer1")
    refused = await start(client, quiz_id, officer)
    assert refused.status_code == 409 and refused.json()["code"] == "quiz_not_open"
    entry = next(
        q for q in (await client.get(f"{API}/me/quizzes", headers=officer)).json() if q["id"] == quiz_id
    )
    assert entry["state"] == "upcoming" and entry["can_start"] is False


async def test_quiz_past_its_closing_time(client: AsyncClient, world: World) -> None:
    now = datetime.now(UTC)
    quiz_id = await published_quiz(
        client,
        world,
        opens_at=(now - timedelta(hours=2)).isoformat(),
        closes_at=(now - timedelta(hours=1)).isoformat(),
    )
    officer = await login(client, "officer1")
    refused = await start(client, quiz_id, officer)
    assert refused.status_code == 409 and refused.json()["code"] == "quiz_closed"
    entry = next(
        q for q in (await client.get(f"{API}/me/quizzes", headers=officer)).json() if q["id"] == quiz_id
    )
    assert entry["state"] == "closed" and entry["can_start"] is False


async def test_quiz_closed_by_admin(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    admin = await login(client, "admin")
    officer = await login(client, "officer1")
    assert (await client.post(f"{API}/quizzes/{quiz_id}/close", headers=admin)).status_code == 200
    refused = await start(client, quiz_id, officer)
    assert refused.status_code == 409 and refused.json()["code"] == "quiz_closed"


async def test_closing_time_caps_the_deadline(client: AsyncClient, world: World) -> None:
    closes = datetime.now(UTC) + timedelta(seconds=120)
    quiz_id = await published_quiz(client, world, time_limit_seconds=3600, closes_at=closes.isoformat())
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    assert parse_time(attempt["deadline"]) == closes


# ---------------------------------------------------------------- the server's clock (save grace 0)


@pytest.fixture
async def strict_app(database_url: str) -> AsyncIterator[FastAPI]:
    await _empty_tables(database_url)
    application = create_app(make_settings(database_url, save_grace_seconds=0))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def strict_client(strict_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=strict_app), base_url="http://test") as http:
        yield http


@pytest.fixture
async def strict_world(strict_app: FastAPI) -> World:
    return await build_fast_world(strict_app)


async def _wait_past(deadline: str, server_time: str) -> None:
    remaining = (parse_time(deadline) - parse_time(server_time)).total_seconds()
    await asyncio.sleep(max(0.0, remaining) + 0.05)


async def test_deadline_closes_saves_and_finishes_on_view(
    strict_app: FastAPI, strict_client: AsyncClient, strict_world: World
) -> None:
    client = strict_client
    quiz_id = await published_quiz(client, strict_world, time_limit_seconds=1, attempts_allowed=2)
    officer1 = await login(client, "officer1")
    officer2 = await login(client, "officer2")
    officer3 = await login(client, "officer3")
    attempt = (await start(client, quiz_id, officer1)).json()
    other = (await start(client, quiz_id, officer2)).json()
    third = (await start(client, quiz_id, officer3)).json()
    assert parse_time(attempt["deadline"]) - parse_time(attempt["started_at"]) == timedelta(seconds=1)
    assert attempt["save_grace_seconds"] == 0
    single = items_of(attempt, "single")[0]
    await saved_ok(client, attempt["id"], single["id"], correct_single(single), 1, officer1)
    (tf,) = items_of(third, "true_false")
    await saved_ok(client, third["id"], tf["id"], True, 1, officer3)

    await _wait_past(third["deadline"], third["server_time"])  # the latest of the three deadlines

    late = await save(client, attempt["id"], single["id"], wrong_single(single), 2, officer1)
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "attempt_closed"

    # Nobody submitted: the next view finishes it from the saved answers, at the deadline.
    view = await client.get(f"{API}/attempts/{attempt['id']}", headers=officer1)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["status"] == "finished"
    assert body["result"]["finish_reason"] == "timeout"
    assert parse_time(body["result"]["finished_at"]) == parse_time(attempt["deadline"])
    assert body["result"]["score"] == 1.0  # the saved answer counts; the late one does not
    stored = next(i for i in body["items"] if i["id"] == single["id"])
    assert stored["response"] == correct_single(single) and stored["seq"] == 1
    row = await db_attempt(strict_app, attempt["id"])
    assert row.finish_reason == "timeout" and row.finished_at == parse_time(attempt["deadline"])
    assert row.score_milli == 1000

    # Submitting afterwards returns the same result; it stays a timeout.
    submitted = (await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer1)).json()
    assert submitted["finish_reason"] == "timeout" and submitted["score"] == 1.0

    # Starting again after the deadline (attempts left) finishes the old attempt and opens number 2.
    restarted = await start(client, quiz_id, officer2)
    assert restarted.status_code == 201, restarted.text
    assert restarted.json()["number"] == 2 and restarted.json()["id"] != other["id"]
    old = await db_attempt(strict_app, other["id"])
    assert old.status == "finished" and old.finish_reason == "timeout"
    assert old.finished_at == parse_time(other["deadline"])
    assert old.score_milli == 0

    # Submitting after the deadline is a timeout at the deadline, from the saved answers.
    result = (await client.post(f"{API}/attempts/{third['id']}/submit", headers=officer3)).json()
    assert result["finish_reason"] == "timeout"
    assert parse_time(result["finished_at"]) == parse_time(third["deadline"])
    assert result["score"] == 1.0
    mine = (await client.get(f"{API}/me/quizzes", headers=officer3)).json()
    assert mine[0]["attempt_in_progress_id"] is None and mine[0]["attempts_used"] == 1
    assert mine[0]["state"] == "open" and mine[0]["last_score"] == 1.0


# ---------------------------------------------------------------- the sweeper


async def test_sweeper_finishes_expired_attempts_from_saved_answers(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    grace = app.state.settings.save_grace_seconds
    assert grace > 5
    heads = {name: await login(client, name) for name in ("officer1", "officer2", "officer3")}
    attempts = {name: (await start(client, quiz_id, h)).json() for name, h in heads.items()}

    expired = attempts["officer1"]
    first, second = items_of(expired, "single")
    await saved_ok(client, expired["id"], first["id"], correct_single(first), 1, heads["officer1"])
    await saved_ok(client, expired["id"], second["id"], correct_single(second), 1, heads["officer1"])
    (multiple,) = items_of(expired, "multiple")
    await saved_ok(client, expired["id"], multiple["id"], correct_multiple(multiple), 4, heads["officer1"])
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=1)
    await set_deadline(app, expired["id"], long_ago)
    # officer3's deadline has passed but the grace period has not: still open, not swept.
    within_grace = now - timedelta(seconds=grace // 4)
    await set_deadline(app, attempts["officer3"]["id"], within_grace)

    assert await sweep_once(app.state.database, app.state.settings) == 1

    row = await db_attempt(app, expired["id"])
    assert row.status == "finished" and row.finish_reason == "timeout"
    assert row.finished_at == long_ago
    assert row.score_milli == 5000 and row.max_score_milli == 8000
    assert row.passed is True
    async with app.state.database.sessionmaker() as session:
        marks = dict(
            (
                await session.execute(
                    select(AttemptItem.id, AttemptItem.awarded_milli).where(
                        AttemptItem.attempt_id == expired["id"]
                    )
                )
            ).all()
        )
    assert marks[first["id"]] == 1000 and marks[multiple["id"]] == 3000
    assert sum(marks.values()) == 5000

    for name in ("officer2", "officer3"):
        live = await db_attempt(app, attempts[name]["id"])
        assert live.status == "in_progress" and live.finished_at is None and live.score_milli is None
    # Within the grace period a save is still accepted.
    (tf,) = items_of(attempts["officer3"], "true_false")
    await saved_ok(client, attempts["officer3"]["id"], tf["id"], True, 1, heads["officer3"])

    # Nothing left to do: a second sweep finishes nothing and changes nothing.
    assert await sweep_once(app.state.database, app.state.settings) == 0
    assert (await db_attempt(app, expired["id"])).finished_at == long_ago

    # The officer sees the swept result.
    view = (await client.get(f"{API}/attempts/{expired['id']}", headers=heads["officer1"])).json()
    assert view["result"]["score"] == 5.0 and view["result"]["finish_reason"] == "timeout"
    (own_tf,) = items_of(expired, "true_false")
    late = await save(client, expired["id"], own_tf["id"], True, 9, heads["officer1"])
    assert late.status_code == 409 and late.json()["code"] == "attempt_closed"
