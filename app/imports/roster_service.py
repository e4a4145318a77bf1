"""Roster import against the database: what a file would change (plan), and doing it (apply).

`plan_roster` only reads. `apply_roster` plans again against the database as it is now, refuses
with 409 `import_stale` if rows have become invalid since the preview, and otherwise writes
everything with add/flush and does not commit: the caller commits once, so an import is all or
nothing. People are matched by police number; nobody is ever deleted, people who leave are
deactivated (their logins end at once) so their history and the participation figures stay.
"""

import asyncio
import os
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app.core.deps import Principal
from app.core.errors import Conflict
from app.core.security import hash_initial_password
from app.imports import messages
from app.imports.common import Issue, issue
from app.imports.roster import (
    PARENT_UNIT,
    POLICE_NUMBER,
    ROLE,
    ROLE_LABELS,
    STATUS,
    UNIT,
    RosterRow,
    unit_key,
)
from app.units.models import Role, Unit, UnitKind, User
from app.units.service import create_unit, create_user, generate_initial_password, set_active

# Initial passwords get a light Argon2 cost (app.core.security.hash_initial_password), which still
# releases the GIL: hash them off the event loop, two at a time (measured on 2 cores).
HASH_WORKERS = max(1, min(2, os.cpu_count() or 1))
# Keeps IN (...) lists well under every database's parameter limit.
_CHUNK = 500
_MAX_CODE = 50  # Unit.code

messages.register(
    {
        "roster_unit_not_found": "单位“{unit}”不存在：如是新单位，请在“上级单位”列填写它的上级单位"
        "（名称、完整路径如 江川市/东山县，或单位代码）；如是已有单位，请核对名称或填写完整路径。",
        "roster_parent_not_found": "上级单位“{unit}”不存在：请填写已有单位的名称、完整路径"
        "（如 江川市/东山县）或单位代码；新的上级单位也可以在文件中另起一行建立。",
        "roster_unit_ambiguous": "“{unit}”对应 {count} 个单位（{candidates}）：请填写完整路径"
        "（如 江川市/东山县/公安局）或单位代码，或在“上级单位”列注明上级以示区分。",
        "roster_unit_out_of_scope": "单位“{unit}”不在您的管理范围内：只能导入本单位及下级单位的人员。",
        "roster_unit_parent_mismatch": "单位“{unit}”实际隶属“{actual}”，不在填写的上级单位“{given}”之下："
        "请改正或清空上级单位；如需调整单位隶属关系，请在单位管理中移动单位。",
        "roster_person_out_of_scope": "警号 {police_number} 已登记在您管理范围以外的单位："
        "不能通过花名册调入，请联系上级管理员调整，或核对警号。",
        "roster_role_forbidden": "单位管理员只能导入和修改干警：不能设置或修改“{role}”，请联系系统管理员。",
        "roster_admin_account": "警号 {police_number} 是管理员账号：花名册不能修改管理员，"
        "请删除该行或使其与系统中一致。",
        "roster_cannot_modify_self": "不能通过花名册停用自己或修改自己的角色：请改正或删除该行。",
        "roster_username_taken": "登录名 {police_number} 已被另一个账号使用（新人员以警号为登录名）："
        "请核对警号，或先在用户管理中处理该账号。",
        "roster_new_person_inactive": "警号 {police_number} 不在系统中，且状态为离职：不会为其创建账号。",
        "roster_import_stale": "预览之后单位或人员数据已有变化，现在有 {count} 行出错：请重新上传文件，"
        "预览无误后再提交。",
    },
    {
        "roster_unit_not_found": "Unit “{unit}” does not exist: for a new unit, name its parent unit in "
        "上级单位 (name, full path such as 江川市/东山县, or unit code); otherwise check the name or write "
        "the full path.",
        "roster_parent_not_found": "Parent unit “{unit}” does not exist: write an existing unit's name, full "
        "path (such as 江川市/东山县) or code; a new parent can be made by a row of its own.",
        "roster_unit_ambiguous": "“{unit}” matches {count} units ({candidates}): write the full path "
        "(such as 江川市/东山县/公安局) or the unit code, or name the parent unit.",
        "roster_unit_out_of_scope": "Unit “{unit}” is outside the units you manage: import only into your "
        "unit and its sub-units.",
        "roster_unit_parent_mismatch": "Unit “{unit}” belongs to “{actual}”, not under the parent unit "
        "“{given}” given: correct or clear the parent unit; move units in unit management.",
        "roster_person_out_of_scope": "Police number {police_number} belongs to someone in a unit outside "
        "your scope: a roster cannot move them in; ask a higher administrator, or check the number.",
        "roster_role_forbidden": "Unit administrators import and change officers only, not “{role}”: ask "
        "an administrator.",
        "roster_admin_account": "Police number {police_number} is an administrator's account: a roster "
        "cannot change administrators; remove the row or make it match.",
        "roster_cannot_modify_self": "A roster cannot deactivate you or change your own role: correct or "
        "remove the row.",
        "roster_username_taken": "Login name {police_number} is used by another account (new people log in "
        "with their police number): check the number or deal with that account first.",
        "roster_new_person_inactive": "Police number {police_number} is not registered and marked as left: "
        "no account is made.",
        "roster_import_stale": "Units or people changed after the preview and {count} rows now have errors: "
        "upload the file again and commit after a clean preview.",
    },
)


