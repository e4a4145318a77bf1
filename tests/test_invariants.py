"""One test (or a few) per DESIGN.md invariant the quiz flow touches: 1, 2, 3, 4 and 7."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.bank.models import Question
from app.quizzes.models import Attempt, AttemptItem, AttemptResponse, Quiz
from app.quizzes.sweep import sweep_once
from app.units.models import User
from tests.factories import World, login, published_quiz, quiz_body
from tests.test_attempts import (
    API,
    build_fast_world,
    correct_multiple,
    correct_single,
    db_attempt,
    items_of,
    parse_time,
    right_answer,
    save,
    saved_ok,
    set_deadline,
    start,
    wrong_single,
)


@pytest.fixture
async def world(app: FastAPI) -> World:
    return await build_fast_world(app)


# ---------------------------------------------------------------- 1. no keys before the attempt is finished

FORBIDDEN_KEYS = {
    "answer",
    "answers",
    "correct_response",
    "explanation",
    "outcome",
    "awarded",
    "is_correct",
    "key",
}


def walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) in a JSON document, dict keys and list indexes alike."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, (*path, i))


async def _secrets(app: FastAPI) -> tuple[set[str], set[str], set[str]]:
    """(correct option ids, explanation texts, fill-in-the-blank answers) of the whole bank."""
    async with app.state.database.sessionmaker() as session:
        questions = (await session.execute(select(Question))).scalars().all()
    option_ids: set[str] = set()
    explanations = {q.explanation for q in questions}
    blanks: set[str] = set()
    for q in questions:
        if q.type == "single":
            option_ids.add(q.answer)
        elif q.type == "multiple":
            option_ids.update(q.answer)
        elif q.type == "fill_blank":
            blanks.update(alt for alternatives in q.answer for alt in alternatives)
    assert option_ids and explanations and blanks
    return option_ids, explanations, blanks


def leaks(body: Any, option_ids: set[str], explanations: set[str], blanks: set[str]) -> list[str]:
    found = []
    for path, value in walk(body):
        if path and path[-1] in FORBIDDEN_KEYS:
            found.append(f"key {path}")
        if path and path[-1] == "result" and value is not None:
            found.append(f"result before finishing at {path}")
        if not isinstance(value, str):
            continue
        in_response = "response" in path
        is_option_id = len(path) >= 3 and path[-3] == "options" and path[-1] == "id"
        for text in explanations:
            if text and text in value:
                found.append(f"explanation at {path}")
        if not in_response:
            for alt in blanks:
                if alt in value:
                    found.append(f"blank answer {alt!r} at {path}")
            if not is_option_id:
                for oid in option_ids:
                    if oid in value:
                        found.append(f"correct option id at {path}")
    return found


async def test_1_nothing_served_before_finishing_reveals_the_key(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    bodies: list[tuple[str, Any]] = []

    async def keep(label: str, response: Any) -> Any:
        body = response.json()
        bodies.append((label, body))
        return body

    await keep("me", await client.get(f"{API}/me", headers=officer))
    await keep("my quizzes before", await client.get(f"{API}/me/quizzes", headers=officer))
    attempt = await keep("start", await start(client, quiz_id, officer))
    await keep("resume", await start(client, quiz_id, officer))
    aid = attempt["id"]
    for seq, item in enumerate(attempt["items"], start=1):
        response = right_answer(item)
        await keep(f"save {item['type']}", await save(client, aid, item["id"], response, seq, officer))
        # A stale save and a retry answer with the stored state: still nothing about correctness.
        await keep("stale save", await save(client, aid, item["id"], None, 0, officer))
        await keep("retry", await save(client, aid, item["id"], response, seq, officer))
    single = items_of(attempt, "single")[0]
    await keep("bad option", await save(client, aid, single["id"], "no-such-option", 99, officer))
    await keep("bad shape", await save(client, aid, single["id"], ["x"], 99, officer))
    await keep("bad item", await save(client, aid, 10**6, "x", 99, officer))
    await keep("view", await client.get(f"{API}/attempts/{aid}", headers=officer))
    await keep("my quizzes during", await client.get(f"{API}/me/quizzes", headers=officer))

    option_ids, explanations, blanks = await _secrets(app)
    # The scanner itself must find what it is looking for: feed it a leaking body.
    planted = {
        "items": [{"options": [{"id": next(iter(option_ids))}], "hint": next(iter(option_ids))}],
        "note": next(iter(explanations)),
        "answer": 1,
    }
    assert len(leaks(planted, option_ids, explanations, blanks)) == 3

    problems = {
        label: found for label, body in bodies if (found := leaks(body, option_ids, explanations, blanks))
    }
    assert problems == {}
    # What was sent back as the officer's own response is there, so the scan did look at real data.
    view = bodies[-2][1]
    assert any(i["response"] == correct_single(i) for i in view["items"] if i["type"] == "single")


@pytest.mark.parametrize("policy", ["score_only", "correctness", "full_after_close"])
async def test_1_after_finishing_only_what_the_policy_allows(
    app: FastAPI, client: AsyncClient, world: World, policy: str
) -> None:
    quiz_id = await published_quiz(client, world, review_policy=policy)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    for item in items_of(attempt, "single"):
        await saved_ok(client, attempt["id"], item["id"], correct_single(item), 1, officer)
    submitted = (await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)).json()
    viewed = (await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)).json()
    _, explanations, blanks = await _secrets(app)
    for body in (submitted, viewed, (await client.get(f"{API}/me/quizzes", headers=officer)).json()):
        for path, value in walk(body):
            if path and path[-1] in ("correct_response", "explanation"):
                assert value is None, path
            if isinstance(value, str):
                assert not any(text in value for text in explanations), path
                if "response" not in path:
                    assert not any(alt in value for alt in blanks), path
            if policy == "score_only" and path and path[-1] in ("outcome", "awarded"):
                raise AssertionError(f"score_only shows {path}")
    if policy == "score_only":
        assert submitted["items"] == [] and viewed["result"]["items"] == []
    else:
        assert {i["outcome"] for i in submitted["items"]} >= {"correct"}


async def _full_after_close_with_one_finished_one_working(
    client: AsyncClient, world: World, **overrides: Any
) -> tuple[int, dict[str, Any], dict[str, Any], dict[str, str], dict[str, str]]:
    quiz_id = await published_quiz(client, world, review_policy="full_after_close", **overrides)
    done_headers, working_headers = await login(client, "officer1"), await login(client, "officer2")
    done = (await start(client, quiz_id, done_headers)).json()
    working = (await start(client, quiz_id, working_headers)).json()
    finished = await client.post(f"{API}/attempts/{done['id']}/submit", headers=done_headers)
    assert finished.status_code == 200 and finished.json()["shows_answers"] is False
    return quiz_id, done, working, done_headers, working_headers


async def _keys_shown_while_answers_still_accepted(
    client: AsyncClient,
    done: dict[str, Any],
    working: dict[str, Any],
    done_headers: dict[str, str],
    working_headers: dict[str, str],
) -> tuple[bool, int]:
    view = (await client.get(f"{API}/attempts/{done['id']}", headers=done_headers)).json()
    shown = bool(view["result"]["shows_answers"]) and any(
        i["correct_response"] is not None for i in view["result"]["items"]
    )
    single = items_of(working, "single")[0]
    late = await save(client, working["id"], single["id"], correct_single(single), 1, working_headers)
    return shown, late.status_code


async def test_1_closing_a_quiz_does_not_show_keys_to_colleagues_still_answering(
    client: AsyncClient, world: World
) -> None:
    """full_after_close: once an admin closes the quiz, officer1 (finished) may see the key. officer2
    started before the close and is still answering; the key must not be out while officer2 can
    still change answers (either closing ends the attempts in progress, or keys wait for them)."""
    setup = await _full_after_close_with_one_finished_one_working(client, world)
    quiz_id, done, working, done_headers, working_headers = setup
    admin = await login(client, "admin")
    assert (await client.post(f"{API}/quizzes/{quiz_id}/close", headers=admin)).status_code == 200
    shown, save_status = await _keys_shown_while_answers_still_accepted(
        client, done, working, done_headers, working_headers
    )
    assert not (shown and save_status == 200), "key shown while a colleague can still save answers"


async def test_1_keys_wait_for_the_save_grace_after_the_closing_time(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    """closes_at caps every deadline, but saves are accepted for save_grace_seconds after a deadline:
    full_after_close must not show keys during that grace."""
    closes = datetime.now(UTC) + timedelta(seconds=300)  # before the 600 s time limit runs out
    setup = await _full_after_close_with_one_finished_one_working(client, world, closes_at=closes.isoformat())
    quiz_id, done, working, done_headers, working_headers = setup
    assert parse_time(working["deadline"]) == closes
    # The closing time passed a few seconds ago (well inside the grace period).
    just_now = datetime.now(UTC) - timedelta(seconds=app.state.settings.save_grace_seconds / 4)
    async with app.state.database.sessionmaker() as session:
        await session.execute(update(Quiz).where(Quiz.id == quiz_id).values(closes_at=just_now))
        await session.commit()
    await set_deadline(app, working["id"], just_now)
    shown, save_status = await _keys_shown_while_answers_still_accepted(
        client, done, working, done_headers, working_headers
    )
    assert save_status == 200  # the grace period is honoured ...
    assert not shown, "key shown while a colleague can still save answers"  # ... so the key must wait


# ---------------------------------------------------------------- 2. the server owns the clock


async def test_2_server_owns_the_clock(app: FastAPI, client: AsyncClient, world: World) -> None:
    grace = app.state.settings.save_grace_seconds
    quiz_id = await published_quiz(client, world, time_limit_seconds=900)
    officer1, officer2 = await login(client, "officer1"), await login(client, "officer2")
    a1 = (await start(client, quiz_id, officer1)).json()
    a2 = (await start(client, quiz_id, officer2)).json()
    # Fixed at start, from the server's clock; resuming never moves it.
    assert parse_time(a1["deadline"]) - parse_time(a1["started_at"]) == timedelta(seconds=900)
    assert abs(parse_time(a1["started_at"]) - datetime.now(UTC)) < timedelta(seconds=60)
    assert (await start(client, quiz_id, officer1)).json()["deadline"] == a1["deadline"]
    assert a1["save_grace_seconds"] == grace

    # officer1: past the deadline but inside the grace period -> a save still lands.
    now = datetime.now(UTC)
    await set_deadline(app, a1["id"], now - timedelta(seconds=grace / 4))
    single = items_of(a1, "single")[0]
    await saved_ok(client, a1["id"], single["id"], correct_single(single), 1, officer1)
    # officer2: past deadline + grace -> refused, and never stored.
    expired = now - timedelta(seconds=grace + 30)
    await set_deadline(app, a2["id"], expired)
    single2 = items_of(a2, "single")[0]
    refused = await save(client, a2["id"], single2["id"], correct_single(single2), 1, officer2)
    assert refused.status_code == 409 and refused.json()["code"] == "attempt_closed"
    async with app.state.database.sessionmaker() as session:
        stored = (
            (await session.execute(select(AttemptResponse).where(AttemptResponse.attempt_id == a2["id"])))
            .scalars()
            .all()
        )
    assert stored == []

    # No client ever comes back: the sweeper finishes it, at the deadline, not at sweep time.
    assert await sweep_once(app.state.database, app.state.settings) == 1
    row = await db_attempt(app, a2["id"])
    assert row.status == "finished" and row.finish_reason == "timeout" and row.finished_at == expired
    assert (await db_attempt(app, a1["id"])).status == "in_progress"


# ---------------------------------------------------------------- 3. acknowledged answers count


async def test_3_acknowledged_answers_are_counted_and_idempotent(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    aid = attempt["id"]
    first, second = items_of(attempt, "single")
    await saved_ok(client, aid, first["id"], wrong_single(first), 1, officer)
    await saved_ok(client, aid, first["id"], correct_single(first), 2, officer)
    await saved_ok(client, aid, first["id"], correct_single(first), 2, officer)  # a retry
    await saved_ok(client, aid, second["id"], correct_single(second), 10, officer)
    (multiple,) = items_of(attempt, "multiple")
    await saved_ok(client, aid, multiple["id"], correct_multiple(multiple), 3, officer)

    async with app.state.database.sessionmaker() as session:
        rows = (
            (await session.execute(select(AttemptResponse).where(AttemptResponse.attempt_id == aid)))
            .scalars()
            .all()
        )
        assert sorted((r.item_id, r.seq) for r in rows) == sorted(
            [(first["id"], 2), (second["id"], 10), (multiple["id"], 3)]
        )
        # One response row per (attempt, item), enforced by the database itself.
        session.add(
            AttemptResponse(
                attempt_id=aid, item_id=first["id"], response=None, seq=99, saved_at=datetime.now(UTC)
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()

    result = (await client.post(f"{API}/attempts/{aid}/submit", headers=officer)).json()
    assert result["score"] == 5.0
    by_id = {i["id"]: i for i in result["items"]}
    assert by_id[first["id"]]["response"] == correct_single(first)
    assert by_id[second["id"]]["response"] == correct_single(second)
    assert sorted(by_id[multiple["id"]]["response"]) == sorted(correct_multiple(multiple))
    again = (await client.post(f"{API}/attempts/{aid}/submit", headers=officer)).json()
    assert again == result
    row = await db_attempt(app, aid)
    assert row.score_milli == 5000


# ---------------------------------------------------------------- 4. papers are reproducible


async def test_4_paper_is_reproducible_and_tampering_is_caught(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    admin = await login(client, "admin")
    attempt = (await start(client, quiz_id, officer)).json()
    other = (await start(client, quiz_id, await login(client, "officer3"))).json()

    check = await client.get(f"{API}/attempts/{attempt['id']}/paper-check", headers=admin)
    assert check.status_code == 200, check.text
    body = check.json()
    assert body["matches"] is True and body["options_match"] is True
    assert body["recorded"] == body["recomputed"]
    row = await db_attempt(app, attempt["id"])
    assert body["seed"] == row.seed and body["draw_index"] == row.draw_index == 0
    assert (await db_attempt(app, other["id"])).draw_index == 1
    async with app.state.database.sessionmaker() as session:
        served = (
            await session.execute(
                select(AttemptItem.question_id, AttemptItem.options)
                .where(AttemptItem.attempt_id == attempt["id"])
                .order_by(AttemptItem.position)
            )
        ).all()
    assert body["recorded"] == [qid for qid, _ in served]
    assert [i["stem"] for i in attempt["items"]]  # served in that recorded order
    # The rules' frozen pools drew one question per type as asked (two singles).
    assert len(set(body["recorded"])) == 5

    # Finishing changes nothing about the paper.
    await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)
    assert (await client.get(f"{API}/attempts/{attempt['id']}/paper-check", headers=admin)).json()["matches"]

    async with app.state.database.sessionmaker() as session:
        await session.execute(update(Attempt).where(Attempt.id == attempt["id"]).values(seed="0" * 32))
        await session.commit()
    tampered = (await client.get(f"{API}/attempts/{attempt['id']}/paper-check", headers=admin)).json()
    assert tampered["matches"] is False

    async with app.state.database.sessionmaker() as session:
        await session.execute(
            update(Attempt).where(Attempt.id == attempt["id"]).values(seed=row.seed, draw_index=5)
        )
        await session.commit()
    moved = (await client.get(f"{API}/attempts/{attempt['id']}/paper-check", headers=admin)).json()
    assert moved["matches"] is False
    assert moved["recomputed"] != moved["recorded"]


async def test_4_options_are_shuffled_per_attempt(client: AsyncClient, world: World) -> None:
    body = quiz_body(world, rules=[{"question_type": "single", "count": 6}])
    admin = await login(client, "admin")
    quiz_id = (await client.post(f"{API}/quizzes", json=body, headers=admin)).json()["id"]
    assert (await client.post(f"{API}/quizzes/{quiz_id}/publish", headers=admin)).status_code == 200
    positions = []
    for name in ("officer1", "officer2"):
        attempt = (await start(client, quiz_id, await login(client, name))).json()
        for item in attempt["items"]:
            positions.append([o["id"] for o in item["options"]].index(correct_single(item)))
    # 12 items; with honest shuffling all correct options in one place has odds 4 * 4**-12.
    assert len(set(positions)) > 1


# ---------------------------------------------------------------- 7. every request is scoped


async def test_7_another_officers_attempt_is_not_found(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    owner, intruder = await login(client, "officer1"), await login(client, "officer2")
    attempt = (await start(client, quiz_id, owner)).json()
    item = items_of(attempt, "single")[0]
    # The owner saves first, so the attempt's shape is cached: the check must not rely on a cache miss.
    await saved_ok(client, attempt["id"], item["id"], correct_single(item), 1, owner)
    for response in (
        await client.get(f"{API}/attempts/{attempt['id']}", headers=intruder),
        await save(client, attempt["id"], item["id"], wrong_single(item), 2, intruder),
        await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=intruder),
        await client.get(f"{API}/attempts/999999", headers=owner),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "attempt_not_found"
    # Nothing the intruder did changed the attempt.
    view = (await client.get(f"{API}/attempts/{attempt['id']}", headers=owner)).json()
    assert view["status"] == "in_progress"
    assert next(i for i in view["items"] if i["id"] == item["id"])["response"] == correct_single(item)


async def test_7_officers_outside_the_target_units_cannot_see_the_quiz(
    client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)  # aimed at 甲县 and its sub-units
    admin = await login(client, "admin")
    draft = (await client.post(f"{API}/quizzes", json=quiz_body(world), headers=admin)).json()["id"]
    outsider = await login(client, "outsider")
    assert (await client.get(f"{API}/me/quizzes", headers=outsider)).json() == []
    for qid in (quiz_id, draft, 999999):
        refused = await start(client, qid, outsider)
        assert refused.status_code == 404 and refused.json()["code"] == "quiz_not_found"
    # Inside the subtree: the court's officer and the county's own officer; a draft stays hidden.
    for name in ("officer1", "officer3"):
        headers = await login(client, name)
        assert [q["id"] for q in (await client.get(f"{API}/me/quizzes", headers=headers)).json()] == [quiz_id]
        hidden = await start(client, draft, headers)
        assert hidden.status_code == 404 and hidden.json()["code"] == "quiz_not_found"


async def test_7_include_subunits_false_limits_to_the_unit_itself(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(
        client, world, targets=[{"unit_id": world.county.id, "include_subunits": False}]
    )
    county_officer, court_officer = await login(client, "officer3"), await login(client, "officer1")
    assert (await start(client, quiz_id, county_officer)).status_code == 201
    refused = await start(client, quiz_id, court_officer)
    assert refused.status_code == 404 and refused.json()["code"] == "quiz_not_found"


async def test_7_officers_are_refused_staff_endpoints(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    body = quiz_body(world)
    for method, url, payload in (
        ("GET", f"{API}/quizzes", None),
        ("GET", f"{API}/quizzes/{quiz_id}", None),
        ("GET", f"{API}/quizzes/{quiz_id}/attempts", None),
        ("GET", f"{API}/attempts/{attempt['id']}/paper-check", None),
        ("POST", f"{API}/quizzes", body),
        ("PUT", f"{API}/quizzes/{quiz_id}", body),
        ("POST", f"{API}/quizzes/{quiz_id}/publish", None),
        ("POST", f"{API}/quizzes/{quiz_id}/close", None),
    ):
        response = await client.request(method, url, json=payload, headers=officer)
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["code"] == "role_forbidden"


async def test_7_requests_without_a_token_are_refused(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    for method, url in (
        ("GET", f"{API}/me/quizzes"),
        ("POST", f"{API}/quizzes/{quiz_id}/attempts"),
        ("GET", f"{API}/attempts/1"),
        ("PUT", f"{API}/attempts/1/items/1"),
        ("POST", f"{API}/attempts/1/submit"),
        ("GET", f"{API}/quizzes"),
        ("GET", f"{API}/attempts/1/paper-check"),
    ):
        response = await client.request(method, url, json={"response": None, "seq": 1})
        assert response.status_code == 401, (method, url, response.text)
        assert response.json()["code"] == "not_authenticated"


async def _attempts_by_everyone(client: AsyncClient, quiz_id: int, names: tuple[str, ...]) -> dict[str, int]:
    ids = {}
    for name in names:
        started = await start(client, quiz_id, await login(client, name))
        assert started.status_code == 201, (name, started.text)
        ids[name] = started.json()["id"]
    return ids


async def test_7_unit_admins_see_only_their_subtree(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)  # aimed at 甲县
    ids = await _attempts_by_everyone(client, quiz_id, ("officer1", "officer3"))
    admin, unitadmin, otheradmin, inspector = [
        await login(client, n) for n in ("admin", "unitadmin", "otheradmin", "inspector")
    ]
    listed = await client.get(f"{API}/quizzes/{quiz_id}/attempts", headers=unitadmin)
    assert listed.status_code == 200, listed.text
    assert sorted(a["id"] for a in listed.json()) == sorted(ids.values())
    assert sorted(
        a["id"] for a in (await client.get(f"{API}/quizzes/{quiz_id}/attempts", headers=admin)).json()
    ) == (sorted(ids.values()))
    other = await client.get(f"{API}/quizzes/{quiz_id}/attempts", headers=otheradmin)
    assert other.status_code == 404 or other.json() == [], other.text
    assert quiz_id not in [q["id"] for q in (await client.get(f"{API}/quizzes", headers=otheradmin)).json()]
    assert quiz_id in [q["id"] for q in (await client.get(f"{API}/quizzes", headers=unitadmin)).json()]
    # Paper checks follow the same scope.
    for headers, status in ((unitadmin, 200), (inspector, 200), (admin, 200), (otheradmin, 404)):
        check = await client.get(f"{API}/attempts/{ids['officer1']}/paper-check", headers=headers)
        assert check.status_code == status, check.text
        if status == 404:
            assert check.json()["code"] == "attempt_not_found"


async def test_7_unit_admin_follows_a_city_wide_quiz_in_their_subtree(
    client: AsyncClient, world: World
) -> None:
    """A quiz aimed at the whole city covers 甲县 too: its unit admin follows 甲县's attempts
    (and only those), 乙县's admin only 乙县's."""
    quiz_id = await published_quiz(
        client, world, targets=[{"unit_id": world.city.id, "include_subunits": True}]
    )
    ids = await _attempts_by_everyone(client, quiz_id, ("officer1", "officer3", "outsider"))
    unitadmin, otheradmin = await login(client, "unitadmin"), await login(client, "otheradmin")
    assert quiz_id in [q["id"] for q in (await client.get(f"{API}/quizzes", headers=unitadmin)).json()]
    mine = await client.get(f"{API}/quizzes/{quiz_id}/attempts", headers=unitadmin)
    assert mine.status_code == 200, mine.text
    assert sorted(a["id"] for a in mine.json()) == sorted([ids["officer1"], ids["officer3"]])
    theirs = await client.get(f"{API}/quizzes/{quiz_id}/attempts", headers=otheradmin)
    assert theirs.status_code == 200, theirs.text
    assert [a["id"] for a in theirs.json()] == [ids["outsider"]]


async def test_7_saves_refuse_ended_logins(app: FastAPI, client: AsyncClient, world: World) -> None:
    """The answer save checks the login itself (it skips the usual dependency): a revoked login, a
    disabled account or a pending password change is refused, and nothing is stored."""
    quiz_id = await published_quiz(client, world)
    heads = {name: await login(client, name) for name in ("officer1", "officer2", "officer3")}
    attempts = {name: (await start(client, quiz_id, h)).json() for name, h in heads.items()}
    singles = {name: items_of(a, "single")[0] for name, a in attempts.items()}
    for name in heads:  # the attempt's shape is now cached: the checks cannot lean on a cache miss
        await saved_ok(client, attempts[name]["id"], singles[name]["id"], None, 1, heads[name])

    assert (await client.post(f"{API}/auth/logout", headers=heads["officer1"])).status_code == 204
    async with app.state.database.sessionmaker() as session:
        await session.execute(update(User).where(User.id == world.users["officer2"]).values(is_active=False))
        await session.execute(
            update(User).where(User.id == world.users["officer3"]).values(must_change_password=True)
        )
        await session.commit()
    expected = {
        "officer1": (401, "session_revoked"),
        "officer2": (401, "invalid_token"),
        "officer3": (403, "password_change_required"),
    }
    for name, (status, code) in expected.items():
        item = singles[name]
        refused = await save(client, attempts[name]["id"], item["id"], correct_single(item), 2, heads[name])
        assert (refused.status_code, refused.json()["code"]) == (status, code), (name, refused.text)
        rows = await _response_rows(app, attempts[name]["id"])
        assert [(r.seq, r.response) for r in rows] == [(1, None)], name


async def _response_rows(app: FastAPI, attempt_id: int) -> list[AttemptResponse]:
    async with app.state.database.sessionmaker() as session:
        stmt = select(AttemptResponse).where(AttemptResponse.attempt_id == attempt_id)
        return list((await session.execute(stmt)).scalars().all())


async def test_7_bad_input(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    other = (await start(client, quiz_id, await login(client, "officer2"))).json()
    aid = attempt["id"]
    single = items_of(attempt, "single")[0]
    (multiple,) = items_of(attempt, "multiple")
    (tf,) = items_of(attempt, "true_false")
    (fill,) = items_of(attempt, "fill_blank")

    foreign_item = other["items"][0]["id"]
    for item_id in (foreign_item, 10**7):
        missing = await save(client, aid, item_id, None, 1, officer)
        assert missing.status_code == 404 and missing.json()["code"] == "item_not_found"

    # An option of another question (even the same type) is unknown here.
    other_single = next(i for i in items_of(other, "single") if i["stem"] != single["stem"])
    for item, response, code in (
        (single, "nope", "unknown_option"),
        (single, other_single["options"][0]["id"], "unknown_option"),
        (single, [single["options"][0]["id"]], "response_not_option_id"),
        (multiple, [multiple["options"][0]["id"], "nope"], "unknown_option"),
        (multiple, [multiple["options"][0]["id"]] * 2, "duplicate_option"),
        (multiple, multiple["options"][0]["id"], "response_not_option_list"),
        (tf, "true", "response_not_boolean"),
        (fill, ["12337"], "wrong_blank_count"),
        (fill, "12337", "response_not_text_list"),
        (fill, ["x" * 501, ""], "blank_too_long"),
    ):
        refused = await save(client, aid, item["id"], response, 1, officer)
        assert refused.status_code == 422, (response, refused.text)
        assert refused.json()["code"] == code

    url = f"{API}/attempts/{aid}/items/{single['id']}"
    payloads: list[Any] = [
        {"response": "x"},
        {"response": None, "seq": -1},
        {"response": None, "seq": "one"},
        {"response": None, "seq": 2**53 + 1},
        [],
        "text",
    ]
    for payload in payloads:
        malformed = await client.put(url, json=payload, headers=officer)
        assert malformed.status_code == 422, (payload, malformed.text)
        assert malformed.json()["code"] == "validation_error"
    not_json = await client.put(
        url, content=b"{not json", headers={**officer, "content-type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json()["code"] == "validation_error"
    bad_path = await client.get(f"{API}/attempts/abc", headers=officer)
    assert bad_path.status_code == 422 and bad_path.json()["code"] == "validation_error"

    # None of the refused saves was stored.
    view = (await client.get(f"{API}/attempts/{aid}", headers=officer)).json()
    assert all(i["response"] is None and i["seq"] is None for i in view["items"])


async def test_6_editing_a_question_never_changes_a_finished_attempt(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world, pass_percent=50)
    officer, admin = await login(client, "officer1"), await login(client, "admin")
    attempt = (await start(client, quiz_id, officer)).json()
    for item in items_of(attempt, "single"):
        await saved_ok(client, attempt["id"], item["id"], correct_single(item), 1, officer)
    (multiple,) = items_of(attempt, "multiple")
    await saved_ok(client, attempt["id"], multiple["id"], correct_multiple(multiple), 1, officer)
    result = (await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)).json()
    before = (await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)).json()
    assert result["score"] == 5.0

    async with app.state.database.sessionmaker() as session:
        served = (
            (
                await session.execute(
                    select(AttemptItem.question_id).where(AttemptItem.attempt_id == attempt["id"])
                )
            )
            .scalars()
            .all()
        )
        for question in (await session.execute(select(Question).where(Question.id.in_(served)))).scalars():
            question.stem = "改过的题干"
            question.explanation = "改过的解析"
            question.options = [{"id": o["id"], "text": "改过的选项"} for o in reversed(question.options)]
            if question.type == "single":
                question.answer = question.options[0]["id"]
            question.points = 9
            question.version += 1
        await session.commit()

    after = (await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)).json()
    before.pop("server_time")
    after.pop("server_time")
    assert after == before
    assert (await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)).json() == result
    check = (await client.get(f"{API}/attempts/{attempt['id']}/paper-check", headers=admin)).json()
    assert check["recorded"] == check["recomputed"] and check["matches"] is True
