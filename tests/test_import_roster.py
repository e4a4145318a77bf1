"""Roster (花名册) import: parsing, the template, and plan/apply against the database.

API-free: the plan and apply functions are called with a session, as the import job does.
"""

import io
import json
import string
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import AuthSession
from app.core.deps import Principal
from app.core.errors import Conflict
from app.core.security import verify_password
from app.db.types import utcnow
from app.imports import messages
from app.imports.common import WARNING_CODES
from app.imports.files import FileRejected, Table, read_table
from app.imports.roster import (
    ROSTER_COLUMNS,
    RosterRow,
    parse_roster,
    roster_rows_from_payload,
    roster_rows_to_payload,
)
from app.imports.roster_service import RosterPlan, RosterStale, apply_roster, plan_roster
from app.imports.roster_template import EXAMPLES, INSTRUCTIONS_SHEET, ROSTER_SHEET, roster_template
from app.units.models import Role, Unit, User
from app.units.service import create_unit, create_user
from tests.factories import World, password_hash

# Parsing --------------------------------------------------------------------------------------


def table(cells: Sequence[Sequence[str]], headers: Sequence[str] = ROSTER_COLUMNS) -> Table:
    """A sheet: headers on row 1, then the rows from row 2 as Excel numbers them."""
    return Table(headers=list(headers), rows=iter([(n, list(c)) for n, c in enumerate(cells, start=2)]))


def parse(*cells: Sequence[str]) -> tuple[list[RosterRow], list[Any]]:
    return parse_roster(table(cells))


def test_parse_reads_every_column_normalised() -> None:
    rows, issues = parse(
        ["江川市 / 东山县 / 公安局", "", "ＰＮ１２３４", " 张三 ", "138 0013-8000", "民警", "在职"],
        ["C-A-COURT", "江川市／东山县", "035127", "李四", "+86 139 0000 0000", "单位管理员", "离职"],
        ["公安局", "", "A12345", "王五", "", "评估验收组", "调离"],
        ["公安局", "", "B12345", "赵六", "", "", ""],
        ["公安局", "", "C12345", "孙七", "", "辅警", "退休"],
    )
    assert issues == []
    assert rows[0] == RosterRow(
        row=2,
        unit="江川市/东山县/公安局",
        parent_unit="",
        police_number="PN1234",
        name="张三",
        phone="13800138000",
        role="officer",
        active=True,
    )
    assert (rows[1].parent_unit, rows[1].phone, rows[1].role, rows[1].active) == (
        "江川市/东山县",
        "13900000000",
        "unit_admin",
        False,
    )
    assert (rows[2].role, rows[2].active) == ("inspector", False)
    # Empty role and status: a new person is an active officer, an existing one keeps their role.
    assert (rows[3].role, rows[3].phone, rows[3].active) == (None, None, True)
    assert (rows[4].role, rows[4].active) == ("officer", False)
    assert [r.row for r in rows] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "headers",
    [
        ["单位*", "上级单位", "警号*", "姓名*", "手机号", "角色", "状态"],
        [" 单位 ＊", "上 级 单 位", "警号（必填）", "姓名", "手机", "角色", "状态"],
        ["Unit", "parent_unit", "Police Number", "NAME", "phone", "Role", "status"],
        ["unit", "Parent Unit", "police_number", "name", "mobile", "role", "Status"],
    ],
)
def test_parse_header_variants(headers: list[str]) -> None:
    rows, issues = parse_roster(
        table([["公安局", "东山县", "1234", "张三", "13800138000", "干警", "在职"]], headers)
    )
    assert issues == []
    assert (rows[0].unit, rows[0].parent_unit, rows[0].police_number, rows[0].name, rows[0].phone) == (
        "公安局",
        "东山县",
        "1234",
        "张三",
        "13800138000",
    )


def test_parse_columns_in_any_order_and_optional_ones_missing() -> None:
    rows, issues = parse_roster(table([["张三", "1234", "公安局"]], ["姓名", "警号", "单位"]))
    assert issues == []
    assert (rows[0].unit, rows[0].police_number, rows[0].name, rows[0].role, rows[0].active) == (
        "公安局",
        "1234",
        "张三",
        None,
        True,
    )


def test_parse_unknown_column_is_a_warning() -> None:
    rows, issues = parse_roster(table([["公安局", "1234", "张三", "科长"]], ["单位", "警号", "姓名", "职务"]))
    assert len(rows) == 1 and rows[0].issues == ()
    assert [(i.code, i.row, i.field) for i in issues] == [("unknown_column", 1, "职务")]
    assert issues[0].code in WARNING_CODES