@dataclass
class RosterPlan:
    """What importing the rows would do. `counts`, `items` (one per row, then one per officer
    `deactivate_missing` would deactivate), `new_units` (full paths) are what the preview shows.

    `issues` are the problems found against the database; each row's own problems (from
    `parse_roster`) are on the row and in its item but not repeated here. `warnings` do not stop a
    row. `error_rows`: the rows that cannot be imported; for an "import only the valid rows" commit
    pass them to `apply_roster(skip_rows=...)`.
    """

    counts: dict[str, int]
    items: list[dict[str, Any]]
    issues: list[Issue]
    new_units: list[str]
    warnings: list[Issue] = field(default_factory=list)
    error_rows: list[int] = field(default_factory=list)


class RosterStale(Conflict):
    """409 import_stale: the plan recomputed at commit has errors the preview did not show."""

    def __init__(self, issues: list[Issue]) -> None:
        count = len({i.row for i in issues})
        super().__init__(messages.message("roster_import_stale", count=count), code="import_stale")
        self.issues = issues
        self.extra = {
            "message_en": messages.message("roster_import_stale", "en", count=count),
            "errors": [i.as_dict() for i in issues],
        }


# The unit tree, as names ------------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    """A unit: an existing one (`unit` set) or one this import would create."""

    names: tuple[str, ...]  # from the root down: ("江川市", "东山县", "公安局")
    keys: tuple[str, ...]  # the same, as compared (`unit_key`)
    parent: "_Node | None"
    unit: Unit | None
    in_scope: bool

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def path(self) -> str:
        return "/".join(self.names)

    def is_under(self, ancestor: "_Node") -> bool:
        node = self.parent
        while node is not None:
            if node is ancestor:
                return True
            node = node.parent
        return False


def _code_key(code: str) -> str:
    return unicodedata.normalize("NFKC", code).strip()


class _Tree:
    def __init__(self, units: Iterable[Unit], principal: Principal) -> None:
        self.principal = principal
        self.by_id: dict[int, _Node] = {}
        self.by_code: dict[str, _Node] = {}
        self.by_name: dict[str, list[_Node]] = {}
        self.created: list[_Node] = []  # new units, parents before children
        for unit in sorted(units, key=lambda u: u.depth):
            parent = self.by_id.get(unit.parent_id) if unit.parent_id is not None else None
            node = _Node(
                names=(*(parent.names if parent else ()), unit.name),
                keys=(*(parent.keys if parent else ()), unit_key(unit.name)),
                parent=parent,
                unit=unit,
                in_scope=principal.covers_unit_path(unit.path),
            )
            self.by_id[unit.id] = node
            self.by_code[_code_key(unit.code)] = node
            self.by_name.setdefault(node.keys[-1], []).append(node)

    def add(self, name: str, parent: _Node) -> _Node:
        node = _Node(
            names=(*parent.names, name),
            keys=(*parent.keys, unit_key(name)),
            parent=parent,
            unit=None,
            in_scope=parent.in_scope,
        )
        self.by_name.setdefault(node.keys[-1], []).append(node)
        self.created.append(node)
        return node

    def find(self, reference: str) -> list[_Node]:
        """Units a reference may mean: by code, by full path, by the end of a path, by name."""
        if self.is_code(reference):
            return [self.by_code[_code_key(reference)]]
        segments = tuple(unit_key(name) for name in reference.split("/"))
        found = [
            node for node in self.by_name.get(segments[-1], []) if node.keys[-len(segments) :] == segments
        ]
        whole = [node for node in found if len(node.names) == len(segments)]
        return whole or found

    def is_code(self, reference: str) -> bool:
        return "/" not in reference and _code_key(reference) in self.by_code

    def narrow(self, candidates: list[_Node]) -> list[_Node]:
        """A unit admin who writes a name that is common in the city means the one in their subtree."""
        if len(candidates) > 1 and not self.principal.is_admin:
            mine = [node for node in candidates if node.in_scope]
            if mine:
                return mine
        return candidates

    def which(self, reference: str, candidates: list[_Node], *, row: int, column: str) -> Issue:
        if not any(node.in_scope for node in candidates):
            # A unit admin is not shown the tree outside their subtree.
            return issue("roster_unit_out_of_scope", row=row, field=column, unit=reference)
        shown = "；".join(node.path for node in candidates[:5]) + ("…" if len(candidates) > 5 else "")
        return issue(
            "roster_unit_ambiguous",
            row=row,
            field=column,
            unit=reference,
            count=len(candidates),
            candidates=shown,
        )


