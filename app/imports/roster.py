"""Reading a roster (花名册) sheet into checked rows: pure functions, no I/O, no database.

One row per person: 单位, 上级单位, 警号, 姓名, 手机号, 角色, 状态. Each row is checked on its own
here (formats, words, repeats within the file); whether its units and people exist, and what
importing it would change, is `app.imports.roster_service`'s job. A row with problems is still
returned, carrying its issues, so the preview can show it and a re-import can tell who is in
the file.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from app.imports import messages
from app.imports.common import Issue, issue
from app.imports.files import FileRejected, Table
from app.units.models import Role

# The columns as the template writes them; `field` of every issue is one of these.
UNIT = "单位"
PARENT_UNIT = "上级单位"
POLICE_NUMBER = "警号"
NAME = "姓名"
PHONE = "手机号"
ROLE = "角色"
STATUS = "状态"
ROSTER_COLUMNS = (UNIT, PARENT_UNIT, POLICE_NUMBER, NAME, PHONE, ROLE, STATUS)
REQUIRED_COLUMNS = (UNIT, POLICE_NUMBER, NAME)

MIN_POLICE_NUMBER = 4
MAX_POLICE_NUMBER = 20
MAX_NAME = 64
MAX_UNIT_NAME = 100  # Unit.name

# Problems that do not stop a row (or the file) from importing.

_HEADER_ALIASES = {
    UNIT: ("单位", "所在单位", "单位名称", "unit"),
    PARENT_UNIT: ("上级单位", "上级", "上级单位名称", "parent_unit", "parent"),
    POLICE_NUMBER: ("警号", "警员编号", "police_number", "police_no"),
    NAME: ("姓名", "名字", "name"),
    PHONE: ("手机号", "手机", "手机号码", "联系电话", "电话", "phone", "mobile"),
    ROLE: ("角色", "身份", "role"),
    STATUS: ("状态", "在职状态", "status"),
}

# Words people write in 角色 and 状态. Admins are never made by a roster.
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    Role.officer: ("民警", "干警", "辅警", "警员", "干部", "officer"),
    Role.unit_admin: ("单位管理员", "unit_admin"),
    Role.inspector: ("检查组", "评估验收组", "验收组", "inspector"),
}
ADMIN_ROLE_WORDS = ("管理员", "系统管理员", "admin", "administrator")
ACTIVE_WORDS = ("在职", "正常", "在岗", "active")
INACTIVE_WORDS = ("离职", "调离", "退休", "停用", "注销", "inactive")
# How the preview and the template name each role.
ROLE_LABELS: dict[str, str] = {
    Role.officer: "干警",
    Role.unit_admin: "单位管理员",
    Role.inspector: "检查组",
    Role.admin: "管理员",
}

_UNIT_SEPARATORS = re.compile(r"[/／\\＼]")
_PHONE = re.compile(r"1\d{10}")
_PHONE_SEPARATORS = re.compile(r"[\s\-]+")

messages.register(
    {
        "roster_required": "“{column}”为空：每一行都必须填写{column}。",
        "roster_invalid_police_number": "警号“{value}”无效：警号只能由数字和字母组成，长度 4 到 20 位"
        "（以 0 开头的警号请把单元格设为文本格式，以免开头的 0 丢失）。",
        "roster_duplicate_police_number": "警号 {police_number} 与第 {first_row} 行重复："
        "每人只能有一行，请删除重复的行或改正警号。",
        "roster_invalid_phone": "手机号“{value}”无效：请填写以 1 开头的 11 位手机号，或留空。",
        "roster_role_not_allowed": "花名册不能设置管理员（“{value}”）：管理员只能在用户管理中创建；"
        "请改为 干警、单位管理员 或 检查组。",
        "roster_unknown_role": "无法识别的角色“{value}”：请填写 干警、单位管理员 或 检查组（留空即为干警）。",
        "roster_unknown_status": "无法识别的状态“{value}”：请填写 在职 或 离职"
        "（也可写 调离、退休、停用；留空即为在职）。",
        "roster_invalid_unit": "单位“{value}”写法有误：多级单位请用“/”分隔，如 江川市/东山县/公安局，"
        "各级名称都不能为空。",
        "roster_empty": "文件中没有人员数据：请在表头下方逐行填写，每人一行。",
    },
    {
        "roster_required": "“{column}” is empty: every row needs it.",
        "roster_invalid_police_number": "Police number “{value}” is invalid: use 4 to 20 digits and letters "
        "(format the cell as text so leading zeros are kept).",
        "roster_duplicate_police_number": "Police number {police_number} already appears in row {first_row}: "
        "one row per person; remove the repeated row or correct the number.",
        "roster_invalid_phone": "Mobile number “{value}” is invalid: use 11 digits starting with 1, or leave "
        "it empty.",
        "roster_role_not_allowed": "A roster cannot make administrators (“{value}”): create them in user "
        "management; use 干警 (officer), 单位管理员 (unit admin) or 检查组 (inspector).",
        "roster_unknown_role": "Unknown role “{value}”: use 干警 (officer), 单位管理员 (unit admin) or "
        "检查组 (inspector); empty means officer.",
        "roster_unknown_status": "Unknown status “{value}”: use 在职 (active) or 离职 (left); empty means "
        "active.",
        "roster_invalid_unit": "Unit “{value}” is malformed: separate levels with “/”, as in "
        "江川市/东山县/公安局, none of them empty.",
        "roster_empty": "The file has no people in it: one row per person below the header.",
    },
)


@dataclass(frozen=True)
class RosterRow:
    """One person as the file states them, normalised.

    `unit` and `parent_unit` are references as written ("公安局", "江川市/东山县/公安局" or a unit
    code), cleaned: full-width forms folded, levels joined by "/". `role` is None when the cell is
    empty (a new person becomes an officer, an existing one keeps their role); `phone` is None when
    empty (an existing person keeps theirs). A row that failed a check keeps what could be read
    and lists its `issues`; such a row is never applied.
    """

    row: int
    unit: str
    parent_unit: str
    police_number: str
    name: str
    phone: str | None
    role: str | None
    active: bool
    issues: tuple[Issue, ...] = ()


def _fold(text: str) -> str:
    """Full-width to half-width (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def _word_key(text: str) -> str:
    """How header and cell words are compared: "Parent Unit *", "parent_unit", "上级单位（必填）" all
    become one key."""
    without_notes = re.sub(r"\([^)]*\)", "", _fold(text))
    return re.sub(r"[\s*_\-]+", "", without_notes).casefold()


_COLUMN_BY_ALIAS = {_word_key(a): column for column, aliases in _HEADER_ALIASES.items() for a in aliases}
_ROLE_BY_WORD = {_word_key(word): str(role) for role, words in ROLE_WORDS.items() for word in words}
_ADMIN_KEYS = frozenset(_word_key(word) for word in ADMIN_ROLE_WORDS)
_ACTIVE_KEYS = frozenset(_word_key(word) for word in ACTIVE_WORDS)
_INACTIVE_KEYS = frozenset(_word_key(word) for word in INACTIVE_WORDS)


def _columns(table: Table) -> tuple[dict[str, int], list[Issue]]:
    """Which cell index holds each roster column; unknown headers become warnings."""
    found: dict[str, int] = {}
    warnings: list[Issue] = []
    for index, header in enumerate(table.headers):
        if not header.strip():
            continue
        column = _COLUMN_BY_ALIAS.get(_word_key(header))
        if column is None:
            warnings.append(issue("unknown_column", row=table.header_row, field=header, column=header))
        elif column in found:
            raise FileRejected("duplicate_column", column=header)
        else:
            found[column] = index
    for column in REQUIRED_COLUMNS:
        if column not in found:
            raise FileRejected("missing_column", column=column)
    return found, warnings


def unit_reference(raw: str) -> str | None:
    """A unit as written, levels trimmed and joined by "/" ("江川市 ／ 东山县" → "江川市/东山县");
    None if a level is empty. Names keep their own characters (a new unit is named as written);
    they are compared folded, see `unit_key`."""
    parts = [part.strip() for part in _UNIT_SEPARATORS.split(raw.strip())]
    if any(not part for part in parts):
        return None
    return "/".join(parts)


def unit_key(name: str) -> str:
    """How unit names are compared: full-width forms folded, spaces ignored, ASCII case ignored,
    so "东山县公安局（分局）" in the database matches "东山县公安局 (分局)" in a file."""
    return re.sub(r"\s+", "", _fold(name)).casefold()


def police_number(raw: str) -> str | None:
    """The police number in the form it is stored and matched in; None when it is not one."""
    text = _fold(raw)
    if not (MIN_POLICE_NUMBER <= len(text) <= MAX_POLICE_NUMBER and text.isascii() and text.isalnum()):
        return None
    return text


def phone_number(raw: str) -> str | None:
    """ "138 0013-8000", "+86 13800138000" → "13800138000"; None when it is not a mobile number."""
    text = _PHONE_SEPARATORS.sub("", _fold(raw))
    if len(text) == 14 and text.startswith("+86"):
        text = text[3:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    return text if _PHONE.fullmatch(text) else None


def role_from_word(raw: str) -> str | None:
    """Our role for a 角色 word; "admin" for words meaning administrator; None when unknown."""
    key = _word_key(raw)
    if key in _ADMIN_KEYS:
        return str(Role.admin)
    return _ROLE_BY_WORD.get(key)


def active_from_word(raw: str) -> bool | None:
    key = _word_key(raw)
    if key in _ACTIVE_KEYS:
        return True
    if key in _INACTIVE_KEYS:
        return False
    return None


def _check_unit(raw: str, column: str, row: int, problems: list[Issue]) -> str:
    if not raw:
        return ""
    reference = unit_reference(raw)
    if reference is None:
        problems.append(issue("roster_invalid_unit", row=row, field=column, value=raw))
        return _fold(raw)
    longest = max(len(part) for part in reference.split("/"))
    if longest > MAX_UNIT_NAME:
        problems.append(issue("too_long", row=row, field=column, limit=MAX_UNIT_NAME, length=longest))
    return reference


def _read_row(row: int, cell: dict[str, str], first_row: dict[str, int]) -> RosterRow:
    problems: list[Issue] = []

    unit = _check_unit(cell[UNIT], UNIT, row, problems)
    if not unit:
        problems.append(issue("roster_required", row=row, field=UNIT, column=UNIT))
    parent_unit = _check_unit(cell[PARENT_UNIT], PARENT_UNIT, row, problems)

    number = _fold(cell[POLICE_NUMBER])
    if not number:
        problems.append(issue("roster_required", row=row, field=POLICE_NUMBER, column=POLICE_NUMBER))
    elif police_number(number) is None:
        problems.append(issue("roster_invalid_police_number", row=row, field=POLICE_NUMBER, value=number))
    elif number in first_row:
        problems.append(
            issue(
                "roster_duplicate_police_number",
                row=row,
                field=POLICE_NUMBER,
                police_number=number,
                first_row=first_row[number],
            )
        )
    else:
        first_row[number] = row

    name = cell[NAME].strip()
    if not name:
        problems.append(issue("roster_required", row=row, field=NAME, column=NAME))
    elif len(name) > MAX_NAME:
        problems.append(issue("too_long", row=row, field=NAME, limit=MAX_NAME, length=len(name)))

    phone: str | None = None
    if cell[PHONE].strip():
        phone = phone_number(cell[PHONE])
        if phone is None:
            problems.append(issue("roster_invalid_phone", row=row, field=PHONE, value=cell[PHONE].strip()))
            phone = cell[PHONE].strip()

    role: str | None = None
    if cell[ROLE].strip():
        role = role_from_word(cell[ROLE])
        if role == Role.admin:
            problems.append(issue("roster_role_not_allowed", row=row, field=ROLE, value=cell[ROLE].strip()))
        elif role is None:
            problems.append(issue("roster_unknown_role", row=row, field=ROLE, value=cell[ROLE].strip()))
        if role is None or role == Role.admin:
            role = cell[ROLE].strip()

    active = True
    if cell[STATUS].strip():
        found = active_from_word(cell[STATUS])
        if found is None:
            problems.append(issue("roster_unknown_status", row=row, field=STATUS, value=cell[STATUS].strip()))
        else:
            active = found

    return RosterRow(
        row=row,
        unit=unit,
        parent_unit=parent_unit,
        police_number=number,
        name=name,
        phone=phone,
        role=role,
        active=active,
        issues=tuple(problems),
    )


def parse_roster(table: Table) -> tuple[list[RosterRow], list[Issue]]:
    """Every non-empty row of the sheet, and every issue: each row's own (also on the row) and
    warnings about the file (unknown columns, see `common.WARNING_CODES`)."""
    columns, issues = _columns(table)
    rows: list[RosterRow] = []
    first_row: dict[str, int] = {}
    for number, values in table.rows:
        if not any(value.strip() for value in values):
            continue
        cell = {
            column: (values[columns[column]] if column in columns and columns[column] < len(values) else "")
            for column in ROSTER_COLUMNS
        }
        read = _read_row(number, cell, first_row)
        rows.append(read)
        issues.extend(read.issues)
    if not rows:
        raise FileRejected("roster_empty")
    return rows, issues


# The job keeps the rows as JSON between preview and commit. ----------------------------------


def _issue_from_dict(data: dict[str, Any]) -> Issue:
    return Issue(
        code=data["code"],
        message=data.get("message", ""),
        message_en=data.get("message_en", ""),
        line=data.get("line"),
        row=data.get("row"),
        field=data.get("field"),
        params=dict(data.get("params") or {}),
    )


def roster_rows_to_payload(rows: list[RosterRow]) -> list[dict[str, Any]]:
    return [
        {
            "row": r.row,
            "unit": r.unit,
            "parent_unit": r.parent_unit,
            "police_number": r.police_number,
            "name": r.name,
            "phone": r.phone,
            "role": r.role,
            "active": r.active,
            "issues": [i.as_dict() for i in r.issues],
        }
        for r in rows
    ]


def roster_rows_from_payload(payload: list[dict[str, Any]]) -> list[RosterRow]:
    return [
        RosterRow(
            row=int(data["row"]),
            unit=str(data["unit"]),
            parent_unit=str(data.get("parent_unit") or ""),
            police_number=str(data["police_number"]),
            name=str(data["name"]),
            phone=data.get("phone"),
            role=data.get("role"),
            active=bool(data["active"]),
            issues=tuple(_issue_from_dict(i) for i in data.get("issues") or ()),
        )
        for data in payload
    ]
