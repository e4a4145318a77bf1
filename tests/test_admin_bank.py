"""Admin API for knowledge areas, banks and questions; the pure authoring checks directly."""

from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from app.bank.models import Bank, KnowledgeArea, Question
from app.bank.service import carry_option_ids, fingerprint
from app.bank.validation import QuestionInvalid, answer_indexes, check_authoring
from app.db.base import Base
from app.quizzes.models import AttemptItem
from tests.factories import World, login, published_quiz

API = "/api/v1"
M = TypeVar("M", bound=Base)


async def stored(app: FastAPI, model: type[M], row_id: int) -> M | None:
    async with app.state.database.sessionmaker() as session:
        row: M | None = await session.get(model, row_id)
        return row


async def table(app: FastAPI, model: type[Base]) -> list[dict[str, Any]]:
    """Every row of a table as plain values, ordered by id: compare before and after a refusal."""
    async with app.state.database.sessionmaker() as session:
        rows = (await session.execute(select(model).order_by(model.id))).scalars().all()  # type: ignore[attr-defined]
        return [{c.key: getattr(r, c.key) for c in model.__table__.columns} for r in rows]


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


def single(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "bank_id": world.bank.id,
        "knowledge_area_id": world.areas["rules"].id,
        "type": "single",
        "stem": "“三个规定”的记录报告对象是？",
        "options": ["过问案件的情况", "天气情况", "食堂菜单"],
        "answer": 0,
        "explanation": "按规定如实记录。",
        "difficulty": 3,
        "points": 2,
        "tags": ["三个规定", "记录"],
    }
    body.update(overrides)
    return body


# ---------------------------------------------------------------- pure authoring checks

VALID: list[tuple[str, str, list[str], Any, list[str], Any]] = [
    ("single", " 题干 ", [" 甲 ", "乙"], 1, ["甲", "乙"], 1),
    ("multiple", "题干", ["甲", "乙", "丙"], [2, 0], ["甲", "乙", "丙"], [0, 2]),
    ("multiple", "题干", ["甲", "乙"], [0, 1], ["甲", "乙"], [0, 1]),
    ("true_false", "题干", [], False, [], False),
    ("fill_blank", "填____和____", [], [[" 一 "], ["二", "贰"]], [], [["一"], ["二", "贰"]]),
]


@pytest.mark.parametrize(("qtype", "stem", "options", "answer", "texts", "normalised"), VALID)
def test_check_authoring_accepts_and_normalises(
    qtype: str, stem: str, options: list[str], answer: Any, texts: list[str], normalised: Any
) -> None:
    checked = check_authoring(qtype, stem, options, answer)
    assert (checked.type, checked.stem, checked.options, checked.answer) == (
        qtype,
        stem.strip(),
        texts,
        normalised,
    )


INVALID: list[tuple[str, str, list[str], Any, str]] = [
    ("essay", "题干", [], None, "unknown_type"),
    ("single", "   ", ["甲", "乙"], 0, "empty_stem"),
    ("single", "题干", ["甲"], 0, "too_few_options"),
    ("multiple", "题干", [], [0, 1], "too_few_options"),
    ("single", "题干", [str(i) for i in range(9)], 0, "too_many_options"),
    ("single", "题干", ["甲", " "], 0, "empty_option"),
    ("single", "题干", ["甲", "乙", "甲 "], 0, "duplicate_option"),
    ("multiple", "题干", ["ABC", "abc", "丙"], [0, 2], "duplicate_option"),
    ("single", "题干", ["Ａ", "A"], 0, "duplicate_option"),  # full-width and half-width
    ("true_false", "题干", ["对", "错"], True, "options_not_allowed"),
    ("fill_blank", "填____", ["甲"], [["一"]], "options_not_allowed"),
    ("single", "题干", ["甲", "乙"], None, "answer_required"),
    ("single", "题干", ["甲", "乙"], 2, "answer_out_of_range"),
    ("single", "题干", ["甲", "乙"], -1, "answer_out_of_range"),
    ("single", "题干", ["甲", "乙"], [0, 1], "single_needs_one_answer"),
    ("single", "题干", ["甲", "乙"], [0], "single_needs_one_answer"),
    ("single", "题干", ["甲", "乙"], "A", "invalid_answer"),
    ("single", "题干", ["甲", "乙"], True, "invalid_answer"),
    ("multiple", "题干", ["甲", "乙", "丙"], [0], "multiple_needs_two_answers"),
    ("multiple", "题干", ["甲", "乙", "丙"], 1, "multiple_needs_two_answers"),
    ("multiple", "题干", ["甲", "乙", "丙"], [0, 0], "duplicate_answer"),
    ("multiple", "题干", ["甲", "乙", "丙"], [0, 3], "answer_out_of_range"),
    ("multiple", "题干", ["甲", "乙", "丙"], [0, "1"], "invalid_answer"),
    ("true_false", "题干", [], "true", "invalid_answer"),
    ("true_false", "题干", [], 1, "invalid_answer"),
    ("fill_blank", "填____和____", [], [["一"]], "blank_count_mismatch"),
    ("fill_blank", "填____", [], [["一"], ["二"]], "blank_count_mismatch"),
    ("fill_blank", "没有空", [], [["一"]], "blank_count_mismatch"),
    ("fill_blank", "没有空", [], [], "no_blanks"),
    ("fill_blank", "填____", [], ["一"], "invalid_answer"),
    ("fill_blank", "填____", [], [[1]], "invalid_answer"),
    ("fill_blank", "填____", [], [[]], "empty_blank"),
    ("fill_blank", "填____", [], [["一", "  "]], "empty_blank"),
]


