"""Practice, weak-areas practice and the wrong-answer book through the API, on both databases."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from app.bank.models import Question
from app.practice.models import PracticeAnswer, PracticeItem, PracticeSession, WrongBookEntry
from app.quizzes.models import AttemptItem
from tests.factories import World, login, published_quiz
from tests.test_attempts import (
    API,
    ITEM_KEYS,
    build_fast_world,
    correct_single,
    items_of,
    parse_time,
    right_answer,
    saved_ok,
    start,
    wrong_single,
)
from tests.test_invariants import _secrets, leaks, walk

PRACTICE_ITEM_KEYS = ITEM_KEYS | {"feedback"}
RESULT_KEYS = {"item_id", "outcome", "awarded", "correct_response", "explanation"}
BOOK_KEYS = {
    "question_id",
    "type",
    "stem",
    "options",
    "correct_response",
    "explanation",
    "knowledge_area",
    "wrong_count",
    "right_streak",
    "last_wrong_at",
    "due_at",
}


@pytest.fixture
async def world(app: FastAPI) -> World:
    return await build_fast_world(app)


def wrong_answer(item: dict[str, Any]) -> Any:
    if item["type"] == "single":
        return wrong_single(item)
    if item["type"] == "multiple":
        return [next(o["id"] for o in item["options"] if o["text"].startswith("历史"))]
    if item["type"] == "true_false":
        return False
    return ["错", "错"]


async def create(
    client: AsyncClient, headers: dict[str, str], mode: str, area_id: int | None = None, count: int = 10
) -> Response:
    body: dict[str, Any] = {"mode": mode, "count": count}
    if area_id is not None:
        body["knowledge_area_id"] = area_id
    return await client.post(f"{API}/practice/sessions", json=body, headers=headers)


async def created(
    client: AsyncClient, headers: dict[str, str], mode: str, area_id: int | None = None, count: int = 10
) -> dict[str, Any]:
    response = await create(client, headers, mode, area_id, count)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def answer(
    client: AsyncClient, headers: dict[str, str], session_id: int, item_id: int, response: Any
) -> Response:
    return await client.post(
        f"{API}/practice/sessions/{session_id}/items/{item_id}/answer",
        json={"response": response},
        headers=headers,
    )


async def answered(
    client: AsyncClient, headers: dict[str, str], session_id: int, item_id: int, response: Any
) -> dict[str, Any]:
    reply = await answer(client, headers, session_id, item_id, response)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def book(client: AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    reply = await client.get(f"{API}/me/wrong-book", headers=headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def book_rows(app: FastAPI, user_id: int) -> dict[int, WrongBookEntry]:
    async with app.state.database.sessionmaker() as session:
        rows = await session.execute(select(WrongBookEntry).where(WrongBookEntry.user_id == user_id))
        return {r.question_id: r for r in rows.scalars()}


async def question_of(app: FastAPI, model: type[PracticeItem] | type[AttemptItem], item_id: int) -> int:
    async with app.state.database.sessionmaker() as session:
        item: PracticeItem | AttemptItem | None = await session.get(model, item_id)
        assert item is not None and item.question_id is not None
        question_id: int = item.question_id
        return question_id


def near_now(value: str, delta: timedelta = timedelta(0)) -> bool:
    return abs(parse_time(value) - (datetime.now(UTC) + delta)) < timedelta(minutes=1)


# ---------------------------------------------------------------- areas


async def test_areas_list_questions_then_mastery_from_practice(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    reply = await client.get(f"{API}/practice/areas", headers=officer)
    assert reply.status_code == 200, reply.text
    areas = reply.json()
    assert [(a["full_name"], a["depth"], a["questions"], a["answered"], a["mastery"]) for a in areas] == [
        ("警示教育", 0, 12, 0, None),
        ("警示教育/三个规定", 1, 6, 0, None),
        ("政治教育", 0, 12, 0, None),
    ]
    assert set(areas[0]) == {"id", "name", "full_name", "depth", "questions", "answered", "mastery"}
    assert areas[1]["name"] == "三个规定" and areas[1]["id"] == world.areas["rules"].id

    # Two single-choice questions (1 point each): one right, one wrong.
    practice = await created(client, officer, "area", world.areas["rules"].id, count=2)
    first, second = practice["items"]
    await answered(client, officer, practice["id"], first["id"], correct_single(first))
    await answered(client, officer, practice["id"], second["id"], wrong_single(second))
    # One multiple choice (3 points) right.
    multiple = await created(client, officer, "area", world.areas["warning"].id, count=12)
    item = next(i for i in multiple["items"] if i["type"] == "multiple")
    await answered(client, officer, multiple["id"], item["id"], right_answer(item))

    areas = {a["full_name"]: a for a in (await client.get(f"{API}/practice/areas", headers=officer)).json()}
    assert (areas["警示教育/三个规定"]["answered"], areas["警示教育/三个规定"]["mastery"]) == (2, 0.5)
    # The parent counts its sub-area: (1 + 0 + 3) / (1 + 1 + 3).
    assert (areas["警示教育"]["answered"], areas["警示教育"]["mastery"]) == (3, pytest.approx(0.8))
    assert (areas["政治教育"]["answered"], areas["政治教育"]["mastery"]) == (0, None)

    # Only the caller's own answers count.
    other = await login(client, "officer2")
    assert all(
        a["mastery"] is None for a in (await client.get(f"{API}/practice/areas", headers=other)).json()
    )


async def test_areas_leave_out_areas_without_active_questions(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    async with app.state.database.sessionmaker() as session:
        for question in (await session.execute(select(Question))).scalars():
            if question.knowledge_area_id == world.areas["rules"].id:
                question.status = "retired"
        await session.commit()
    officer = await login(client, "officer1")
    areas = (await client.get(f"{API}/practice/areas", headers=officer)).json()
    assert [(a["full_name"], a["questions"]) for a in areas] == [("警示教育", 6), ("政治教育", 12)]
    assert (await client.get(f"{API}/practice/areas")).status_code == 401


# ---------------------------------------------------------------- sessions and answers


async def test_area_session_is_stored_and_served_without_keys(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    reply = await create(client, officer, "area", world.areas["warning"].id, count=5)
    assert reply.status_code == 201, reply.text
    practice = reply.json()
    assert set(practice) == {"id", "mode", "items"} and practice["mode"] == "area"
    assert [i["position"] for i in practice["items"]] == [1, 2, 3, 4, 5]
    for item in practice["items"]:
        assert set(item) == PRACTICE_ITEM_KEYS
        assert item["type"] in ("single", "multiple")  # the area and its sub-area only
        assert item["response"] is None and item["seq"] is None and item["feedback"] is None
        assert len(item["options"]) == 4 and item["blanks"] == 0
    viewed = await client.get(f"{API}/practice/sessions/{practice['id']}", headers=officer)
    assert viewed.status_code == 200 and viewed.json() == practice

    async with app.state.database.sessionmaker() as session:
        stored = await session.get(PracticeSession, practice["id"])
        assert stored is not None
        assert (stored.user_id, stored.mode, stored.knowledge_area_id) == (
            world.users["officer1"],
            "area",
            world.areas["warning"].id,
        )
        items = (
            (await session.execute(select(PracticeItem).where(PracticeItem.session_id == stored.id)))
            .scalars()
            .all()
        )
        assert len(items) == 5 and len({i.question_id for i in items}) == 5
        for item in items:
            question = await session.get(Question, item.question_id)
            assert question is not None
            assert (item.stem, item.answer, item.explanation, item.points, item.question_version) == (
                question.stem,
                question.answer,
                question.explanation,
                question.points,
                question.version,
            )
            # The options as served: the question's own, shuffled.
            assert sorted(o["id"] for o in item.options) == sorted(o["id"] for o in question.options)


async def test_answer_gives_feedback_once_and_is_idempotent(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    practice = await created(client, officer, "area", world.areas["rules"].id, count=3)
    item = practice["items"][0]
    result = await answered(client, officer, practice["id"], item["id"], wrong_single(item))
    qid = await question_of(app, PracticeItem, item["id"])
    async with app.state.database.sessionmaker() as session:
        question = await session.get(Question, qid)
        assert question is not None
    assert set(result) == RESULT_KEYS
    assert result == {
        "item_id": item["id"],
        "outcome": "wrong",
        "awarded": 0.0,
        "correct_response": question.answer,
        "explanation": question.explanation,
    }
    assert question.answer == correct_single(item)

    # Answering again, even rightly, returns the first result unchanged.
    again = await answered(client, officer, practice["id"], item["id"], correct_single(item))
    assert again == result
    async with app.state.database.sessionmaker() as session:
        rows = (
            (await session.execute(select(PracticeAnswer).where(PracticeAnswer.item_id == item["id"])))
            .scalars()
            .all()
        )
    assert [(r.response, r.outcome, r.awarded_milli) for r in rows] == [(wrong_single(item), "wrong", 0)]

    # A right answer to the next item.
    other = practice["items"][1]
    right = await answered(client, officer, practice["id"], other["id"], correct_single(other))
    assert (right["outcome"], right["awarded"]) == ("correct", 1.0)

    view = (await client.get(f"{API}/practice/sessions/{practice['id']}", headers=officer)).json()
    by_id = {i["id"]: i for i in view["items"]}
    assert by_id[item["id"]]["response"] == wrong_single(item) and by_id[item["id"]]["feedback"] == result
    assert by_id[other["id"]]["feedback"] == right
    unanswered = by_id[practice["items"][2]["id"]]
    assert unanswered["feedback"] is None and unanswered["response"] is None


async def test_multiple_choice_is_all_or_nothing_and_blank_counts(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    practice = await created(client, officer, "area", world.areas["warning"].id, count=12)
    multiples = items_of(practice, "multiple")
    partial = await answered(
        client, officer, practice["id"], multiples[0]["id"], right_answer(multiples[0])[:2]
    )
    assert (partial["outcome"], partial["awarded"]) == ("wrong", 0.0)
    blank = await answered(client, officer, practice["id"], multiples[1]["id"], None)
    assert (blank["outcome"], blank["awarded"]) == ("blank", 0.0)
    full = await answered(client, officer, practice["id"], multiples[2]["id"], right_answer(multiples[2]))
    assert (full["outcome"], full["awarded"]) == ("correct", 3.0)
    rows = await book_rows(app, world.users["officer1"])
    assert set(rows) == {
        await question_of(app, PracticeItem, multiples[0]["id"]),
        await question_of(app, PracticeItem, multiples[1]["id"]),
    }


async def test_fill_blank_partial_enters_the_book(app: FastAPI, client: AsyncClient, world: World) -> None:
    officer = await login(client, "officer1")
    practice = await created(client, officer, "area", world.areas["politics"].id, count=12)
    fill = items_of(practice, "fill_blank")[0]
    assert fill["blanks"] == 2
    result = await answered(client, officer, practice["id"], fill["id"], ["１２３３７", "十月一日"])
    assert (result["outcome"], result["awarded"]) == ("partial", 1.0)
    assert result["correct_response"] == [["12337"], ["1月10日", "一月十日"]]
    entry = (await book(client, officer))["items"]
    assert [e["question_id"] for e in entry] == [await question_of(app, PracticeItem, fill["id"])]


async def test_bad_answers_are_refused_and_nothing_is_stored(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    practice = await created(client, officer, "area", world.areas["politics"].id, count=12)
    sid = practice["id"]
    tf = items_of(practice, "true_false")[0]
    fill = items_of(practice, "fill_blank")[0]
    cases = [
        (tf["id"], "yes", 422, "response_not_boolean"),
        (fill["id"], ["only one"], 422, "wrong_blank_count"),
        (fill["id"], "text", 422, "response_not_text_list"),
        (10**6, True, 404, "practice_item_not_found"),
    ]
    for item_id, response, status, code in cases:
        reply = await answer(client, officer, sid, item_id, response)
        assert (reply.status_code, reply.json()["code"]) == (status, code), reply.text
    single_session = await created(client, officer, "area", world.areas["rules"].id, count=1)
    single = single_session["items"][0]
    for response, code in (("no-such-option", "unknown_option"), (["x"], "response_not_option_id")):
        reply = await answer(client, officer, single_session["id"], single["id"], response)
        assert (reply.status_code, reply.json()["code"]) == (422, code)
    # An item of another session is not part of this one.
    reply = await answer(client, officer, sid, single["id"], correct_single(single))
    assert (reply.status_code, reply.json()["code"]) == (404, "practice_item_not_found")
    async with app.state.database.sessionmaker() as session:
        assert (await session.execute(select(PracticeAnswer))).first() is None
    assert await book_rows(app, world.users["officer1"]) == {}


async def test_session_requests_are_checked(app: FastAPI, client: AsyncClient, world: World) -> None:
    officer = await login(client, "officer1")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"mode": "area"}, "validation_error"),
        ({"mode": "area", "knowledge_area_id": 10**6}, "knowledge_area_not_found"),
        ({"mode": "weak", "knowledge_area_id": 10**6}, "knowledge_area_not_found"),
        ({"mode": "wrong_book"}, "no_practice_questions"),  # the book is empty
        ({"mode": "area", "knowledge_area_id": world.areas["rules"].id, "count": 0}, "validation_error"),
        ({"mode": "area", "knowledge_area_id": world.areas["rules"].id, "count": 51}, "validation_error"),
        ({"mode": "everything"}, "validation_error"),
    ]
    for body, code in cases:
        reply = await client.post(f"{API}/practice/sessions", json=body, headers=officer)
        assert (reply.status_code, reply.json()["code"]) == (422, code), (body, reply.text)
    # An area whose questions are all retired has nothing to practise.
    async with app.state.database.sessionmaker() as session:
        for question in (await session.execute(select(Question))).scalars():
            if question.knowledge_area_id == world.areas["rules"].id:
                question.status = "retired"
        await session.commit()
    reply = await create(client, officer, "area", world.areas["rules"].id)
    assert (reply.status_code, reply.json()["code"]) == (422, "no_practice_questions")
    # Fewer questions than asked for: all of them, no repeats.
    practice = await created(client, officer, "area", world.areas["warning"].id, count=50)
    assert len(practice["items"]) == 6 and {i["type"] for i in practice["items"]} == {"multiple"}
    async with app.state.database.sessionmaker() as session:
        assert len((await session.execute(select(PracticeSession))).all()) == 1


async def test_sessions_are_private(app: FastAPI, client: AsyncClient, world: World) -> None:
    owner = await login(client, "officer1")
    practice = await created(client, owner, "area", world.areas["rules"].id, count=2)
    item = practice["items"][0]
    await answered(client, owner, practice["id"], item["id"], wrong_single(item))
    for username in ("officer2", "outsider", "unitadmin", "admin"):
        other = await login(client, username)
        viewed = await client.get(f"{API}/practice/sessions/{practice['id']}", headers=other)
        assert (viewed.status_code, viewed.json()["code"]) == (404, "practice_session_not_found")
        replied = await answer(client, other, practice["id"], practice["items"][1]["id"], True)
        assert (replied.status_code, replied.json()["code"]) == (404, "practice_session_not_found")
        again = await answer(client, other, practice["id"], item["id"], correct_single(item))
        assert again.status_code == 404
        assert await book(client, other) == {"items": [], "total": 0}
    missing = await client.get(f"{API}/practice/sessions/{10**6}", headers=owner)
    assert (missing.status_code, missing.json()["code"]) == (404, "practice_session_not_found")
    for method, path in (
        ("GET", f"/practice/sessions/{practice['id']}"),
        ("POST", "/practice/sessions"),
        ("POST", f"/practice/sessions/{practice['id']}/items/{item['id']}/answer"),
        ("GET", "/me/wrong-book"),
    ):
        assert (await client.request(method, f"{API}{path}", json={})).status_code == 401
    # The owner's state is untouched by the others.
    rows = await book_rows(app, world.users["officer1"])
    assert [(r.wrong_count, r.right_streak) for r in rows.values()] == [(1, 0)]
    assert await book_rows(app, world.users["officer2"]) == {}


async def test_items_are_snapshots(app: FastAPI, client: AsyncClient, world: World) -> None:
    officer = await login(client, "officer1")
    practice = await created(client, officer, "area", world.areas["rules"].id, count=1)
    item = practice["items"][0]
    qid = await question_of(app, PracticeItem, item["id"])
    admin = await login(client, "admin")
    edited = await client.patch(
        f"{API}/questions/{qid}", json={"stem": "改过的题干", "explanation": "改过的解析"}, headers=admin
    )
    assert edited.status_code == 200, edited.text
    view = (await client.get(f"{API}/practice/sessions/{practice['id']}", headers=officer)).json()
    assert view["items"][0]["stem"] == item["stem"] != "改过的题干"
    result = await answered(client, officer, practice["id"], item["id"], correct_single(item))
    assert result["explanation"].startswith("解析：") and result["outcome"] == "correct"
    # A question that only practice used can still be deleted: the snapshot stays.
    deleted = await client.delete(f"{API}/questions/{qid}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    view = (await client.get(f"{API}/practice/sessions/{practice['id']}", headers=officer)).json()
    assert view["items"][0]["feedback"] == result


# ---------------------------------------------------------------- invariant 1


async def test_nothing_before_answering_reveals_the_key(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    bodies: list[tuple[str, Any]] = []

    async def keep(label: str, response: Response) -> Any:
        body = response.json()
        bodies.append((label, body))
        return body

    await keep("areas", await client.get(f"{API}/practice/areas", headers=officer))
    area = await keep("area", await create(client, officer, "area", world.areas["warning"].id, count=20))
    await keep("area view", await client.get(f"{API}/practice/sessions/{area['id']}", headers=officer))
    for area_key in ("politics", "rules"):
        politics = await keep(
            area_key, await create(client, officer, "area", world.areas[area_key].id, count=50)
        )
        await keep(
            f"{area_key} view", await client.get(f"{API}/practice/sessions/{politics['id']}", headers=officer)
        )
    weak = await keep("weak", await create(client, officer, "weak", count=50))
    bad = area["items"][0]
    await keep("bad option", await answer(client, officer, area["id"], bad["id"], "no-such-option"))
    await keep("bad item", await answer(client, officer, area["id"], 10**6, "x"))
    await keep("empty book", await create(client, officer, "wrong_book"))
    await keep("book", await client.get(f"{API}/me/wrong-book", headers=officer))
    assert len(weak["items"]) == 24

    option_ids, explanations, blanks = await _secrets(app)
    problems = {
        label: found for label, body in bodies if (found := leaks(body, option_ids, explanations, blanks))
    }
    assert problems == {}

    # After answering one item, only that item carries its key.
    result = await answered(client, officer, area["id"], bad["id"], wrong_answer(bad))
    assert result["explanation"] in explanations
    view = (await client.get(f"{API}/practice/sessions/{area['id']}", headers=officer)).json()
    others = [i for i in view["items"] if i["id"] != bad["id"]]
    assert leaks({"items": others}, option_ids, explanations, blanks) == []
    answered_item = next(i for i in view["items"] if i["id"] == bad["id"])
    assert answered_item["feedback"] == result
    # Every item of every session kept the quiz item shape, feedback null.
    for label, body in bodies:
        for path, value in walk(body):
            if path and path[-1] == "items" and label not in ("book", "empty book"):
                for item in value:
                    assert set(item) == PRACTICE_ITEM_KEYS and item["feedback"] is None


async def test_practice_is_locked_while_a_quiz_attempt_is_open(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    practice = await created(client, officer, "area", world.areas["rules"].id, count=2)
    first = practice["items"][0]
    await answered(client, officer, practice["id"], first["id"], wrong_single(first))
    quiz_id = await published_quiz(client, world)
    attempt = (await start(client, quiz_id, officer)).json()
    locked = [
        await create(client, officer, "area", world.areas["rules"].id),
        await client.get(f"{API}/practice/sessions/{practice['id']}", headers=officer),
        await answer(client, officer, practice["id"], practice["items"][1]["id"], "x"),
        await answer(client, officer, practice["id"], first["id"], wrong_single(first)),
        await client.get(f"{API}/me/wrong-book", headers=officer),
    ]
    assert [(r.status_code, r.json()["code"]) for r in locked] == [(409, "quiz_in_progress")] * 5
    # Mastery shows no key: still available.
    assert (await client.get(f"{API}/practice/areas", headers=officer)).status_code == 200
    # Another officer is not affected.
    other = await login(client, "officer2")
    assert (await create(client, other, "area", world.areas["rules"].id)).status_code == 201
    await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)
    assert (await create(client, officer, "area", world.areas["rules"].id)).status_code == 201
    assert (await client.get(f"{API}/me/wrong-book", headers=officer)).status_code == 200


# ---------------------------------------------------------------- the wrong-answer book


async def test_quiz_mistakes_enter_the_book(app: FastAPI, client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    aid = attempt["id"]
    first, second = items_of(attempt, "single")
    await saved_ok(client, aid, first["id"], correct_single(first), 1, officer)
    await saved_ok(client, aid, second["id"], wrong_single(second), 1, officer)
    (multiple,) = items_of(attempt, "multiple")
    await saved_ok(client, aid, multiple["id"], right_answer(multiple)[:2], 1, officer)  # partial → wrong
    (fill,) = items_of(attempt, "fill_blank")
    await saved_ok(client, aid, fill["id"], right_answer(fill), 1, officer)
    # true/false left unanswered: blank counts as not known.
    submitted = await client.post(f"{API}/attempts/{aid}/submit", headers=officer)
    assert submitted.status_code == 200, submitted.text
    finished_at = parse_time(submitted.json()["finished_at"])

    (tf,) = items_of(attempt, "true_false")
    expected = {
        await question_of(app, AttemptItem, second["id"]),
        await question_of(app, AttemptItem, multiple["id"]),
        await question_of(app, AttemptItem, tf["id"]),
    }
    listed = await book(client, officer)
    assert listed["total"] == 3 and {e["question_id"] for e in listed["items"]} == expected
    async with app.state.database.sessionmaker() as session:
        questions = {
            q.id: q
            for q in (await session.execute(select(Question).where(Question.id.in_(expected)))).scalars()
        }
    for entry in listed["items"]:
        assert set(entry) == BOOK_KEYS
        q = questions[entry["question_id"]]
        assert (entry["type"], entry["stem"], entry["correct_response"], entry["explanation"]) == (
            q.type,
            q.stem,
            q.answer,
            q.explanation,
        )
        assert entry["options"] == q.options
        assert (entry["wrong_count"], entry["right_streak"]) == (1, 0)
        assert parse_time(entry["last_wrong_at"]) == finished_at == parse_time(entry["due_at"])
    areas = {e["type"]: e["knowledge_area"] for e in listed["items"]}
    assert areas == {"single": "警示教育/三个规定", "multiple": "警示教育", "true_false": "政治教育"}
    rows = await book_rows(app, world.users["officer1"])
    assert set(rows) == expected and all(
        r.cleared_at is None and r.held_by_quiz_id is None for r in rows.values()
    )
    # The quiz counts for mastery too: 1 + 0 + 0 + 2 + 0 of 1 + 1 + 3 + 2 + 1.
    areas_out = {
        a["full_name"]: a for a in (await client.get(f"{API}/practice/areas", headers=officer)).json()
    }
    assert areas_out["警示教育/三个规定"]["mastery"] == 0.5
    assert areas_out["政治教育"]["mastery"] == pytest.approx(2 / 3)
    assert areas_out["警示教育"]["answered"] == 3
    # Another officer's book stays empty.
    assert await book(client, await login(client, "officer2")) == {"items": [], "total": 0}


async def test_quiz_right_answers_count_for_entries_in_the_book(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    user_id = world.users["officer1"]
    long_ago = datetime.now(UTC) - timedelta(days=30)
    async with app.state.database.sessionmaker() as session:
        for qid in [q for ids in world.question_ids.values() for q in ids]:
            session.add(
                WrongBookEntry(
                    user_id=user_id,
                    question_id=qid,
                    wrong_count=1,
                    right_streak=0,
                    last_wrong_at=long_ago,
                    due_at=long_ago,
                )
            )
        await session.commit()
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    for seq, item in enumerate(attempt["items"], start=1):
        await saved_ok(client, attempt["id"], item["id"], right_answer(item), seq, officer)
    submitted = (await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)).json()
    assert submitted["score"] == submitted["max_score"]
    finished_at = parse_time(submitted["finished_at"])
    served = {await question_of(app, AttemptItem, i["id"]) for i in attempt["items"]}
    rows = await book_rows(app, user_id)
    for qid, row in rows.items():
        if qid in served:
            assert (row.right_streak, row.due_at, row.cleared_at) == (
                1,
                finished_at + timedelta(days=1),
                None,
            )
        else:
            assert (row.right_streak, row.due_at) == (0, long_ago)
    listed = await book(client, officer)
    assert listed["total"] == 24
    # Not yet due ones come last.
    assert {e["question_id"] for e in listed["items"][-5:]} == served


async def test_score_only_quizzes_feed_neither_book_nor_mastery(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world, review_policy="score_only")
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)  # all blank
    assert await book_rows(app, world.users["officer1"]) == {}
    areas = (await client.get(f"{API}/practice/areas", headers=officer)).json()
    assert all(a["mastery"] is None and a["answered"] == 0 for a in areas)


async def test_full_after_close_mistakes_wait_for_the_close(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world, review_policy="full_after_close")
    officer = await login(client, "officer1")
    attempt = (await start(client, quiz_id, officer)).json()
    await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=officer)  # all blank
    rows = await book_rows(app, world.users["officer1"])
    assert len(rows) == 5 and {r.held_by_quiz_id for r in rows.values()} == {quiz_id}
    # Held: neither listed nor served, though correctness is already shown (mastery counts).
    assert await book(client, officer) == {"items": [], "total": 0}
    reply = await create(client, officer, "wrong_book")
    assert (reply.status_code, reply.json()["code"]) == (422, "no_practice_questions")
    weak = await created(client, officer, "weak", count=5)
    assert all(i["feedback"] is None for i in weak["items"])
    areas = {a["full_name"]: a for a in (await client.get(f"{API}/practice/areas", headers=officer)).json()}
    assert areas["政治教育"]["mastery"] == 0.0

    admin = await login(client, "admin")
    assert (await client.post(f"{API}/quizzes/{quiz_id}/close", headers=admin)).status_code == 200
    listed = await book(client, officer)
    assert listed["total"] == 5 and set(rows) == {e["question_id"] for e in listed["items"]}
    assert len((await created(client, officer, "wrong_book"))["items"]) == 5


async def test_two_right_answers_clear_an_entry(app: FastAPI, client: AsyncClient, world: World) -> None:
    officer = await login(client, "officer1")
    user_id = world.users["officer1"]
    practice = await created(client, officer, "area", world.areas["politics"].id, count=1)
    item = practice["items"][0]
    qid = await question_of(app, PracticeItem, item["id"])
    await answered(client, officer, practice["id"], item["id"], wrong_answer(item))
    (entry,) = (await book(client, officer))["items"]
    assert (entry["question_id"], entry["wrong_count"], entry["right_streak"]) == (qid, 1, 0)
    assert near_now(entry["due_at"]) and near_now(entry["last_wrong_at"])

    # Wrong-book mode serves it; a right answer keeps it in the book, due a day later.
    review = await created(client, officer, "wrong_book")
    assert len(review["items"]) == 1 and review["mode"] == "wrong_book"
    served = review["items"][0]
    assert await question_of(app, PracticeItem, served["id"]) == qid
    await answered(client, officer, review["id"], served["id"], right_answer(served))
    (entry,) = (await book(client, officer))["items"]
    assert entry["right_streak"] == 1 and near_now(entry["due_at"], timedelta(days=1))

    # Not due, but still in the book: wrong-book mode serves it after the due ones (none here).
    review = await created(client, officer, "wrong_book")
    served = review["items"][0]
    await answered(client, officer, review["id"], served["id"], right_answer(served))
    assert await book(client, officer) == {"items": [], "total": 0}
    row = (await book_rows(app, user_id))[qid]
    assert row.right_streak == 2 and row.cleared_at is not None
    # A right answer after clearing changes nothing; a wrong one brings it back, counting on.
    again = await created(client, officer, "area", world.areas["politics"].id, count=12)
    served = next(i for i in again["items"] if i["stem"] == item["stem"])
    await answered(client, officer, again["id"], served["id"], wrong_answer(served))
    (entry,) = (await book(client, officer))["items"]
    assert (entry["wrong_count"], entry["right_streak"]) == (2, 0)


async def test_a_wrong_answer_resets_the_streak(app: FastAPI, client: AsyncClient, world: World) -> None:
    officer = await login(client, "officer1")
    practice = await created(client, officer, "area", world.areas["rules"].id, count=1)
    item = practice["items"][0]
    await answered(client, officer, practice["id"], item["id"], wrong_single(item))
    for right in (True, False, True):
        review = await created(client, officer, "wrong_book")
        served = review["items"][0]
        response = correct_single(served) if right else wrong_single(served)
        await answered(client, officer, review["id"], served["id"], response)
    (entry,) = (await book(client, officer))["items"]
    assert (entry["wrong_count"], entry["right_streak"]) == (2, 1)


async def test_wrong_book_mode_serves_due_questions_first(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    user_id = world.users["officer1"]
    now = datetime.now(UTC)
    singles = world.question_ids["single"]
    due = {singles[0]: now - timedelta(days=2), singles[1]: now - timedelta(hours=1)}
    later = {singles[2]: now + timedelta(hours=3), singles[3]: now + timedelta(days=2)}
    async with app.state.database.sessionmaker() as session:
        for qid, due_at in {**due, **later}.items():
            session.add(
                WrongBookEntry(
                    user_id=user_id,
                    question_id=qid,
                    wrong_count=1,
                    right_streak=0 if qid in due else 1,
                    last_wrong_at=now - timedelta(days=3),
                    due_at=due_at,
                )
            )
        await session.commit()
    officer = await login(client, "officer1")
    review = await created(client, officer, "wrong_book", count=3)
    served = [await question_of(app, PracticeItem, i["id"]) for i in review["items"]]
    assert served == [singles[0], singles[1], singles[2]]
    listed = await book(client, officer)
    assert [e["question_id"] for e in listed["items"]] == singles[:4] and listed["total"] == 4
    page = (await client.get(f"{API}/me/wrong-book?limit=2&offset=1", headers=officer)).json()
    assert [e["question_id"] for e in page["items"]] == singles[1:3] and page["total"] == 4
    # Narrowed to an area with no entries: nothing to practise.
    reply = await create(client, officer, "wrong_book", world.areas["politics"].id)
    assert (reply.status_code, reply.json()["code"]) == (422, "no_practice_questions")


# ---------------------------------------------------------------- preferences in the draws


async def test_area_mode_prefers_questions_not_yet_answered_right(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    first = await created(client, officer, "area", world.areas["rules"].id, count=5)
    for item in first["items"]:
        await answered(client, officer, first["id"], item["id"], correct_single(item))
    done = {await question_of(app, PracticeItem, i["id"]) for i in first["items"]}
    (remaining,) = set(world.question_ids["single"]) - done
    for _ in range(3):
        again = await created(client, officer, "area", world.areas["rules"].id, count=1)
        assert await question_of(app, PracticeItem, again["items"][0]["id"]) == remaining
    whole = await created(client, officer, "area", world.areas["rules"].id, count=6)
    assert await question_of(app, PracticeItem, whole["items"][0]["id"]) == remaining


async def test_weak_mode_draws_mostly_from_the_weakest_area(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    officer = await login(client, "officer1")
    # Strong in 警示教育 (its multiple choice) and 三个规定 (single choice): everything right.
    for area_key, count in (("rules", 6), ("warning", 12)):
        practice = await created(client, officer, "area", world.areas[area_key].id, count=count)
        for item in practice["items"]:
            await answered(client, officer, practice["id"], item["id"], right_answer(item))
    # Weak in 政治教育: four questions wrong.
    weak_area = await created(client, officer, "area", world.areas["politics"].id, count=4)
    for item in weak_area["items"]:
        await answered(client, officer, weak_area["id"], item["id"], wrong_answer(item))
    missed = [await question_of(app, PracticeItem, i["id"]) for i in weak_area["items"]]
    areas = {a["full_name"]: a for a in (await client.get(f"{API}/practice/areas", headers=officer)).json()}
    assert [
        (areas[n]["answered"], areas[n]["mastery"]) for n in ("警示教育", "警示教育/三个规定", "政治教育")
    ] == [
        (12, 1.0),
        (6, 1.0),
        (4, 0.0),
    ]

    politics = set(world.question_ids["true_false"]) | set(world.question_ids["fill_blank"])
    session = await created(client, officer, "weak", count=10)
    assert session["mode"] == "weak"
    served = [await question_of(app, PracticeItem, i["id"]) for i in session["items"]]
    assert len(served) == 10 and len(set(served)) == 10
    # The due wrong-book questions lead (most overdue first), then mostly the weak area:
    # 6 places shared 1 : 1/10 : 1/10 → 5 from 政治教育 and 1 from a strong area.
    assert set(served[:4]) == set(missed)
    per_area = Counter("politics" if q in politics else "other" for q in served)
    assert per_area == {"politics": 9, "other": 1}
    # Narrowed to one area, weak mode stays inside it.
    narrowed = await created(client, officer, "weak", world.areas["rules"].id, count=10)
    assert {i["type"] for i in narrowed["items"]} == {"single"} and len(narrowed["items"]) == 6