def _resolve_parent(tree: _Tree, row: RosterRow) -> _Node | Issue | None:
    """The 上级单位 of a row: a node, an issue, or None when it is not (yet) known."""
    candidates = tree.narrow(tree.find(row.parent_unit))
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        return tree.which(row.parent_unit, candidates, row=row.row, column=PARENT_UNIT)
    return None


def _resolve_unit(tree: _Tree, row: RosterRow, *, create: bool) -> _Node | Issue | None:
    """The unit of a row (a new one under a known parent when `create`), an issue, or None when
    it cannot be placed (yet)."""
    parent: _Node | None = None
    if row.parent_unit:
        found = _resolve_parent(tree, row)
        if isinstance(found, Issue):
            return found
        if found is None:
            return (
                None
                if create
                else issue("roster_parent_not_found", row=row.row, field=PARENT_UNIT, unit=row.parent_unit)
            )
        parent = found

    candidates = tree.narrow(tree.find(row.unit))
    if parent is not None and candidates:
        # 上级单位 places the unit: its direct children first, then anything below it.
        children = [node for node in candidates if node.parent is parent]
        below = children or [node for node in candidates if node.is_under(parent)]
        if not below and ("/" in row.unit or tree.is_code(row.unit)):
            # A code or path names one unit for certain; it is not where the file says.
            if not candidates[0].in_scope:
                return issue("roster_unit_out_of_scope", row=row.row, field=UNIT, unit=row.unit)
            actual = candidates[0].parent.path if candidates[0].parent else "-"
            return issue(
                "roster_unit_parent_mismatch",
                row=row.row,
                field=PARENT_UNIT,
                unit=row.unit,
                actual=actual,
                given=row.parent_unit,
            )
        candidates = below
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        return tree.which(row.unit, candidates, row=row.row, column=UNIT)

    # A unit that does not exist yet: under 上级单位, or under the path it is written with.
    segments = row.unit.split("/")
    if len(segments) > 1:
        prefix = "/".join(segments[:-1])
        above = tree.narrow(tree.find(prefix))
        if len(above) > 1:
            return tree.which(prefix, above, row=row.row, column=UNIT)
        if above and parent is not None and above[0] is not parent and above[0].in_scope:
            return issue(
                "roster_unit_parent_mismatch",
                row=row.row,
                field=PARENT_UNIT,
                unit=row.unit,
                actual=above[0].path,
                given=row.parent_unit,
            )
        parent = above[0] if above else None
    if parent is None or not parent.in_scope:
        if create:
            return None
        if parent is not None:
            # The parent came from 上级单位, or else from the path in 单位.
            column, written = (PARENT_UNIT, row.parent_unit) if row.parent_unit else (UNIT, row.unit)
            return issue("roster_unit_out_of_scope", row=row.row, field=column, unit=written)
        return issue("roster_unit_not_found", row=row.row, field=UNIT, unit=row.unit)
    if not create:
        return issue("roster_unit_not_found", row=row.row, field=UNIT, unit=row.unit)
    return tree.add(segments[-1], parent)