@pytest.mark.parametrize(("qtype", "stem", "options", "answer", "code"), INVALID)
def test_check_authoring_refuses_with_specific_code(
    qtype: str, stem: str, options: list[str], answer: Any, code: str
) -> None:
    with pytest.raises(QuestionInvalid) as caught:
        check_authoring(qtype, stem, options, answer)
    assert caught.value.code == code
    assert caught.value.status_code == 422


def test_carry_option_ids_keeps_ids_of_unchanged_texts() -> None:
    old = [{"id": "aaa", "text": "甲"}, {"id": "bbb", "text": "乙"}, {"id": "ccc", "text": "丙"}]
    new = carry_option_ids(old, "新题干", ["丙", "丁", "甲"])
    assert [o["text"] for o in new] == ["丙", "丁", "甲"]
    assert (new[0]["id"], new[2]["id"]) == ("ccc", "aaa")
    assert new[1]["id"] not in {"aaa", "bbb", "ccc"} and len(new[1]["id"]) == 10
    # A new text never takes an id any former option had, and ids carry no position.
    again = carry_option_ids(old, "新题干", ["丙", "丁", "甲"])
    assert again[1]["id"] != new[1]["id"]


def test_answer_indexes() -> None:
    ids = ["x", "y", "z"]
    assert answer_indexes("single", "y", ids) == 1
    assert answer_indexes("multiple", ["z", "x"], ids) == [0, 2]
    assert answer_indexes("multiple", ["z", "gone"], ids) is None
    assert answer_indexes("single", "gone", ids) is None
    assert answer_indexes("true_false", True, []) is None
    assert answer_indexes("fill_blank", [["a"]], []) is None


# ---------------------------------------------------------------- knowledge areas


async def test_list_knowledge_areas_with_counts(client: AsyncClient, world: World) -> None:
    inspector = await login(client, "inspector")
    listed = await client.get(f"{API}/knowledge-areas", headers=inspector)
    assert listed.status_code == 200, listed.text
    areas = listed.json()
    assert [a["full_name"] for a in areas] == ["警示教育", "警示教育/三个规定", "政治教育"]
    rules = world.areas["rules"]
    assert areas[1] == {
        "id": rules.id,
        "parent_id": world.areas["warning"].id,
        "name": "三个规定",
        "full_name": "警示教育/三个规定",
        "path": rules.path,
        "depth": 1,
        "question_count": 6,
        "subtree_question_count": 6,
    }
    assert (areas[0]["question_count"], areas[0]["subtree_question_count"]) == (6, 12)
    assert (areas[2]["question_count"], areas[2]["subtree_question_count"]) == (12, 12)