@pytest.mark.parametrize("missing", ["单位", "警号", "姓名"])
def test_parse_refuses_file_without_required_column(missing: str) -> None:
    headers = [c for c in ROSTER_COLUMNS if c != missing]
    with pytest.raises(FileRejected) as caught:
        parse_roster(table([["x"] * len(headers)], headers))
    assert caught.value.code == "missing_column"
    assert caught.value.params == {"column": missing}


def test_parse_refuses_duplicate_column_and_empty_sheet() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_roster(table([], ["单位", "警号", "姓名", "警号"]))
    assert caught.value.code == "duplicate_column"
    with pytest.raises(FileRejected) as caught:
        parse_roster(table([["", "", "", "", "", "", ""], [" "] * 7]))
    assert caught.value.code == "roster_empty"


def test_parse_skips_blank_rows_and_keeps_row_numbers() -> None:
    rows, issues = parse(
        ["公安局", "", "1234", "张三", "", "", ""], [""] * 7, ["公安局", "", "5678", "李四", "", "", ""]
    )
    assert issues == []
    assert [r.row for r in rows] == [2, 4]


GOOD = ["公安局", "东山县", "1234", "张三", "13800138000", "干警", "在职"]


def with_cell(column: str, value: str) -> list[str]:
    """GOOD with one cell changed, and another police number (so only that cell is wrong)."""
    cells = list(GOOD)
    cells[ROSTER_COLUMNS.index("警号")] = "5678"
    cells[ROSTER_COLUMNS.index(column)] = value
    return cells


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("单位", "", "roster_required"),
        ("单位", "江川市//公安局", "roster_invalid_unit"),
        ("单位", "公" * 101, "too_long"),
        ("上级单位", "江川市/", "roster_invalid_unit"),
        ("警号", "", "roster_required"),
        ("警号", "123", "roster_invalid_police_number"),
        ("警号", "1" * 21, "roster_invalid_police_number"),
        ("警号", "12-34", "roster_invalid_police_number"),
        ("警号", "警12345", "roster_invalid_police_number"),
        ("姓名", "", "roster_required"),
        ("姓名", "张" * 65, "too_long"),
        ("手机号", "1380013800", "roster_invalid_phone"),
        ("手机号", "23800138000", "roster_invalid_phone"),
        ("手机号", "138001380001", "roster_invalid_phone"),
        ("手机号", "010-12345678", "roster_invalid_phone"),
        ("角色", "管理员", "roster_role_not_allowed"),
        ("角色", "admin", "roster_role_not_allowed"),
        ("角色", "科长", "roster_unknown_role"),
        ("状态", "请假", "roster_unknown_status"),
    ],
)
def test_parse_malformed_cell(column: str, value: str, code: str) -> None:
    rows, issues = parse(GOOD, with_cell(column, value))
    assert rows[0].issues == ()
    assert [(i.code, i.row, i.field) for i in issues] == [(code, 3, column)]
    assert rows[1].issues == tuple(issues)
    # Every message says something (zh-CN and English), not just the code.
    assert issues[0].message != code and issues[0].message_en != code
    if value and code != "too_long":
        assert value.strip() in issues[0].message


def test_parse_same_police_number_twice_names_the_first_row() -> None:
    _, issues = parse(GOOD, ["派出所", "", "A7777", "李四", "", "", ""], with_cell("警号", "1234"))
    assert [(i.code, i.row, i.field, i.params) for i in issues] == [
        ("roster_duplicate_police_number", 4, "警号", {"police_number": "1234", "first_row": 2})
    ]
    assert "第 2 行" in issues[0].message
    # Full-width and half-width forms are the same number.
    _, issues = parse(GOOD, with_cell("警号", "１２３４"))
    assert [(i.code, i.row) for i in issues] == [("roster_duplicate_police_number", 3)]


def test_parse_reports_every_problem_of_a_row() -> None:
    _, issues = parse(["", "", "12", "", "12", "科长", "请假"])
    assert sorted((i.field, i.code) for i in issues) == [
        ("单位", "roster_required"),
        ("姓名", "roster_required"),
        ("手机号", "roster_invalid_phone"),
        ("状态", "roster_unknown_status"),
        ("角色", "roster_unknown_role"),
        ("警号", "roster_invalid_police_number"),
    ]
    assert {i.row for i in issues} == {2}


_ALNUM = string.ascii_letters + string.digits


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


@given(st.text(_ALNUM, min_size=4, max_size=20), st.booleans())
def test_police_number_property(number: str, wide: bool) -> None:
    written = _full_width(number) if wide else f"  {number} "
    rows, issues = parse(with_cell("警号", written))
    assert issues == []
    assert rows[0].police_number == number


