"""Bank imports through the API: preview writes nothing, commit is atomic and once, re-import adds
nothing, scoping, whole-file refusals, exports that import back, question versions."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from app.bank.models import Question, QuestionVersion
from app.imports.files import MAX_UPLOAD_BYTES
from app.imports.models import ImportJob
from tests.factories import World, login

API = "/api/v1"
BANK_DIR = Path(__file__).resolve().parent.parent / "question_bank"

GOOD_YAML = """\
bank: 导入测试
questions:
  - type: single
    area: 警示教育/新知识点
    stem: 导入测试单选题，答案是哪个？
    options: [甲, 乙, 丙]
    answer: B
    explanation: 答案是乙。
  - type: true_false
    area: 政治教育
    stem: 导入测试判断题。
    answer: true
    explanation: 正确。
  - type: fill_blank
    stem: 导入测试填空____。
    answer: [["一", "壹"]]
    explanation: 填一。
"""

BAD_YAML = """\
bank: 导入测试
questions:
  - type: single
    stem: 有效的一题？
    options: [甲, 乙]
    answer: A
    explanation: 甲。
  - type: single
    stem: 答案越界的一题？
    options: [甲, 乙, 丙, 丁]
    answer: E
    explanation: 无。
  - type: essay
    stem: 论述题不支持。
    answer: 随便