def _place_units(tree: _Tree, rows: Sequence[RosterRow]) -> dict[int, _Node | Issue]:
    """Every row's unit. New units are placed first, until no more can be (a new unit's parent
    may itself be new, on a later row), then every row is resolved against the final tree, so
    a name that has become ambiguous is reported whatever the order of the rows."""
    placeable = [r for r in rows if r.unit and not any(i.field in (UNIT, PARENT_UNIT) for i in r.issues)]
    while True:
        before = len(tree.created)
        for row in placeable:
            _resolve_unit(tree, row, create=True)
        if len(tree.created) == before:
            break
    placed: dict[int, _Node | Issue] = {}
    for row in placeable:
        found = _resolve_unit(tree, row, create=False)
        assert found is not None
        if isinstance(found, _Node) and not found.in_scope:
            found = issue("roster_unit_out_of_scope", row=row.row, field=UNIT, unit=row.unit)
        placed[row.row] = found
    return placed


# People -----------------------------------------------------------------------------------------


@dataclass
class _Action:
    row: int | None
    status: str  # create | update | deactivate | unchanged | error
    node: _Node | None
    user: User | None
    source: RosterRow | None
    changes: dict[str, list[Any]]
    issues: list[Issue]


async def _users_by_police_number(session: AsyncSession, numbers: Collection[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        for user in (await session.execute(select(User).where(User.police_number.in_(chunk)))).scalars():
            assert user.police_number is not None
            found[user.police_number] = user
    return found


async def _taken_usernames(session: AsyncSession, names: Collection[str]) -> set[str]:
    taken: set[str] = set()
    ordered = sorted(names)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        taken.update((await session.execute(select(User.username).where(User.username.in_(chunk)))).scalars())
    return taken


def _person(
    tree: _Tree, principal: Principal, row: RosterRow, node: _Node | None, user: User | None
) -> tuple[str, dict[str, list[Any]], list[Issue]]:
    """(status, changes, issues) for one row whose police number is well formed."""
    at: dict[str, Any] = {"row": row.row}
    problems: list[Issue] = []
    if user is None:
        role = row.role or Role.officer
        if not principal.is_admin and role != Role.officer:
            problems.append(
                issue("roster_role_forbidden", field=ROLE, role=ROLE_LABELS.get(role, role), **at)
            )
        return ("create" if row.active else "unchanged"), {}, problems

    current = tree.by_id[user.unit_id]
    if not current.in_scope:
        return (
            "error",
            {},
            [issue("roster_person_out_of_scope", field=POLICE_NUMBER, police_number=row.police_number, **at)],
        )
    changes: dict[str, list[Any]] = {}
    if row.name != user.name:
        changes["name"] = [user.name, row.name]
    if row.phone is not None and row.phone != user.phone:
        changes["phone"] = [user.phone, row.phone]
    if node is not None and (node.unit is None or node.unit.id != user.unit_id):
        changes["unit"] = [current.path, node.path]
    if row.role is not None and row.role != user.role:
        changes["role"] = [user.role, row.role]
    if row.active != user.is_active:
        changes["active"] = [user.is_active, row.active]
    if not changes:
        return "unchanged", changes, problems

    if user.role == Role.admin:
        problems.append(
            issue("roster_admin_account", field=POLICE_NUMBER, police_number=row.police_number, **at)
        )
    elif user.id == principal.id and ("role" in changes or row.active is False):
        problems.append(issue("roster_cannot_modify_self", field=ROLE if "role" in changes else STATUS, **at))
    elif not principal.is_admin and "role" in changes:
        problems.append(
            issue(
                "roster_role_forbidden", field=ROLE, role=ROLE_LABELS.get(str(row.role), str(row.role)), **at
            )
        )
    elif not principal.is_admin and user.role != Role.officer and user.id != principal.id:
        problems.append(
            issue("roster_role_forbidden", field=ROLE, role=ROLE_LABELS.get(user.role, user.role), **at)
        )
    if "active" in changes and not row.active:
        return "deactivate", changes, problems
    return "update", changes, problems


def _has_issue(row: RosterRow, column: str) -> bool:
    return any(i.field == column for i in row.issues)


def _item(action: _Action) -> dict[str, Any]:
    row, user, node = action.source, action.user, action.node
    if row is None:
        assert user is not None and node is not None
        unit, number, name, phone = node.path, user.police_number, user.name, user.phone
        role, active = str(user.role), user.is_active and "active" not in action.changes
    else:
        unit = node.path if node is not None else row.unit
        number, name, active = row.police_number, row.name, row.active
        phone = row.phone if row.phone is not None else (user.phone if user else None)
        role = str(row.role or (user.role if user else Role.officer))
    return {
        "row": action.row,
        "status": action.status,
        "unit": unit,
        "police_number": number,
        "name": name,
        "phone": phone,
        "role": role,
        "active": active,
        "changes": {key: [_plain(old), _plain(new)] for key, (old, new) in action.changes.items()},
        "issues": [i.as_dict() for i in action.issues],
    }


def _plain(value: Any) -> Any:
    """Roles are StrEnums: stored JSON holds plain strings."""
    return str(value) if isinstance(value, str) else value


async def _officers_missing(
    session: AsyncSession, tree: _Tree, principal: Principal, unit_ids: set[int], in_file: set[str]
) -> list[_Action]:
    """Active officers in the units the file names who are not in the file."""
    missing: list[_Action] = []
    ordered = sorted(unit_ids)
    for start in range(0, len(ordered), _CHUNK):
        stmt = select(User).where(
            User.unit_id.in_(ordered[start : start + _CHUNK]),
            User.role == Role.officer,
            User.is_active.is_(True),
        )
        for user in (await session.execute(stmt)).scalars():
            if user.police_number in in_file or user.id == principal.id:
                continue
            missing.append(
                _Action(
                    None, "deactivate", tree.by_id[user.unit_id], user, None, {"active": [True, False]}, []
                )
            )
    missing.sort(
        key=lambda a: (a.node.path if a.node else "", (a.user.police_number or "") if a.user else "")
    )
    return missing


async def _plan(
    session: AsyncSession, principal: Principal, rows: Sequence[RosterRow], *, deactivate_missing: bool
) -> tuple[RosterPlan, list[_Action], _Tree]:
    tree = _Tree((await session.execute(select(Unit))).scalars().all(), principal)
    placed = _place_units(tree, rows)
    numbers = {r.police_number for r in rows if r.police_number and not _has_issue(r, POLICE_NUMBER)}
    users = await _users_by_police_number(session, numbers)
    taken = await _taken_usernames(session, numbers - users.keys())

    actions: list[_Action] = []
    found_issues: list[Issue] = []
    warnings: list[Issue] = []
    for row in rows:
        found = placed.get(row.row)
        node = found if isinstance(found, _Node) else None
        problems = [found] if isinstance(found, Issue) else []
        status, user = "error", None
        changes: dict[str, list[Any]] = {}
        if row.police_number and not _has_issue(row, POLICE_NUMBER):
            user = users.get(row.police_number)
            status, changes, person_problems = _person(tree, principal, row, node, user)
            problems += person_problems
            if user is None and row.active and row.police_number in taken:
                problems.append(
                    issue(
                        "roster_username_taken",
                        row=row.row,
                        field=POLICE_NUMBER,
                        police_number=row.police_number,
                    )
                )
        notes: list[Issue] = []
        if row.issues or problems:
            status = "error"
        elif user is None and not row.active:
            notes.append(
                issue(
                    "roster_new_person_inactive", row=row.row, field=STATUS, police_number=row.police_number
                )
            )
        found_issues += problems
        warnings += notes
        actions.append(_Action(row.row, status, node, user, row, changes, [*row.issues, *problems, *notes]))

    if deactivate_missing:
        named = {
            found.unit.id
            for found in placed.values()
            if isinstance(found, _Node) and found.unit is not None and found.in_scope
        }
        actions += await _officers_missing(session, tree, principal, named, {r.police_number for r in rows})

    needed: set[int] = set()
    for action in actions:
        if action.status in ("create", "update", "deactivate"):
            node = action.node
            while node is not None and node.unit is None:
                needed.add(id(node))
                node = node.parent
    new_units = [node.path for node in tree.created if id(node) in needed]

    statuses = [a.status for a in actions]
    error_rows = sorted(a.row for a in actions if a.status == "error" and a.row is not None)
    counts = {
        "total": len(rows),
        "valid": len(rows) - len(error_rows),
        "errors": len(error_rows),
        "new_units": len(new_units),
        "create": statuses.count("create"),
        "update": statuses.count("update"),
        "deactivate": statuses.count("deactivate"),
        "unchanged": statuses.count("unchanged"),
    }
    plan = RosterPlan(
        counts=counts,
        items=[_item(a) for a in actions],
        issues=found_issues,
        new_units=new_units,
        warnings=warnings,
        error_rows=error_rows,
    )
    return plan, actions, tree


async def plan_roster(
    session: AsyncSession, principal: Principal, rows: Sequence[RosterRow], *, deactivate_missing: bool
) -> RosterPlan:
    """What importing `rows` would do, for the preview. Reads only."""
    plan, _, _ = await _plan(session, principal, rows, deactivate_missing=deactivate_missing)
    return plan


# Applying ---------------------------------------------------------------------------------------


async def _hash_passwords(passwords: Sequence[str]) -> list[str]:
    limit = asyncio.Semaphore(HASH_WORKERS)

    async def one(password: str) -> str:
        async with limit:
            return await run_in_threadpool(hash_initial_password, password)

    return list(await asyncio.gather(*(one(p) for p in passwords)))


def _new_code(parent_code: str, used: set[str]) -> str:
    """Codes of new units follow their parent's: JC-01 → JC-01-01, JC-01-02 …"""
    number = 1
    while True:
        prefix = parent_code if len(parent_code) <= _MAX_CODE - 6 else "R"
        code = f"{prefix}-{number:02d}"
        if code not in used:
            used.add(code)
            return code
        number += 1


async def _create_units(session: AsyncSession, tree: _Tree, needed: Iterable[_Node]) -> int:
    wanted: set[int] = set()
    for node in needed:
        walk: _Node | None = node
        while walk is not None and walk.unit is None:
            wanted.add(id(walk))
            walk = walk.parent
    used = set(tree.by_code)
    created = 0
    for node in tree.created:  # parents before children
        if id(node) not in wanted:
            continue
        assert node.parent is not None and node.parent.unit is not None
        parent = node.parent.unit
        node.unit = await create_unit(
            session, code=_new_code(parent.code, used), name=node.name, kind=UnitKind.other, parent=parent
        )
        created += 1
    return created


async def apply_roster(
    session: AsyncSession,
    principal: Principal,
    rows: Sequence[RosterRow],
    *,
    deactivate_missing: bool,
    skip_rows: Collection[int] = (),
) -> dict[str, Any]:
    """Import `rows` (all the file's rows; `skip_rows` are those the admin chose not to import,
    the preview's `error_rows`). Plans again first and raises `RosterStale` (409 import_stale)
    when rows outside `skip_rows` now have errors. Flushes, never commits.

    Returns {"units_created", "created", "updated", "deactivated",
    "initial_passwords": [{"police_number", "name", "password"}]}."""
    _, actions, tree = await _plan(session, principal, rows, deactivate_missing=deactivate_missing)
    skip = set(skip_rows)
    stale = [i for a in actions if a.status == "error" and a.row not in skip for i in a.issues]
    if stale:
        raise RosterStale(stale)
    todo = [a for a in actions if a.status in ("create", "update", "deactivate") and a.row not in skip]

    # The slow part first, before anything is written and locked.
    creates = [a for a in todo if a.status == "create"]
    passwords = [generate_initial_password(a.source.police_number) for a in creates if a.source]
    hashes = await _hash_passwords(passwords)

    units_created = await _create_units(session, tree, [a.node for a in todo if a.node is not None])
    initial_passwords: list[dict[str, str]] = []
    for action, password, hashed in zip(creates, passwords, hashes, strict=True):
        row, node = action.source, action.node
        assert row is not None and node is not None and node.unit is not None
        await create_user(
            session,
            username=row.police_number,
            name=row.name,
            role=Role(row.role or Role.officer),
            unit=node.unit,
            password_hash=hashed,
            police_number=row.police_number,
            phone=row.phone,
            must_change_password=True,
        )
        initial_passwords.append({"police_number": row.police_number, "name": row.name, "password": password})

    updated = deactivated = 0
    for action in todo:
        user = action.user
        if action.status == "create" or user is None:
            continue
        changes = action.changes
        if "name" in changes:
            user.name = changes["name"][1]
        if "phone" in changes:
            user.phone = changes["phone"][1]
        if "role" in changes:
            user.role = str(changes["role"][1])
        if "unit" in changes:
            assert action.node is not None and action.node.unit is not None
            user.unit_id = action.node.unit.id
        if "active" in changes:
            await set_active(session, user, bool(changes["active"][1]))
        if action.status == "deactivate":
            deactivated += 1
        else:
            updated += 1
    await session.flush()
    return {
        "units_created": units_created,
        "created": len(creates),
        "updated": updated,
        "deactivated": deactivated,
        "initial_passwords": initial_passwords,
    }