@given(
    st.lists(st.sampled_from(["", " ", "-", " - "]), min_size=11, max_size=11),
    st.text("0123456789", min_size=10, max_size=10),
)
def test_phone_property(separators: list[str], digits: str) -> None:
    number = "1" + digits
    written = "".join(sep + ch for sep, ch in zip(separators, number, strict=True))
    rows, issues = parse(with_cell("手机号", written))
    assert issues == []
    assert rows[0].phone == number


@given(st.lists(st.text(max_size=30), min_size=7, max_size=7))
def test_parse_never_fails_on_a_row(cells: list[str]) -> None:
    """Whatever a row holds, it comes back as a row with issues, never an exception."""
    rows, issues = parse(GOOD, cells)
    if any(c.strip() for c in cells):
        assert len(rows) == 2
        assert rows[1].issues == tuple(issues)
        for problem in issues:
            assert problem.row == 3 and problem.field in ROSTER_COLUMNS
            assert problem.message != problem.code


def test_payload_round_trip() -> None:
    rows, issues = parse(GOOD, with_cell("角色", "科长"), with_cell("警号", "A9999"))
    assert issues
    payload = roster_rows_to_payload(rows)
    assert roster_rows_from_payload(json.loads(json.dumps(payload))) == rows


def test_messages_registered_in_both_languages() -> None:
    codes = [c for c in messages.ZH if c.startswith("roster_")]
    assert len(codes) >= 20
    for code in codes:
        assert messages.EN[code] and messages.ZH[code]


# The template -----------------------------------------------------------------------------------