"""


async def count(app: FastAPI, model: Any) -> int:
    async with app.state.database.sessionmaker() as session:
        return int((await session.execute(select(func.count(model.id)))).scalar_one())


async def upload(
    client: AsyncClient,
    headers: dict[str, str],
    content: bytes | str,
    name: str = "bank.yaml",
    **form: Any,
) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return await client.post(
        f"{API}/imports/bank",
        headers=headers,
        files={"file": (name, data, "application/octet-stream")},
        data={k: str(v) for k, v in form.items()},
    )


async def test_preview_writes_nothing_and_commit_imports(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    admin = await login(client, "admin")
    before = await count(app, Question)
    response = await upload(client, admin, GOOD_YAML, bank_name="导入测试")
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "previewed"
    assert job["counts"] == {
        "total": 3,
        "valid": 3,
        "errors": 0,
        "duplicates_in_file": 0,
        "duplicates_in_bank": 0,
        "to_import": 3,
        "other_problems": 0,
    }
    assert job["new_knowledge_areas"] == ["未分类", "警示教育/新知识点"]
    assert job["format"] == "yaml" and len(job["file_sha256"]) == 64
    assert job["created_by"]["name"] == "系统管理员"
    assert await count(app, Question) == before

    items = (await client.get(f"{API}/imports/{job['id']}/items", headers=admin)).json()
    assert items["total"] == 3
    assert [i["answer"] for i in items["items"]] == ["B", "正确", "一;壹"]
    assert all("question" not in i for i in items["items"])

    committed = await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})
    assert committed.status_code == 200, committed.text
    body = committed.json()
    assert body["status"] == "committed" and body["committed_by"]["name"] == "系统管理员"
    assert body["result"] == {"created": 3, "skipped_duplicates": 0, "areas_created": 2}
    assert await count(app, Question) == before + 3
    listed = (await client.get(f"{API}/questions", headers=admin, params={"q": "导入测试单选题"})).json()
    assert listed["total"] == 1
    question = listed["items"][0]
    assert question["knowledge_area_full_name"] == "警示教育/新知识点"
    assert question["answer_indexes"] == 1 and question["points"] == 1 and question["difficulty"] == 2

    again = await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})
    assert again.status_code == 409 and again.json()["code"] == "import_not_pending"


async def test_reimporting_the_same_file_adds_nothing(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    admin = await login(client, "admin")
    first = (await upload(client, admin, GOOD_YAML, bank_name="导入测试")).json()
    await client.post(f"{API}/imports/{first['id']}/commit", headers=admin, json={})
    total = await count(app, Question)
    second = (await upload(client, admin, GOOD_YAML, bank_name="导入测试")).json()
    assert second["counts"]["duplicates_in_bank"] == 3 and second["counts"]["to_import"] == 0
    assert {d["kind"] for d in second["duplicates"]} == {"in_bank"}
    assert all(d["question_id"] for d in second["duplicates"])
    result = (await client.post(f"{API}/imports/{second['id']}/commit", headers=admin, json={})).json()
    assert result["result"]["created"] == 0
    assert await count(app, Question) == total


async def test_two_previews_committed_one_after_the_other_add_each_question_once(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    """Both previews were made before either commit: the second commit re-checks the bank."""
    admin = await login(client, "admin")
    first = (await upload(client, admin, GOOD_YAML, bank_name="导入测试")).json()
    second = (await upload(client, admin, GOOD_YAML, bank_name="导入测试")).json()
    assert second["counts"]["to_import"] == 3
    await client.post(f"{API}/imports/{first['id']}/commit", headers=admin, json={})
    total = await count(app, Question)
    result = (await client.post(f"{API}/imports/{second['id']}/commit", headers=admin, json={})).json()
    assert result["result"] == {"created": 0, "skipped_duplicates": 3, "areas_created": 0}
    assert await count(app, Question) == total


async def test_duplicates_within_the_file_name_the_first(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    doubled = GOOD_YAML + GOOD_YAML.split("questions:\n", 1)[1].split("  - type: true_false")[0]
    job = (await upload(client, admin, doubled, bank_name="导入测试")).json()
    assert job["counts"]["duplicates_in_file"] == 1 and job["counts"]["to_import"] == 3
    duplicate = job["duplicates"][0]
    assert duplicate["kind"] == "in_file" and duplicate["first_line"] == 3 and duplicate["line"] > 3
    items = (await client.get(f"{API}/imports/{job['id']}/items?status=duplicate", headers=admin)).json()
    assert items["total"] == 1


async def test_errors_block_commit_unless_valid_only_is_chosen(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    admin = await login(client, "admin")
    before = await count(app, Question)
    job = (await upload(client, admin, BAD_YAML, bank_name="导入测试")).json()
    assert job["counts"]["valid"] == 1 and job["counts"]["errors"] == 2
    codes = {(e["code"], e["line"], e["field"]) for e in job["errors"]}
    assert ("answer_out_of_range", 8, "answer") in codes
    assert ("unsupported_type", 13, "type") in codes
    out_of_range = next(e for e in job["errors"] if e["code"] == "answer_out_of_range")
    assert "E" in out_of_range["message"] and "A 到 D" in out_of_range["message"]
    assert out_of_range["message_en"].startswith("Answer letter E")
    errors = (await client.get(f"{API}/imports/{job['id']}/items?status=error", headers=admin)).json()
    assert errors["total"] == 2 and all(item["issues"] for item in errors["items"])

    refused = await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})
    assert refused.status_code == 409 and refused.json()["code"] == "import_has_errors"
    assert await count(app, Question) == before
    state = (await client.get(f"{API}/imports/{job['id']}", headers=admin)).json()
    assert state["status"] == "previewed"

    partial = await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={"valid_only": True})
    assert partial.status_code == 200
    assert partial.json()["valid_only"] is True and partial.json()["result"]["created"] == 1
    assert await count(app, Question) == before + 1


async def test_discarded_job_cannot_be_committed(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    job = (await upload(client, admin, GOOD_YAML, bank_name="导入测试")).json()
    discarded = await client.post(f"{API}/imports/{job['id']}/discard", headers=admin)
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    assert discarded.json()["counts"]["total"] == 3  # the preview stays on record
    refused = await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})
    assert refused.status_code == 409 and refused.json()["code"] == "import_not_pending"


@pytest.mark.postgres
async def test_racing_commits_import_once(app: FastAPI, client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    job = (await upload(client, admin, GOOD_YAML, bank_name="导入测试")).json()
    before = await count(app, Question)
    responses = await asyncio.gather(
        *(client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={}) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    assert await count(app, Question) == before + 3


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("bank.xlsx", b"this is not a workbook at all", "not_a_zip"),
        ("bank.docx", b"\x00\x01garbage", "not_a_zip"),
        ("bank.xls", b"\xd0\xcf\x11\xe0 old excel", "old_excel_format"),
        ("bank.pdf", b"%PDF-1.4", "unknown_format"),
        ("bank.csv", b"", "empty_file"),
        ("bank.txt", b"\x00\x00\x00binary\x00", "binary_file"),
        ("bank.txt", bytes(range(0x80, 0x100)) * 20, "unknown_encoding"),
    ],
)
async def test_refused_files_change_nothing(
    app: FastAPI, client: AsyncClient, world: World, name: str, content: bytes, code: str
) -> None:
    admin = await login(client, "admin")
    response = await upload(client, admin, content, name=name, bank_name="导入测试")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == code and body["detail"] and body["message_en"]
    assert await count(app, ImportJob) == 0


async def test_an_upload_over_the_limit_is_refused(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    response = await upload(
        client, admin, b"x" * (MAX_UPLOAD_BYTES + 1), name="big.csv", bank_name="导入测试"
    )
    assert response.status_code == 422 and response.json()["code"] == "file_too_large"


async def test_bank_name_is_required_unless_the_file_names_one(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    from_file = await upload(client, admin, GOOD_YAML)
    assert from_file.status_code == 201 and from_file.json()["bank_name"] == "导入测试"
    missing = await upload(client, admin, GOOD_YAML.replace("bank: 导入测试\n", ""))
    assert missing.status_code == 422 and missing.json()["code"] == "bank_required"
    into_existing = await upload(client, admin, GOOD_YAML, bank_id=world.bank.id)
    assert into_existing.json()["bank_name"] == "测试题库"
    unknown = await upload(client, admin, GOOD_YAML, bank_id=99999)
    assert unknown.status_code == 404


@pytest.mark.parametrize("username", ["officer1", "inspector", "unitadmin"])
async def test_only_administrators_import_questions(client: AsyncClient, world: World, username: str) -> None:
    headers = await login(client, username)
    response = await upload(client, headers, GOOD_YAML, bank_name="导入测试")
    assert response.status_code == 403
    export = await client.get(f"{API}/banks/{world.bank.id}/export", headers=headers)
    assert export.status_code == 403


async def test_unit_admins_do_not_see_bank_jobs(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    job = (await upload(client, admin, GOOD_YAML, bank_name="导入测试")).json()
    unit_admin = await login(client, "unitadmin")
    for method, path in [
        ("GET", f"/imports/{job['id']}"),
        ("GET", f"/imports/{job['id']}/items"),
        ("POST", f"/imports/{job['id']}/commit"),
        ("POST", f"/imports/{job['id']}/discard"),
    ]:
        response = await client.request(method, f"{API}{path}", headers=unit_admin, json={})
        assert response.status_code == 404, (path, response.text)
    listed = (await client.get(f"{API}/imports", headers=unit_admin)).json()
    assert listed == {"items": [], "total": 0}
    officer = await login(client, "officer1")
    assert (await client.get(f"{API}/imports", headers=officer)).status_code == 403
    mine = (await client.get(f"{API}/imports?kind=bank", headers=admin)).json()
    assert mine["total"] == 1 and mine["items"][0]["counts"]["total"] == 3


async def test_sample_bank_imports_without_errors(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    totals = {"valid": 0, "errors": 0}
    types: set[str] = set()
    for path in sorted(BANK_DIR.glob("*.yaml")):
        job = (await upload(client, admin, path.read_bytes(), name=path.name)).json()
        assert job["errors"] == [], (path.name, job["errors"][:3])
        totals["valid"] += job["counts"]["valid"]
        committed = (await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})).json()
        assert committed["result"]["created"] == job["counts"]["to_import"]
        items = (await client.get(f"{API}/imports/{job['id']}/items?limit=500", headers=admin)).json()
        types.update(item["type"] for item in items["items"])
    assert totals["valid"] >= 200
    assert types == {"single", "multiple", "true_false", "fill_blank"}


async def exported(client: AsyncClient, headers: dict[str, str], bank_id: int, fmt: str) -> bytes:
    response = await client.get(f"{API}/banks/{bank_id}/export", headers=headers, params={"format": fmt})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    return response.content


def contents(page: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            q["type"],
            q["stem"],
            tuple(o["text"] for o in q["options"]),
            repr(q["answer_indexes"] if q["type"] in ("single", "multiple") else q["answer"]),
            q["explanation"],
            q["difficulty"],
            q["points"],
            q["knowledge_area_full_name"],
            tuple(q["tags"]),
        )
        for q in page["items"]
    )


@pytest.mark.parametrize(("fmt", "suffix"), [("json", ".json"), ("xlsx", ".xlsx"), ("gift", ".gift")])
async def test_export_imports_back_losslessly(
    client: AsyncClient, world: World, fmt: str, suffix: str
) -> None:
    admin = await login(client, "admin")
    for path in sorted(BANK_DIR.glob("*.yaml"))[:3]:
        job = (await upload(client, admin, path.read_bytes(), name=path.name, bank_name="源题库")).json()
        await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})
    source = next(
        b for b in (await client.get(f"{API}/banks", headers=admin)).json() if b["name"] == "源题库"
    )
    content = await exported(client, admin, source["id"], fmt)
    job = (await upload(client, admin, content, name=f"export{suffix}", bank_name="副本")).json()
    assert job["errors"] == [] and job["counts"]["to_import"] == source["question_count"]
    committed = (await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})).json()
    copy_id = committed["bank_id"]
    original = (await client.get(f"{API}/questions?bank_id={source['id']}&limit=500", headers=admin)).json()
    copied = (await client.get(f"{API}/questions?bank_id={copy_id}&limit=500", headers=admin)).json()
    assert original["total"] == copied["total"] > 50
    assert contents(original) == contents(copied)


async def test_export_follows_the_filters(client: AsyncClient, world: World) -> None:
    admin = await login(client, "admin")
    response = await client.get(
        f"{API}/banks/{world.bank.id}/export", headers=admin, params={"format": "json", "type": "true_false"}
    )
    import json

    data = json.loads(response.content)
    assert len(data["questions"]) == 6 and {q["type"] for q in data["questions"]} == {"true_false"}


async def test_editing_a_question_keeps_its_earlier_version(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    admin = await login(client, "admin")
    question_id = world.question_ids["single"][0]
    original = (await client.get(f"{API}/questions/{question_id}", headers=admin)).json()
    edited = await client.patch(
        f"{API}/questions/{question_id}",
        headers=admin,
        json={"stem": "改过的题干？", "explanation": "新解析"},
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    versions = (await client.get(f"{API}/questions/{question_id}/versions", headers=admin)).json()
    assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]
    assert versions[0]["stem"] == "改过的题干？"
    assert versions[1]["stem"] == original["stem"] and versions[1]["explanation"] == original["explanation"]
    assert versions[1]["options"] == original["options"] and versions[1]["answer"] == original["answer"]
    # An edit that changes nothing makes no version.
    await client.patch(f"{API}/questions/{question_id}", headers=admin, json={"stem": "改过的题干？"})
    assert await count(app, QuestionVersion) == 1
    officer = await login(client, "officer1")
    assert (await client.get(f"{API}/questions/{question_id}/versions", headers=officer)).status_code == 403


# ---------------------------------------------------------------- rosters through the API

ROSTER_CSV = """单位,上级单位,警号,姓名,手机号,角色,状态
甲县新派出所,甲县,100001,新警一,13800000001,民警,在职
甲县新派出所,甲县,100002,新警二,,民警,在职
甲县人民法院,甲县,officer1,张三,13900000000,,在职
"""


async def upload_roster(client: AsyncClient, headers: dict[str, str], content: str, **form: Any) -> Any:
    return await client.post(
        f"{API}/imports/roster",
        headers=headers,
        files={"file": ("roster.csv", content.encode("utf-8-sig"), "text/csv")},
        data={k: str(v) for k, v in form.items()},
    )


async def test_roster_preview_then_commit_creates_units_and_officers(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    from app.units.models import Unit, User

    unit_admin = await login(client, "unitadmin")
    users_before, units_before = await count(app, User), await count(app, Unit)
    response = await upload_roster(client, unit_admin, ROSTER_CSV)
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["kind"] == "roster" and job["errors"] == [], job["errors"]
    assert job["counts"]["create"] == 2 and job["counts"]["update"] == 1
    assert job["new_units"] == ["示范市/甲县/甲县新派出所"]
    assert (await count(app, User), await count(app, Unit)) == (users_before, units_before)
    items = (await client.get(f"{API}/imports/{job['id']}/items?status=update", headers=unit_admin)).json()
    assert items["items"][0]["changes"]["phone"] == [None, "13900000000"]

    committed = await client.post(f"{API}/imports/{job['id']}/commit", headers=unit_admin, json={})
    assert committed.status_code == 200, committed.text
    result = committed.json()["result"]
    assert result["units_created"] == 1 and result["created"] == 2 and result["updated"] == 1
    passwords = {p["police_number"]: p["password"] for p in result["initial_passwords"]}
    assert set(passwords) == {"100001", "100002"}
    # The passwords are shown once: not kept on the job.
    stored = (await client.get(f"{API}/imports/{job['id']}", headers=unit_admin)).json()
    assert "initial_passwords" not in stored["result"]
    new_officer = await client.post(
        f"{API}/auth/login", json={"username": "100001", "password": passwords["100001"]}
    )
    assert new_officer.status_code == 200 and new_officer.json()["user"]["must_change_password"] is True

    again = (await upload_roster(client, unit_admin, ROSTER_CSV)).json()
    assert again["counts"]["unchanged"] == 3 and again["counts"]["create"] == 0


async def test_roster_leavers_are_deactivated_not_deleted(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    from app.units.models import User

    admin = await login(client, "admin")
    officer = await login(client, "officer1")
    leaving = "单位,上级单位,警号,姓名,状态\n甲县人民法院,甲县,officer1,张三,离职\n"
    job = (await upload_roster(client, admin, leaving)).json()
    assert job["counts"]["deactivate"] == 1
    before = await count(app, User)
    await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})
    assert await count(app, User) == before
    assert (await client.get(f"{API}/me", headers=officer)).status_code == 401


async def test_roster_out_of_scope_rows_are_errors(client: AsyncClient, world: World) -> None:
    other_admin = await login(client, "otheradmin")
    job = (await upload_roster(client, other_admin, ROSTER_CSV)).json()
    assert job["counts"]["errors"] >= 3
    assert {e["field"] for e in job["errors"]} <= {"单位", "上级单位", "警号"}
    refused = await client.post(f"{API}/imports/{job['id']}/commit", headers=other_admin, json={})
    assert refused.status_code == 409 and refused.json()["code"] == "import_has_errors"
    officer = await login(client, "officer1")
    assert (await upload_roster(client, officer, ROSTER_CSV)).status_code == 403
    inspector = await login(client, "inspector")
    assert (await upload_roster(client, inspector, ROSTER_CSV)).status_code == 403
    # Another unit admin's roster job is invisible to this one.
    unit_admin = await login(client, "unitadmin")
    assert (await client.get(f"{API}/imports/{job['id']}", headers=unit_admin)).status_code == 404


async def test_warnings_do_not_block_a_commit(client: AsyncClient, world: World) -> None:
    """An unknown column and content under no header are warnings: shown, never blocking."""
    admin = await login(client, "admin")
    sheet = "题型,题干,选项A,选项B,答案,备注,\n单选题,警告测试的一题？,甲,乙,A,随手写的,无表头的内容\n"
    job = (
        await upload(client, admin, sheet.encode("utf-8-sig"), name="bank.csv", bank_name="导入测试")
    ).json()
    assert job["errors"] == []
    assert {w["code"] for w in job["warnings"]} == {"unknown_column", "unlabeled_column"}
    committed = await client.post(f"{API}/imports/{job['id']}/commit", headers=admin, json={})
    assert committed.status_code == 200 and committed.json()["result"]["created"] == 1