async def test_create_knowledge_area(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    top = await client.post(f"{API}/knowledge-areas", json={"name": " 法律知识 "}, headers=admin)
    assert top.status_code == 201, top.text
    row = await stored(app, KnowledgeArea, top.json()["id"])
    assert row is not None
    assert (row.name, row.full_name, row.parent_id, row.depth, row.path) == (
        "法律知识",
        "法律知识",
        None,
        0,
        f"/{row.id}/",
    )
    child = await client.post(
        f"{API}/knowledge-areas", json={"name": "刑法", "parent_id": row.id}, headers=admin
    )
    assert child.status_code == 201, child.text
    child_row = await stored(app, KnowledgeArea, child.json()["id"])
    assert child_row is not None
    assert (child_row.full_name, child_row.parent_id, child_row.depth, child_row.path) == (
        "法律知识/刑法",
        row.id,
        1,
        f"{row.path}{child_row.id}/",
    )
    assert child.json()["question_count"] == 0

    before = await table(app, KnowledgeArea)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "三个规定", "parent_id": world.areas["warning"].id}, 409, "knowledge_area_exists"),
        ({"name": "政治教育"}, 409, "knowledge_area_exists"),
        ({"name": "新", "parent_id": 999999}, 422, "knowledge_area_not_found"),
        ({"name": "甲/乙"}, 422, "invalid_area_name"),
        ({"name": "甲／乙"}, 422, "invalid_area_name"),
        ({"name": "  "}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        assert_error(await client.post(f"{API}/knowledge-areas", json=body, headers=admin), status, code)
    assert await table(app, KnowledgeArea) == before


async def test_rename_knowledge_area_renames_subtree(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    deep = await client.post(
        f"{API}/knowledge-areas", json={"name": "案例", "parent_id": world.areas["rules"].id}, headers=admin
    )
    assert deep.status_code == 201, deep.text
    renamed = await client.patch(
        f"{API}/knowledge-areas/{world.areas['warning'].id}", json={"name": "廉政教育"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["full_name"], renamed.json()["subtree_question_count"]) == ("廉政教育", 12)
    names = {a["id"]: a["full_name"] for a in await table(app, KnowledgeArea)}
    assert names == {
        world.areas["warning"].id: "廉政教育",
        world.areas["rules"].id: "廉政教育/三个规定",
        deep.json()["id"]: "廉政教育/三个规定/案例",
        world.areas["politics"].id: "政治教育",
    }
    middle = await client.patch(
        f"{API}/knowledge-areas/{world.areas['rules'].id}", json={"name": "三项规定"}, headers=admin
    )
    assert middle.status_code == 200, middle.text
    names = {a["id"]: (a["name"], a["full_name"]) for a in await table(app, KnowledgeArea)}
    assert names[world.areas["rules"].id] == ("三项规定", "廉政教育/三项规定")
    assert names[deep.json()["id"]] == ("案例", "廉政教育/三项规定/案例")
    assert names[world.areas["warning"].id] == ("廉政教育", "廉政教育")

    before = await table(app, KnowledgeArea)
    cases: list[tuple[int, dict[str, Any], int, str]] = [
        (world.areas["warning"].id, {"name": "政治教育"}, 409, "knowledge_area_exists"),
        (world.areas["warning"].id, {"name": "a/b"}, 422, "invalid_area_name"),
        (world.areas["warning"].id, {"name": ""}, 422, "validation_error"),
        (999999, {"name": "无"}, 404, "knowledge_area_not_found"),
    ]
    for area_id, body, status, code in cases:
        assert_error(
            await client.patch(f"{API}/knowledge-areas/{area_id}", json=body, headers=admin), status, code
        )
    assert await table(app, KnowledgeArea) == before


# ---------------------------------------------------------------- banks


async def test_banks(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    listed = await client.get(f"{API}/banks", headers=admin)
    assert listed.status_code == 200, listed.text
    assert [(b["name"], b["question_count"], b["retired_count"]) for b in listed.json()] == [
        ("测试题库", 24, 0)
    ]
    created = await client.post(
        f"{API}/banks", json={"name": "民法典", "description": "民法典应知应会"}, headers=admin
    )
    assert created.status_code == 201, created.text
    row = await stored(app, Bank, created.json()["id"])
    assert row is not None and (row.name, row.description) == ("民法典", "民法典应知应会")
    assert (await client.get(f"{API}/banks/{row.id}", headers=admin)).json()["question_count"] == 0
    patched = await client.patch(f"{API}/banks/{row.id}", json={"description": "新说明"}, headers=admin)
    assert patched.status_code == 200, patched.text
    renamed = await client.patch(f"{API}/banks/{row.id}", json={"name": "民法典题库"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    row = await stored(app, Bank, row.id)
    assert row is not None and (row.name, row.description) == ("民法典题库", "新说明")

    before = await table(app, Bank)
    assert_error(
        await client.post(f"{API}/banks", json={"name": "测试题库"}, headers=admin), 409, "bank_exists"
    )
    assert_error(
        await client.post(f"{API}/banks", json={"name": " "}, headers=admin), 422, "validation_error"
    )
    assert_error(
        await client.patch(f"{API}/banks/{row.id}", json={"name": "测试题库"}, headers=admin),
        409,
        "bank_exists",
    )
    assert_error(
        await client.patch(f"{API}/banks/999999", json={"name": "x"}, headers=admin), 404, "bank_not_found"
    )
    assert_error(await client.get(f"{API}/banks/999999", headers=admin), 404, "bank_not_found")
    assert await table(app, Bank) == before


# ---------------------------------------------------------------- questions: reading


async def test_list_questions_with_filters(client: AsyncClient, world: World) -> None:
    unitadmin = await login(client, "unitadmin")

    async def ids(**params: Any) -> tuple[list[int], int]:
        response = await client.get(f"{API}/questions", params=params, headers=unitadmin)
        assert response.status_code == 200, response.text
        return [q["id"] for q in response.json()["items"]], response.json()["total"]

    everything, total = await ids()
    assert total == 24 and len(everything) == 24 and everything == sorted(everything)
    by_type = world.question_ids
    assert await ids(type="multiple") == (by_type["multiple"], 6)
    warning = world.areas["warning"].id
    assert (await ids(knowledge_area_id=warning))[1] == 12
    assert await ids(knowledge_area_id=warning, include_subareas=False) == (by_type["multiple"], 6)
    assert await ids(knowledge_area_id=world.areas["rules"].id) == (by_type["single"], 6)
    assert (await ids(bank_id=world.bank.id))[1] == 24
    assert await ids(difficulty=2) == (everything, 24)
    assert await ids(difficulty=5) == ([], 0)
    assert await ids(q="判断题3") == ([by_type["true_false"][3]], 1)
    assert await ids(q="100%") == ([], 0)
    assert await ids(status="retired") == ([], 0)
    assert await ids(limit=5, offset=20) == (everything[20:], 24)

    page = (
        await client.get(f"{API}/questions", params={"type": "multiple", "limit": 1}, headers=unitadmin)
    ).json()
    item = page["items"][0]
    # Staff see the key and the explanation.
    ids_in_order = [o["id"] for o in item["options"]]
    assert item["answer"] == ids_in_order[:3]
    assert item["answer_indexes"] == [0, 1, 2]
    assert item["explanation"].startswith("解析")
    assert item["knowledge_area_full_name"] == "警示教育"

    for bad in ({"type": "essay"}, {"difficulty": 9}, {"status": "gone"}, {"limit": 501}, {"offset": -1}):
        assert_error(
            await client.get(f"{API}/questions", params=bad, headers=unitadmin), 422, "validation_error"
        )
    assert_error(
        await client.get(f"{API}/questions", params={"knowledge_area_id": 999999}, headers=unitadmin),
        404,
        "knowledge_area_not_found",
    )
    assert_error(
        await client.get(f"{API}/questions", params={"bank_id": 999999}, headers=unitadmin),
        404,
        "bank_not_found",
    )


async def test_get_question_in_stored_form(client: AsyncClient, world: World) -> None:
    inspector = await login(client, "inspector")
    fill = await client.get(f"{API}/questions/{world.question_ids['fill_blank'][0]}", headers=inspector)
    assert fill.status_code == 200, fill.text
    body = fill.json()
    assert (body["type"], body["options"], body["answer"], body["answer_indexes"]) == (
        "fill_blank",
        [],
        [["12337"], ["1月10日", "一月十日"]],
        None,
    )
    one = (await client.get(f"{API}/questions/{world.question_ids['single'][2]}", headers=inspector)).json()
    assert one["answer"] == one["options"][0]["id"] and one["answer_indexes"] == 0
    assert one["options"][0]["text"] == "正确2" and one["version"] == 1 and one["status"] == "active"
    assert_error(await client.get(f"{API}/questions/999999", headers=inspector), 404, "question_not_found")


# ---------------------------------------------------------------- questions: writing


async def test_create_question_of_each_type(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    created = await client.post(f"{API}/questions", json=single(world), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    row = await stored(app, Question, body["id"])
    assert row is not None
    assert [o["text"] for o in row.options] == ["过问案件的情况", "天气情况", "食堂菜单"]
    assert len({o["id"] for o in row.options}) == 3
    assert row.answer == row.options[0]["id"] and body["answer_indexes"] == 0
    assert (row.type, row.difficulty, row.points, row.tags, row.version, row.status) == (
        "single",
        3,
        2,
        ["三个规定", "记录"],
        1,
        "active",
    )
    assert row.fingerprint == fingerprint(row.stem, ["过问案件的情况", "天气情况", "食堂菜单"])

    multiple = await client.post(
        f"{API}/questions",
        json=single(
            world, type="multiple", stem="哪些要记录？", options=["甲", "乙", "丙", "丁"], answer=[3, 1]
        ),
        headers=admin,
    )
    assert multiple.status_code == 201, multiple.text
    mrow = await stored(app, Question, multiple.json()["id"])
    assert mrow is not None and mrow.answer == [mrow.options[1]["id"], mrow.options[3]["id"]]
    assert multiple.json()["answer_indexes"] == [1, 3]

    judge = await client.post(
        f"{API}/questions",
        json=single(world, type="true_false", stem="应当记录。", options=[], answer=True),
        headers=admin,
    )
    assert judge.status_code == 201, judge.text
    jrow = await stored(app, Question, judge.json()["id"])
    assert jrow is not None and (jrow.answer, jrow.options) == (True, [])

    fill = await client.post(
        f"{API}/questions",
        json=single(
            world,
            type="fill_blank",
            stem="记录____，报告____。",
            options=[],
            answer=[["全面"], ["及时", "立即"]],
        ),
        headers=admin,
    )
    assert fill.status_code == 201, fill.text
    frow = await stored(app, Question, fill.json()["id"])
    assert frow is not None and frow.answer == [["全面"], ["及时", "立即"]]

    # The same question in another bank is no duplicate.
    other_bank = await client.post(f"{API}/banks", json={"name": "另一个题库"}, headers=admin)
    again = await client.post(
        f"{API}/questions", json=single(world, bank_id=other_bank.json()["id"]), headers=admin
    )
    assert again.status_code == 201, again.text


async def test_create_question_refusals_change_nothing(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    admin = await login(client, "admin")
    assert (await client.post(f"{API}/questions", json=single(world), headers=admin)).status_code == 201
    before = await table(app, Question)
    cases: list[tuple[dict[str, Any], int, str]] = [
        (single(world), 409, "duplicate_question"),
        # Same stem and options after normalisation (spacing, width, order) is a duplicate too.
        (
            single(
                world,
                stem="“三个规定”的记录报告对象是 ？",
                options=["食堂菜单", "天气情况", "过问案件的情况"],
            ),
            409,
            "duplicate_question",
        ),
        (single(world, stem="新题", options=["甲"]), 422, "too_few_options"),
        (single(world, stem="新题", options=["甲", "甲"]), 422, "duplicate_option"),
        (single(world, stem="新题", answer=3), 422, "answer_out_of_range"),
        (single(world, stem="新题", answer=[0, 1]), 422, "single_needs_one_answer"),
        (single(world, stem="新题", type="multiple", answer=[1]), 422, "multiple_needs_two_answers"),
        (
            single(world, stem="填____", type="fill_blank", options=[], answer=[["a"], ["b"]]),
            422,
            "blank_count_mismatch",
        ),
        (single(world, stem="判断", type="true_false", answer=True), 422, "options_not_allowed"),
        (single(world, stem="  "), 422, "empty_stem"),
        (single(world, stem="新题", bank_id=999999), 422, "bank_not_found"),
        (single(world, stem="新题", knowledge_area_id=999999), 422, "knowledge_area_not_found"),
        (single(world, stem="新题", difficulty=6), 422, "validation_error"),
        (single(world, stem="新题", difficulty=0), 422, "validation_error"),
        (single(world, stem="新题", points=0), 422, "validation_error"),
        (single(world, stem="新题", type="essay"), 422, "validation_error"),
        ({k: v for k, v in single(world, stem="新题").items() if k != "answer"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        assert_error(await client.post(f"{API}/questions", json=body, headers=admin), status, code)
    assert await table(app, Question) == before


async def test_update_question(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    created = (await client.post(f"{API}/questions", json=single(world), headers=admin)).json()
    qid = created["id"]
    old_ids = {o["text"]: o["id"] for o in created["options"]}

    stem_only = await client.patch(
        f"{API}/questions/{qid}", json={"stem": "记录报告的对象是？"}, headers=admin
    )
    assert stem_only.status_code == 200, stem_only.text
    row = await stored(app, Question, qid)
    assert row is not None
    assert (row.stem, row.version) == ("记录报告的对象是？", 2)
    assert {o["text"]: o["id"] for o in row.options} == old_ids  # ids survive a stem edit
    assert row.fingerprint == fingerprint("记录报告的对象是？", list(old_ids))

    # Reorder, drop one, add one; the answer is not sent, so it follows its text.
    reordered = await client.patch(
        f"{API}/questions/{qid}", json={"options": ["天气情况", "新选项", "过问案件的情况"]}, headers=admin
    )
    assert reordered.status_code == 200, reordered.text
    row = await stored(app, Question, qid)
    assert row is not None
    assert [o["text"] for o in row.options] == ["天气情况", "新选项", "过问案件的情况"]
    assert row.options[0]["id"] == old_ids["天气情况"] and row.options[2]["id"] == old_ids["过问案件的情况"]
    assert row.options[1]["id"] not in old_ids.values()
    assert row.answer == old_ids["过问案件的情况"] and reordered.json()["answer_indexes"] == 2
    assert row.version == 3

    to_multiple = await client.patch(
        f"{API}/questions/{qid}",
        json={
            "type": "multiple",
            "answer": [0, 2],
            "explanation": "新解析",
            "difficulty": 5,
            "points": 4,
            "tags": ["改"],
        },
        headers=admin,
    )
    assert to_multiple.status_code == 200, to_multiple.text
    row = await stored(app, Question, qid)
    assert row is not None
    assert (row.type, row.answer, row.explanation, row.difficulty, row.points, row.tags, row.version) == (
        "multiple",
        [old_ids["天气情况"], old_ids["过问案件的情况"]],
        "新解析",
        5,
        4,
        ["改"],
        4,
    )
    moved = await client.patch(
        f"{API}/questions/{qid}", json={"knowledge_area_id": world.areas["politics"].id}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["knowledge_area_full_name"] == "政治教育"
    assert moved.json()["version"] == 5

    # Nothing changed: the version stays.
    same = await client.patch(
        f"{API}/questions/{qid}", json={"points": 4, "stem": "记录报告的对象是？"}, headers=admin
    )
    assert same.status_code == 200, same.text
    assert (await stored(app, Question, qid)).version == 5  # type: ignore[union-attr]

    fill_id = world.question_ids["fill_blank"][0]
    fill = await client.patch(
        f"{API}/questions/{fill_id}", json={"stem": "只有一个空：____", "answer": [["12337"]]}, headers=admin
    )
    assert fill.status_code == 200, fill.text
    frow = await stored(app, Question, fill_id)
    assert frow is not None and (frow.stem, frow.answer, frow.version) == ("只有一个空：____", [["12337"]], 2)


async def test_update_question_refusals_change_nothing(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    admin = await login(client, "admin")
    qid = world.question_ids["single"][0]
    multiple_id = world.question_ids["multiple"][0]
    other = await stored(app, Question, world.question_ids["single"][1])
    assert other is not None
    before = await table(app, Question)
    cases: list[tuple[int, dict[str, Any], int, str]] = [
        # The correct option is dropped and no new answer is given.
        (qid, {"options": ["错误甲0", "错误乙0", "错误丙0"]}, 422, "answer_out_of_range"),
        (qid, {"answer": 7}, 422, "answer_out_of_range"),
        (qid, {"options": ["只有一个"], "answer": 0}, 422, "too_few_options"),
        (qid, {"options": ["甲", "甲"], "answer": 0}, 422, "duplicate_option"),
        (qid, {"answer": [0, 1]}, 422, "single_needs_one_answer"),
        (qid, {"type": "multiple"}, 422, "answer_required"),
        (qid, {"type": "true_false", "answer": True}, 422, "options_not_allowed"),
        (qid, {"stem": " "}, 422, "empty_stem"),
        (
            qid,
            {"stem": other.stem, "options": [o["text"] for o in other.options], "answer": 0},
            409,
            "duplicate_question",
        ),
        (qid, {"bank_id": 999999}, 422, "bank_not_found"),
        (qid, {"knowledge_area_id": 999999}, 422, "knowledge_area_not_found"),
        (qid, {"difficulty": 6}, 422, "validation_error"),
        (qid, {"points": -1}, 422, "validation_error"),
        (multiple_id, {"answer": [0]}, 422, "multiple_needs_two_answers"),
        (world.question_ids["fill_blank"][0], {"answer": [["一"]]}, 422, "blank_count_mismatch"),
        (999999, {"stem": "无"}, 404, "question_not_found"),
    ]
    for question_id, body, status, code in cases:
        assert_error(
            await client.patch(f"{API}/questions/{question_id}", json=body, headers=admin), status, code
        )
    assert await table(app, Question) == before


async def test_delete_unused_question(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    qid = world.question_ids["true_false"][0]
    deleted = await client.delete(f"{API}/questions/{qid}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    assert await stored(app, Question, qid) is None
    assert_error(await client.get(f"{API}/questions/{qid}", headers=admin), 404, "question_not_found")
    assert_error(await client.delete(f"{API}/questions/{qid}", headers=admin), 404, "question_not_found")
    assert_error(
        await client.post(f"{API}/questions/{qid}/restore", headers=admin), 404, "question_not_found"
    )


async def test_edit_retire_restore_question_used_by_attempt(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    attempt = (await client.post(f"{API}/quizzes/{quiz_id}/attempts", headers=officer)).json()
    served = next(i for i in attempt["items"] if i["type"] == "single")
    async with app.state.database.sessionmaker() as session:
        item = await session.get(AttemptItem, served["id"])
        assert item is not None
        qid = item.question_id
        item_before = {c.key: getattr(item, c.key) for c in AttemptItem.__table__.columns}
    question = await stored(app, Question, qid)
    assert question is not None

    admin = await login(client, "admin")
    edited = await client.patch(
        f"{API}/questions/{qid}",
        json={"stem": "改过的题干", "options": ["新甲", "新乙"], "answer": 1},
        headers=admin,
    )
    assert edited.status_code == 200, edited.text
    # The attempt keeps what it served.
    async with app.state.database.sessionmaker() as session:
        item = await session.get(AttemptItem, served["id"])
        assert item is not None
        assert {c.key: getattr(item, c.key) for c in AttemptItem.__table__.columns} == item_before
    resumed = (await client.get(f"{API}/attempts/{attempt['id']}", headers=officer)).json()
    again = next(i for i in resumed["items"] if i["id"] == served["id"])
    assert (again["stem"], again["options"]) == (served["stem"], served["options"])
    assert again["stem"] == question.stem

    retired = await client.delete(f"{API}/questions/{qid}", headers=admin)
    assert retired.status_code == 200, retired.text
    assert retired.json() == {"status": "retired"}
    row = await stored(app, Question, qid)
    assert row is not None and row.status == "retired"
    listed = await client.get(f"{API}/questions", params={"status": "retired"}, headers=admin)
    assert [q["id"] for q in listed.json()["items"]] == [qid]
    bank = (await client.get(f"{API}/banks/{world.bank.id}", headers=admin)).json()
    assert (bank["question_count"], bank["retired_count"]) == (23, 1)

    restored = await client.post(f"{API}/questions/{qid}/restore", headers=admin)
    assert restored.status_code == 200, restored.text
    row = await stored(app, Question, qid)
    assert row is not None and row.status == "active" and restored.json()["status"] == "active"


async def test_question_in_published_pool_is_retired_not_deleted(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    await published_quiz(client, world)  # freezes every question into a pool, nobody has started
    admin = await login(client, "admin")
    qid = world.question_ids["fill_blank"][5]
    response = await client.delete(f"{API}/questions/{qid}", headers=admin)
    assert response.status_code == 200, response.text
    row = await stored(app, Question, qid)
    assert row is not None and row.status == "retired"
    async with app.state.database.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Question))).scalar_one() == 24