def fill_template(cells: Iterable[Sequence[str]], *, keep_examples: bool) -> bytes:
    book = load_workbook(io.BytesIO(roster_template()))
    sheet = book[ROSTER_SHEET]
    if not keep_examples:
        sheet.delete_rows(2, len(EXAMPLES))
    for row in cells:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_layout() -> None:
    book = load_workbook(io.BytesIO(roster_template()))
    assert book.sheetnames == [ROSTER_SHEET, INSTRUCTIONS_SHEET]
    sheet = book[ROSTER_SHEET]
    headers = [c.value for c in sheet[1]]
    assert [str(h).rstrip("*") for h in headers] == list(ROSTER_COLUMNS)
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    lists = {str(dv.sqref)[0]: dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert lists["F"] == '"干警,单位管理员,检查组"'
    assert "在职" in lists["G"] and "离职" in lists["G"]
    assert sheet.column_dimensions["C"].number_format == "@"
    text = " ".join(str(c.value) for row in book[INSTRUCTIONS_SHEET].iter_rows() for c in row)
    assert "警号" in text and "上级单位" in text and "停用" in text


def test_template_round_trip() -> None:
    filled = fill_template(
        [
            ["公安局", "江川市/东山县", "035129", "王芳", "13700001111", "单位管理员", "在职"],
            ["江川市/东山县/法院", "", "A00123", "赵强", "", "检查组", ""],
            ["司法所", "东山县", "000777", "钱多", "", "辅警", "停用"],
        ],
        keep_examples=True,
    )
    rows, issues = parse_roster(read_table(filled, "xlsx", (ROSTER_SHEET,)))
    assert issues == []
    assert [r.police_number for r in rows] == ["035127", "035128", "035129", "A00123", "000777"]
    assert [r.row for r in rows] == [2, 3, 4, 5, 6]
    assert (rows[2].role, rows[3].role, rows[4].role, rows[4].active) == (
        "unit_admin",
        "inspector",
        "officer",
        False,
    )
    # An xlsx saved as CSV reads the same.
    csv = "\n".join(",".join(r) for r in [list(ROSTER_COLUMNS), *[list(e) for e in EXAMPLES]]).encode(
        "gb18030"
    )
    csv_rows, csv_issues = parse_roster(read_table(csv, "csv"))
    assert csv_issues == []
    assert [r.police_number for r in csv_rows] == ["035127", "035128"]


# Against the database --------------------------------------------------------------------------


async def principal_for(session: AsyncSession, username: str) -> Principal:
    user, unit = (
        await session.execute(
            select(User, Unit).join(Unit, Unit.id == User.unit_id).where(User.username == username)
        )
    ).one()
    return Principal(
        id=user.id,
        username=user.username,
        name=user.name,
        role=user.role,
        unit_id=user.unit_id,
        unit_path=unit.path,
        session_id="test",
        must_change_password=False,
    )


def rows_of(cells: Sequence[Sequence[str]]) -> list[RosterRow]:
    rows, _ = parse_roster(table(cells))
    # As the import job keeps them between preview and commit.
    return roster_rows_from_payload(roster_rows_to_payload(rows))


async def plan(
    app: FastAPI, cells: Sequence[Sequence[str]], *, by: str = "admin", deactivate_missing: bool = False
) -> RosterPlan:
    async with app.state.database.sessionmaker() as session:
        principal = await principal_for(session, by)
        return await plan_roster(session, principal, rows_of(cells), deactivate_missing=deactivate_missing)


async def apply(
    app: FastAPI,
    cells: Sequence[Sequence[str]],
    *,
    by: str = "admin",
    deactivate_missing: bool = False,
    skip_rows: Sequence[int] = (),
) -> dict[str, Any]:
    async with app.state.database.sessionmaker() as session:
        principal = await principal_for(session, by)
        try:
            result = await apply_roster(
                session, principal, rows_of(cells), deactivate_missing=deactivate_missing, skip_rows=skip_rows
            )
        except Exception:
            await session.rollback()
            raise
        await session.commit()
        return result


async def people(app: FastAPI) -> dict[str, User]:
    async with app.state.database.sessionmaker() as session:
        users = (await session.execute(select(User))).scalars().all()
        return {u.police_number or u.username: u for u in users}


async def units(app: FastAPI) -> dict[str, Unit]:
    async with app.state.database.sessionmaker() as session:
        return {u.code: u for u in (await session.execute(select(Unit))).scalars().all()}


async def snapshot(app: FastAPI) -> tuple[Any, ...]:
    """Everything an import may write, to compare before and after."""
    async with app.state.database.sessionmaker() as session:
        unit_rows = (
            await session.execute(select(Unit.id, Unit.code, Unit.name, Unit.path).order_by(Unit.id))
        ).all()
        user_rows = (
            await session.execute(
                select(User.id, User.name, User.phone, User.unit_id, User.role, User.is_active).order_by(
                    User.id
                )
            )
        ).all()
        revoked = (
            await session.execute(select(func.count()).where(AuthSession.revoked_at.is_not(None)))
        ).scalar_one()
        return (tuple(unit_rows), tuple(user_rows), revoked)


def item_for(result: RosterPlan, police_number: str) -> dict[str, Any]:
    return next(i for i in result.items if i["police_number"] == police_number)


async def test_plan_counts_items_and_writes_nothing(app: FastAPI, world: World) -> None:
    before = await snapshot(app)
    cells = [
        ["甲县人民法院", "", "officer1", "张三", "", "", ""],
        ["甲县人民法院", "", "officer2", "李四", "138 0013 8000", "", ""],
        ["派出所", "甲县", "P0001", "新人甲", "", "干警", ""],
        ["派出所", "示范市/甲县", "P0002", "新人乙", "", "", ""],
        ["甲县", "", "officer3", "王五", "", "", "离职"],
        ["不存在的单位", "", "P0003", "某人", "", "", ""],
        ["甲县人民法院", "", "12", "短号", "", "", ""],
    ]
    result = await plan(app, cells)
    assert result.counts == {
        "total": 7,
        "valid": 5,
        "errors": 2,
        "new_units": 1,
        "create": 2,
        "update": 1,
        "deactivate": 1,
        "unchanged": 1,
    }
    assert result.new_units == ["示范市/甲县/派出所"]
    assert [i["status"] for i in result.items] == [
        "unchanged",
        "update",
        "create",
        "create",
        "deactivate",
        "error",
        "error",
    ]
    assert item_for(result, "officer2")["changes"] == {"phone": [None, "13800138000"]}
    assert item_for(result, "officer3")["changes"] == {"active": [True, False]}
    created = item_for(result, "P0001")
    assert (created["unit"], created["role"], created["active"], created["row"]) == (
        "示范市/甲县/派出所",
        "officer",
        True,
        4,
    )
    # The database problem is in plan.issues; the row's own (parse) problem only on its item.
    assert [(i.code, i.row, i.field) for i in result.issues] == [("roster_unit_not_found", 7, "单位")]
    assert [i["code"] for i in item_for(result, "12")["issues"]] == ["roster_invalid_police_number"]
    assert result.error_rows == [7, 8]
    assert await snapshot(app) == before


async def test_apply_creates_units_and_officers(app: FastAPI, world: World) -> None:
    cells = [
        # The child unit comes first; its parent is new too, made by the next row.
        ["城关所", "示范市/甲县/公安局", "P1001", "周一", "138-0013-8001", "", ""],
        ["公安局", "甲县", "P1002", "吴二", "", "单位管理员", ""],
        ["甲县人民法院", "", "P1003", "郑三", "", "检查组", "在职"],
    ]
    preview = await plan(app, cells)
    assert preview.counts["create"] == 3 and preview.counts["errors"] == 0
    assert preview.new_units == ["示范市/甲县/公安局", "示范市/甲县/公安局/城关所"]

    result = await apply(app, cells)
    assert (result["units_created"], result["created"], result["updated"], result["deactivated"]) == (
        2,
        3,
        0,
        0,
    )
    passwords = {p["police_number"]: p for p in result["initial_passwords"]}
    assert set(passwords) == {"P1001", "P1002", "P1003"}
    assert passwords["P1001"]["name"] == "周一"

    by_code = await units(app)
    bureau = by_code["C-A-01"]
    station = by_code["C-A-01-01"]
    assert (bureau.name, bureau.parent_id, bureau.path) == (
        "公安局",
        world.county.id,
        f"{world.county.path}{bureau.id}/",
    )
    assert (station.name, station.parent_id, station.depth) == ("城关所", bureau.id, bureau.depth + 1)
    assert station.path == f"{bureau.path}{station.id}/"

    found = await people(app)
    first = found["P1001"]
    assert (first.username, first.name, first.phone, first.role, first.unit_id) == (
        "P1001",
        "周一",
        "13800138001",
        "officer",
        station.id,
    )
    assert (found["P1002"].role, found["P1002"].unit_id) == ("unit_admin", bureau.id)
    assert (found["P1003"].role, found["P1003"].unit_id) == ("inspector", world.court.id)
    for number, entry in passwords.items():
        user = found[number]
        assert user.must_change_password is True and user.is_active is True
        assert verify_password(entry["password"], user.password_hash)
        assert not verify_password(entry["password"] + "x", user.password_hash)

    # The same file again: nothing to do, nothing new.
    before = await snapshot(app)
    again = await plan(app, cells)
    assert again.counts["unchanged"] == 3 and again.counts["new_units"] == 0 and again.new_units == []
    assert all(i["changes"] == {} for i in again.items)
    result = await apply(app, cells)
    assert result == {
        "units_created": 0,
        "created": 0,
        "updated": 0,
        "deactivated": 0,
        "initial_passwords": [],
    }
    assert await snapshot(app) == before


async def test_reimport_with_changes_updates(app: FastAPI, world: World) -> None:
    await apply(app, [["甲县人民法院", "", "P2001", "冯四", "13800000001", "", ""]])
    cells = [
        ["乙县", "", "P2001", "冯肆", "13900000002", "", ""],
        ["甲县人民法院", "", "officer1", "张三", "", "", ""],
    ]
    preview = await plan(app, cells)
    changed = item_for(preview, "P2001")
    assert changed["status"] == "update"
    assert changed["changes"] == {
        "name": ["冯四", "冯肆"],
        "phone": ["13800000001", "13900000002"],
        "unit": ["示范市/甲县/甲县人民法院", "示范市/乙县"],
    }
    assert item_for(preview, "officer1")["status"] == "unchanged"
    result = await apply(app, cells)
    assert (result["updated"], result["created"]) == (1, 0)
    user = (await people(app))["P2001"]
    assert (user.name, user.phone, user.unit_id, user.must_change_password) == (
        "冯肆",
        "13900000002",
        world.other_county.id,
        True,
    )


async def test_status_left_deactivates_and_ends_logins(app: FastAPI, world: World) -> None:
    officer_id = world.users["officer1"]
    async with app.state.database.sessionmaker() as session:
        session.add(AuthSession(id="s" * 32, user_id=officer_id, expires_at=utcnow().replace(year=2099)))
        await session.commit()

    result = await apply(app, [["甲县人民法院", "", "officer1", "张三", "", "", "离职"]])
    assert result["deactivated"] == 1
    async with app.state.database.sessionmaker() as session:
        user = await session.get(User, officer_id)
        login = await session.get(AuthSession, "s" * 32)
        assert user is not None and login is not None
        # Still there, with its history: deactivated, never deleted.
        assert user.is_active is False and user.deactivated_at is not None
        assert login.revoked_at is not None and login.revoked_reason == "deactivated"

    back = await plan(app, [["甲县人民法院", "", "officer1", "张三", "", "", "在职"]])
    assert back.items[0]["status"] == "update" and back.items[0]["changes"] == {"active": [False, True]}
    result = await apply(app, [["甲县人民法院", "", "officer1", "张三", "", "", "在职"]])
    assert result["updated"] == 1
    user = (await people(app))["officer1"]
    assert user.is_active is True and user.deactivated_at is None


async def test_new_person_marked_left_is_not_created(app: FastAPI, world: World) -> None:
    preview = await plan(app, [["甲县", "", "P3001", "陈五", "", "", "退休"]])
    assert preview.items[0]["status"] == "unchanged"
    assert [w.code for w in preview.warnings] == ["roster_new_person_inactive"]
    assert preview.issues == [] and preview.counts["errors"] == 0
    result = await apply(app, [["甲县", "", "P3001", "陈五", "", "", "退休"]])
    assert result["created"] == 0
    assert "P3001" not in await people(app)


async def test_deactivate_missing(app: FastAPI, world: World) -> None:
    cells = [["甲县人民法院", "", "officer1", "张三", "", "", ""]]
    assert (await plan(app, cells)).counts["deactivate"] == 0

    preview = await plan(app, cells, deactivate_missing=True)
    missing = [i for i in preview.items if i["row"] is None]
    # Only officers of the unit named (not its sub-units or other units, not staff).
    assert [(i["police_number"], i["status"], i["changes"]) for i in missing] == [
        ("officer2", "deactivate", {"active": [True, False]})
    ]
    assert preview.counts["deactivate"] == 1 and preview.counts["total"] == 1

    result = await apply(app, cells, deactivate_missing=True)
    assert result["deactivated"] == 1
    found = await people(app)
    assert found["officer2"].is_active is False
    assert all(found[n].is_active for n in ("officer1", "officer3", "outsider", "unitadmin"))


async def test_unit_admin_scope(app: FastAPI, world: World) -> None:
    cells = [
        ["乙县", "", "X0001", "外人", "", "", ""],
        ["甲县人民法院", "", "outsider", "赵六", "", "", ""],
        ["甲县", "", "X0002", "检查", "", "检查组", ""],
        ["甲县", "", "X0003", "管理", "", "单位管理员", ""],
        ["新所", "甲县", "X0004", "新人", "", "", ""],
        ["新所二", "乙县", "X0005", "新人二", "", "", ""],
        ["甲县人民法院", "", "officer1", "张三改", "", "", ""],
        ["示范市/乙县/新所三", "", "X0006", "新人三", "", "", ""],
    ]
    preview = await plan(app, cells, by="unitadmin")
    problems = {(i.row, i.code, i.field) for i in preview.issues}
    assert problems == {
        (2, "roster_unit_out_of_scope", "单位"),
        (3, "roster_person_out_of_scope", "警号"),
        (4, "roster_role_forbidden", "角色"),
        (5, "roster_role_forbidden", "角色"),
        (7, "roster_unit_out_of_scope", "上级单位"),
        (9, "roster_unit_out_of_scope", "单位"),
    }
    assert [i["status"] for i in preview.items] == [
        "error",
        "error",
        "error",
        "error",
        "create",
        "error",
        "update",
        "error",
    ]
    assert preview.new_units == ["示范市/甲县/新所"]

    # The same file by an administrator: everything is in scope.
    assert (await plan(app, cells)).counts["errors"] == 0

    # Only the valid rows, as "import only the valid ones" does.
    result = await apply(app, cells, by="unitadmin", skip_rows=preview.error_rows)
    assert (result["units_created"], result["created"], result["updated"]) == (1, 1, 1)
    found = await people(app)
    assert "X0002" not in found and found["officer1"].name == "张三改"
    assert found["outsider"].unit_id == world.other_county.id and found["outsider"].name == "赵六"


async def test_unit_admin_cannot_change_roles_or_staff(app: FastAPI, world: World) -> None:
    cells = [
        ["甲县人民法院", "", "officer1", "张三", "", "单位管理员", ""],
        ["甲县", "", "unitadmin", "甲县管理员", "", "", "离职"],
    ]
    async with app.state.database.sessionmaker() as session:
        admin = await session.get(User, world.users["unitadmin"])
        assert admin is not None
        admin.police_number = "unitadmin"
        await session.commit()
    preview = await plan(app, cells, by="unitadmin")
    assert [(i.code, i.field) for i in preview.issues] == [
        ("roster_role_forbidden", "角色"),
        ("roster_cannot_modify_self", "状态"),
    ]


async def test_unit_names_paths_and_codes(app: FastAPI, world: World) -> None:
    async with app.state.database.sessionmaker() as session:
        county = await session.get(Unit, world.county.id)
        other = await session.get(Unit, world.other_county.id)
        await create_unit(session, code="C-A-PSB", name="公安局", kind="department", parent=county)
        other_bureau = await create_unit(
            session, code="C-B-PSB", name="公安局", kind="department", parent=other
        )
        await create_unit(session, code="C-B-SF1", name="司法所", kind="other", parent=other)
        await create_unit(session, code="C-B-SF2", name="司法所", kind="other", parent=other_bureau)
        await session.commit()
    cells = [
        ["公安局", "", "U0001", "甲", "", "", ""],
        ["甲县/公安局", "", "U0002", "乙", "", "", ""],
        ["示范市/乙县/公安局", "", "U0003", "丙", "", "", ""],
        ["公安局", "乙县", "U0004", "丁", "", "", ""],
        ["C-A-COURT", "", "U0005", "戊", "", "", ""],
        ["C-A-COURT", "乙县", "U0006", "己", "", "", ""],
        ["新单位", "", "U0007", "庚", "", "", ""],
        ["新单位", "丙县", "U0008", "辛", "", "", ""],
        ["派出所", "公安局", "U0009", "壬", "", "", ""],
        ["甲县人民法院", "示范市", "U0010", "癸", "", "", ""],
    ]
    preview = await plan(app, cells)
    assert {(i.row, i.code, i.field) for i in preview.issues} == {
        (2, "roster_unit_ambiguous", "单位"),
        (7, "roster_unit_parent_mismatch", "上级单位"),
        (8, "roster_unit_not_found", "单位"),
        (9, "roster_parent_not_found", "上级单位"),
        (10, "roster_unit_ambiguous", "上级单位"),
    }
    ambiguous = next(i for i in preview.issues if i.row == 2)
    assert "示范市/甲县/公安局" in ambiguous.message and "完整路径" in ambiguous.message
    units_by_row = {i["row"]: i["unit"] for i in preview.items}
    assert units_by_row[3] == "示范市/甲县/公安局"
    assert units_by_row[4] == "示范市/乙县/公安局"
    assert units_by_row[5] == "示范市/乙县/公安局"
    assert units_by_row[6] == "示范市/甲县/甲县人民法院"
    # 上级单位 may be any ancestor when the unit exists below it.
    assert units_by_row[11] == "示范市/甲县/甲县人民法院"
    assert preview.new_units == []

    # A unit admin of 甲县 means their own 公安局 by the bare name.
    mine = await plan(app, [["公安局", "", "U0001", "甲", "", "", ""]], by="unitadmin")
    assert mine.counts["errors"] == 0 and mine.items[0]["unit"] == "示范市/甲县/公安局"
    # A name found only outside their subtree is out of scope, and the other units are not listed.
    theirs = await plan(app, [["司法所", "", "U0001", "甲", "", "", ""]], by="unitadmin")
    assert [(i.code, i.field) for i in theirs.issues] == [("roster_unit_out_of_scope", "单位")]
    assert "乙县" not in theirs.issues[0].message
    assert [i.code for i in (await plan(app, [["司法所", "", "U0001", "甲", "", "", ""]])).issues] == [
        "roster_unit_ambiguous"
    ]


async def test_new_unit_name_that_becomes_ambiguous_is_reported_whatever_the_order(
    app: FastAPI, world: World
) -> None:
    # Row 2 names 派出所 alone; rows 3 and 4 create one under each county: row 2 is ambiguous.
    cells = [
        ["派出所", "", "V0001", "甲", "", "", ""],
        ["派出所", "甲县", "V0002", "乙", "", "", ""],
        ["派出所", "乙县", "V0003", "丙", "", "", ""],
    ]
    preview = await plan(app, cells)
    assert [(i.row, i.code) for i in preview.issues] == [(2, "roster_unit_ambiguous")]
    assert preview.new_units == ["示范市/甲县/派出所", "示范市/乙县/派出所"]
    # With one of them only, the bare name finds the new unit.
    single = await plan(app, [cells[0], cells[1]])
    assert single.counts["errors"] == 0 and single.items[0]["unit"] == "示范市/甲县/派出所"


async def test_username_taken_and_admin_accounts(app: FastAPI, world: World) -> None:
    async with app.state.database.sessionmaker() as session:
        admin = await session.get(User, world.users["admin"])
        assert admin is not None
        admin.police_number = "A0000"
        await session.commit()
    preview = await plan(
        app,
        [
            # "inspector" is a login name already (that account has no police number).
            ["甲县", "", "inspector", "新人", "", "", ""],
            ["示范市", "", "A0000", "改名", "", "", ""],
            ["示范市", "", "A0000", "系统管理员", "", "", ""],
        ],
    )
    assert [(i.row, i.code, i.field) for i in preview.issues] == [
        (2, "roster_username_taken", "警号"),
        (3, "roster_admin_account", "警号"),
    ]
    # Row 4 repeats the number: a parse error on that row, not the unchanged admin.
    assert [i["status"] for i in preview.items] == ["error", "error", "error"]


async def test_stale_plan_refused(app: FastAPI, world: World) -> None:
    cells = [
        ["甲县", "", "P4001", "新人", "", "", ""],
        ["甲县人民法院", "", "officer1", "张三改", "", "", ""],
    ]
    assert (await plan(app, cells, by="unitadmin")).counts["errors"] == 0
    # Meanwhile the same police number is registered in another county.
    async with app.state.database.sessionmaker() as session:
        other = await session.get(Unit, world.other_county.id)
        assert other is not None
        await create_user(
            session,
            username="P4001",
            name="别人",
            role=Role.officer,
            unit=other,
            password_hash=password_hash(),
            police_number="P4001",
        )
        await session.commit()
    before = await snapshot(app)
    with pytest.raises(Conflict) as caught:
        await apply(app, cells, by="unitadmin")
    assert caught.value.code == "import_stale" and caught.value.status_code == 409
    assert isinstance(caught.value, RosterStale)
    assert [(i.row, i.code) for i in caught.value.issues] == [(2, "roster_person_out_of_scope")]
    assert "重新上传" in str(caught.value.detail)
    assert await snapshot(app) == before
    assert (await people(app))["officer1"].name == "张三"


async def test_errors_without_skip_are_stale(app: FastAPI, world: World) -> None:
    cells = [["甲县", "", "P5001", "甲", "", "", ""], ["甲县", "", "P5002", "乙", "", "科长", ""]]
    before = await snapshot(app)
    with pytest.raises(RosterStale):
        await apply(app, cells)
    assert await snapshot(app) == before
    result = await apply(app, cells, skip_rows=[3])
    assert result["created"] == 1 and [p["police_number"] for p in result["initial_passwords"]] == ["P5001"]


async def test_skipped_rows_still_count_as_in_the_file(app: FastAPI, world: World) -> None:
    """officer2's row has an error and is skipped: missing-officer deactivation must not hit them."""
    cells = [
        ["甲县人民法院", "", "officer1", "张三", "", "", ""],
        ["甲县人民法院", "", "officer2", "李四", "12345", "", ""],
    ]
    preview = await plan(app, cells, deactivate_missing=True)
    assert preview.error_rows == [3] and preview.counts["deactivate"] == 0
    result = await apply(app, cells, deactivate_missing=True, skip_rows=preview.error_rows)
    assert result["deactivated"] == 0
    assert (await people(app))["officer2"].is_active is True


async def test_apply_is_atomic_when_it_fails_midway(
    app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cells = [
        ["新单位", "甲县", "P6001", "甲", "", "", ""],
        ["新单位", "甲县", "P6002", "乙", "", "", ""],
        ["甲县人民法院", "", "officer1", "张三改", "", "", "离职"],
    ]
    real = create_user
    calls = 0

    async def failing_create_user(session: AsyncSession, **kwargs: Any) -> User:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("database went away")
        return await real(session, **kwargs)

    monkeypatch.setattr("app.imports.roster_service.create_user", failing_create_user)
    before = await snapshot(app)
    with pytest.raises(RuntimeError):
        await apply(app, cells)
    assert calls == 2  # the unit and the first officer had been flushed
    assert await snapshot(app) == before

    monkeypatch.setattr("app.imports.roster_service.create_user", real)
    result = await apply(app, cells)
    assert (result["units_created"], result["created"], result["deactivated"]) == (1, 2, 1)


async def test_unit_names_compare_folded_and_new_ones_keep_their_text(app: FastAPI, world: World) -> None:
    async with app.state.database.sessionmaker() as session:
        county = await session.get(Unit, world.county.id)
        await create_unit(session, code="C-A-SUB", name="甲县公安局（分局）", kind="other", parent=county)
        await session.commit()
    cells = [
        ["甲县公安局 (分局)", "", "W0001", "甲", "", "", ""],
        ["ｃ－ａ－ｓｕｂ", "", "W0002", "乙", "", "", ""],
        ["刑侦大队（一）", "甲县／甲县公安局(分局)", "W0003", "丙", "", "", ""],
    ]
    preview = await plan(app, cells)
    assert preview.counts["errors"] == 1  # codes are compared exactly (after folding full-width forms)
    assert [(i.row, i.code) for i in preview.issues] == [(3, "roster_unit_not_found")]
    assert preview.items[0]["unit"] == "示范市/甲县/甲县公安局（分局）"
    assert preview.new_units == ["示范市/甲县/甲县公安局（分局）/刑侦大队（一）"]
    await apply(app, cells, skip_rows=preview.error_rows)
    assert "刑侦大队（一）" in {u.name for u in (await units(app)).values()}
