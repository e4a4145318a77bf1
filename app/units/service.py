"""Units and users: creation with materialised paths, subtree scoping, the admin API."""

import secrets
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from starlette.concurrency import run_in_threadpool

from app.auth.service import password_problem, revoke_all_sessions
from app.core.deps import Principal
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.core.security import hash_password
from app.db.types import utcnow
from app.units.models import Role, Unit, User
from app.units.schemas import (
    PasswordReset,
    UnitCreate,
    UnitOut,
    UnitUpdate,
    UserAdminOut,
    UserCreate,
    UserCreated,
    UserPage,
    UserUpdate,
)


async def create_unit(
    session: AsyncSession, *, code: str, name: str, kind: str, parent: Unit | None, sort_order: int = 0
) -> Unit:
    unit = Unit(
        code=code,
        name=name,
        kind=kind,
        parent_id=parent.id if parent else None,
        depth=(parent.depth + 1) if parent else 0,
        path="",
        sort_order=sort_order,
    )
    session.add(unit)
    await session.flush()  # the id is part of the path
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


async def get_unit(session: AsyncSession, unit_id: int) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"Unit {unit_id} does not exist", code="unit_not_found")
    return unit


async def get_unit_in_scope(session: AsyncSession, principal: Principal, unit_id: int) -> Unit:
    """Load a unit the caller may see; one outside their subtree answers like a missing one."""
    unit = await session.get(Unit, unit_id)
    if unit is None or not principal.covers_unit_path(unit.path):
        raise NotFound(f"Unit {unit_id} does not exist", code="unit_not_found")
    return unit


def in_subtree(path_column: ColumnElement[str] | QueryableAttribute[str], path: str) -> ColumnElement[bool]:
    """SQL condition: the unit (or area) with `path_column` lies in the subtree at `path`."""
    return path_column.startswith(path, autoescape=True)


def unit_scope(principal: Principal) -> ColumnElement[bool] | None:
    """Condition on Unit.path limiting rows to the caller's subtree; None for administrators."""
    return None if principal.is_admin else in_subtree(Unit.path, principal.unit_path)


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    name: str,
    role: Role,
    unit: Unit,
    password_hash: str,
    police_number: str | None = None,
    phone: str | None = None,
    must_change_password: bool = False,
) -> User:
    if role not in Role.__members__.values():
        raise Unprocessable(f"Unknown role {role!r}", code="unknown_role")
    user = User(
        username=username,
        police_number=police_number,
        name=name,
        phone=phone,
        role=role,
        unit_id=unit.id,
        password_hash=password_hash,
        must_change_password=must_change_password,
        is_active=True,
    )
    session.add(user)
    await session.flush()
    return user


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    return (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()


# ---------------------------------------------------------------- admin API: helpers

# No look-alikes (0/O, 1/l/I): the initial password is read aloud or copied from a screen.
_READABLE_CHARS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INITIAL_PASSWORD_LENGTH = 12


def generate_initial_password(username: str) -> str:
    """A random password that passes the password rules for `username`."""
    while True:
        candidate = "".join(secrets.choice(_READABLE_CHARS) for _ in range(INITIAL_PASSWORD_LENGTH))
        if password_problem(username, candidate) is None:
            return candidate


def path_order(session: AsyncSession, column: QueryableAttribute[str]) -> ColumnElement[str]:
    """Order by a materialised path byte by byte, so every subtree is contiguous. PostgreSQL's
    linguistic collations skip the '/' separators and would interleave subtrees."""
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column.expression


def ancestor_ids(path: str) -> list[int]:
    """'/1/5/23/' -> [1, 5, 23]: the unit itself and its ancestors."""
    return [int(part) for part in path.strip("/").split("/") if part]


async def get_unit_ref(session: AsyncSession, principal: Principal, unit_id: int) -> Unit:
    """A unit named in a request body: missing or outside the caller's scope is invalid input."""
    unit = await session.get(Unit, unit_id)
    if unit is None or not principal.covers_unit_path(unit.path):
        raise Unprocessable(f"Unit {unit_id} does not exist", code="unit_not_found")
    return unit


async def _officer_counts(
    session: AsyncSession, scope_path: str | None
) -> tuple[dict[int, int], dict[int, int]]:
    """(active officers directly in each unit, active officers in each unit's subtree)."""
    stmt = (
        select(Unit.id, Unit.path, func.count(User.id))
        .join(User, User.unit_id == Unit.id)
        .where(User.role == Role.officer, User.is_active.is_(True))
        .group_by(Unit.id, Unit.path)
    )
    if scope_path is not None:
        stmt = stmt.where(in_subtree(Unit.path, scope_path))
    direct: dict[int, int] = {}
    subtree: dict[int, int] = {}
    for unit_id, path, count in await session.execute(stmt):
        direct[unit_id] = count
        for ancestor in ancestor_ids(path):
            subtree[ancestor] = subtree.get(ancestor, 0) + count
    return direct, subtree


def _unit_out(unit: Unit, direct: dict[int, int], subtree: dict[int, int]) -> UnitOut:
    return UnitOut(
        id=unit.id,
        parent_id=unit.parent_id,
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        depth=unit.depth,
        path=unit.path,
        sort_order=unit.sort_order,
        officer_count=direct.get(unit.id, 0),
        subtree_officer_count=subtree.get(unit.id, 0),
    )


async def unit_out(session: AsyncSession, unit: Unit) -> UnitOut:
    direct, subtree = await _officer_counts(session, unit.path)
    return _unit_out(unit, direct, subtree)


# ---------------------------------------------------------------- admin API: units


async def list_units(
    session: AsyncSession, principal: Principal, parent_id: int | None = None
) -> list[UnitOut]:
    stmt = select(Unit).order_by(path_order(session, Unit.path))
    scope = unit_scope(principal)
    if scope is not None:
        stmt = stmt.where(scope)
    if parent_id is not None:
        parent = await get_unit_in_scope(session, principal, parent_id)
        stmt = stmt.where(Unit.parent_id == parent.id)
    units = (await session.execute(stmt)).scalars().all()
    direct, subtree = await _officer_counts(session, None if principal.is_admin else principal.unit_path)
    return [_unit_out(unit, direct, subtree) for unit in units]


async def _code_taken(session: AsyncSession, code: str, exclude_id: int | None = None) -> bool:
    stmt = select(Unit.id).where(Unit.code == code)
    if exclude_id is not None:
        stmt = stmt.where(Unit.id != exclude_id)
    return (await session.execute(stmt)).first() is not None


async def create_unit_by(session: AsyncSession, principal: Principal, body: UnitCreate) -> UnitOut:
    if body.parent_id is None:
        if not principal.is_admin:
            raise Forbidden("Only administrators create top-level units", code="role_forbidden")
        parent = None
    else:
        parent = await get_unit_ref(session, principal, body.parent_id)
    if await _code_taken(session, body.code):
        raise Conflict(f"Unit code {body.code!r} is already used", code="unit_code_taken")
    unit = await create_unit(
        session, code=body.code, name=body.name, kind=body.kind, parent=parent, sort_order=body.sort_order
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"Unit code {body.code!r} is already used", code="unit_code_taken") from None
    return await unit_out(session, unit)


async def move_unit(session: AsyncSession, unit: Unit, new_parent: Unit | None) -> None:
    """Re-hang `unit` under `new_parent` (None: top level); paths and depths of the whole subtree follow.

    One UPDATE rewrites the path prefix of every unit in the subtree. Does not commit."""
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise Conflict("A unit cannot be moved under itself or one of its sub-units", code="unit_cycle")
    old_path = unit.path
    new_path = f"{new_parent.path if new_parent else '/'}{unit.id}/"
    new_depth = new_parent.depth + 1 if new_parent else 0
    shift = new_depth - unit.depth
    await session.execute(
        update(Unit)
        .where(in_subtree(Unit.path, old_path))
        .values(
            path=literal(new_path, String).concat(func.substr(Unit.path, len(old_path) + 1)),
            depth=Unit.depth + shift,
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Unit)
        .where(Unit.id == unit.id)
        .values(parent_id=new_parent.id if new_parent else None)
        .execution_options(synchronize_session=False)
    )
    # The bulk UPDATE bypassed the identity map: reload whatever is read next.
    session.expire_all()


async def update_unit(session: AsyncSession, principal: Principal, unit_id: int, body: UnitUpdate) -> UnitOut:
    unit = await get_unit_in_scope(session, principal, unit_id)
    fields = body.model_fields_set
    if "parent_id" in fields and body.parent_id != unit.parent_id:
        if not principal.is_admin:
            raise Forbidden("Only administrators move units", code="role_forbidden")
        new_parent = (
            await get_unit_ref(session, principal, body.parent_id) if body.parent_id is not None else None
        )
        await move_unit(session, unit, new_parent)
        unit = await get_unit(session, unit_id)
    if body.name is not None:
        unit.name = body.name
    if body.kind is not None:
        unit.kind = body.kind
    if body.sort_order is not None:
        unit.sort_order = body.sort_order
    await session.commit()
    return await unit_out(session, unit)


# ---------------------------------------------------------------- admin API: users


def _user_out(user: User, unit_name: str) -> UserAdminOut:
    return UserAdminOut(
        id=user.id,
        username=user.username,
        police_number=user.police_number,
        name=user.name,
        phone=user.phone,
        role=user.role,
        unit_id=user.unit_id,
        unit_name=unit_name,
        is_active=user.is_active,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
        deactivated_at=user.deactivated_at,
    )


async def get_user_in_scope(session: AsyncSession, principal: Principal, user_id: int) -> tuple[User, Unit]:
    """A user in the caller's subtree; one outside answers like a missing one."""
    row = (
        await session.execute(
            select(User, Unit).join(Unit, Unit.id == User.unit_id).where(User.id == user_id)
        )
    ).one_or_none()
    if row is None or not principal.covers_unit_path(row[1].path):
        raise NotFound(f"User {user_id} does not exist", code="user_not_found")
    return row[0], row[1]


async def list_users(
    session: AsyncSession,
    principal: Principal,
    *,
    unit_id: int | None = None,
    role: Role | None = None,
    q: str | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> UserPage:
    conditions: list[ColumnElement[bool]] = []
    scope = unit_scope(principal)
    if scope is not None:
        conditions.append(scope)
    if unit_id is not None:
        unit = await get_unit_in_scope(session, principal, unit_id)
        conditions.append(in_subtree(Unit.path, unit.path))
    if role is not None:
        conditions.append(User.role == role)
    if active is not None:
        conditions.append(User.is_active.is_(active))
    if q:
        needle = q.strip()
        conditions.append(
            User.name.icontains(needle, autoescape=True)
            | User.username.icontains(needle, autoescape=True)
            | User.police_number.icontains(needle, autoescape=True)
        )
    total = (
        await session.execute(
            select(func.count(User.id)).join(Unit, Unit.id == User.unit_id).where(*conditions)
        )
    ).scalar_one()
    rows = await session.execute(
        select(User, Unit.name)
        .join(Unit, Unit.id == User.unit_id)
        .where(*conditions)
        .order_by(path_order(session, Unit.path), User.username, User.id)
        .limit(limit)
        .offset(offset)
    )
    return UserPage(items=[_user_out(user, unit_name) for user, unit_name in rows], total=total)


async def get_user_admin(session: AsyncSession, principal: Principal, user_id: int) -> UserAdminOut:
    user, unit = await get_user_in_scope(session, principal, user_id)
    return _user_out(user, unit.name)


async def _check_identity_free(
    session: AsyncSession, *, username: str | None, police_number: str | None, exclude_id: int | None = None
) -> None:
    if police_number is not None:
        stmt = select(User.id).where(User.police_number == police_number)
        if exclude_id is not None:
            stmt = stmt.where(User.id != exclude_id)
        if (await session.execute(stmt)).first() is not None:
            raise Conflict(f"Police number {police_number} is already registered", code="police_number_taken")
    if username is not None:
        stmt = select(User.id).where(User.username == username)
        if exclude_id is not None:
            stmt = stmt.where(User.id != exclude_id)
        if (await session.execute(stmt)).first() is not None:
            raise Conflict(f"Username {username} is already taken", code="username_taken")


async def create_user_by(session: AsyncSession, principal: Principal, body: UserCreate) -> UserCreated:
    if not principal.is_admin and body.role != Role.officer:
        raise Forbidden("Unit administrators create officers only", code="role_forbidden")
    unit = await get_unit_ref(session, principal, body.unit_id)
    if body.role == Role.officer and body.police_number is None:
        raise Unprocessable("An officer needs a police number", code="police_number_required")
    username = body.username or body.police_number
    if username is None:
        raise Unprocessable("A username is required", code="username_required")
    if body.password is not None:
        problem = password_problem(username, body.password)
        if problem:
            raise Unprocessable(
                "Use at least 8 characters, not containing the username, with some variety", code=problem
            )
    await _check_identity_free(session, username=username, police_number=body.police_number)
    initial = None if body.password is not None else generate_initial_password(username)
    password = body.password if body.password is not None else initial
    assert password is not None
    hashed = await run_in_threadpool(hash_password, password)
    user = await create_user(
        session,
        username=username,
        name=body.name,
        role=body.role,
        unit=unit,
        password_hash=hashed,
        police_number=body.police_number,
        phone=body.phone,
        must_change_password=True if initial is not None else body.must_change_password,
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        # Someone registered the same name a moment ago: say which one.
        await _check_identity_free(session, username=username, police_number=body.police_number)
        raise
    return UserCreated(**_user_out(user, unit.name).model_dump(), initial_password=initial)


def _check_may_modify(principal: Principal, target: User) -> None:
    """Unit administrators manage officers (and their own record), never other staff."""
    if not principal.is_admin and target.id != principal.id and target.role != Role.officer:
        raise Forbidden("Unit administrators manage officers only", code="role_forbidden")


async def update_user(
    session: AsyncSession, principal: Principal, user_id: int, body: UserUpdate
) -> UserAdminOut:
    user, unit = await get_user_in_scope(session, principal, user_id)
    _check_may_modify(principal, user)
    is_self = user.id == principal.id
    changes: dict[str, Any] = {}
    if body.role is not None and body.role != user.role:
        if is_self:
            raise Conflict("You cannot change your own role", code="cannot_modify_self")
        if not principal.is_admin:
            raise Forbidden("Only administrators change roles", code="role_forbidden")
        if body.role == Role.officer and user.police_number is None:
            raise Unprocessable("An officer needs a police number", code="police_number_required")
        changes["role"] = body.role
    if body.is_active is False and is_self:
        raise Conflict("You cannot deactivate yourself", code="cannot_modify_self")
    if body.unit_id is not None and body.unit_id != user.unit_id:
        unit = await get_unit_ref(session, principal, body.unit_id)
        changes["unit_id"] = unit.id
    if body.name is not None:
        changes["name"] = body.name
    if "phone" in body.model_fields_set:
        changes["phone"] = body.phone
    for field, value in changes.items():
        setattr(user, field, value)
    if body.is_active is not None and body.is_active != user.is_active:
        await set_active(session, user, body.is_active)
    await session.commit()
    return _user_out(user, unit.name)


async def set_active(session: AsyncSession, user: User, active: bool) -> None:
    """Deactivate (from now, every login ended; never deleted) or reactivate a person."""
    user.is_active = active
    user.deactivated_at = None if active else utcnow()
    if not active:
        await revoke_all_sessions(session, user.id, "deactivated")


async def reset_password(session: AsyncSession, principal: Principal, user_id: int) -> PasswordReset:
    user, _ = await get_user_in_scope(session, principal, user_id)
    _check_may_modify(principal, user)
    if user.id == principal.id:
        raise Conflict("Change your own password with /me/password instead", code="cannot_modify_self")
    initial = generate_initial_password(user.username)
    user.password_hash = await run_in_threadpool(hash_password, initial)
    user.must_change_password = True
    await revoke_all_sessions(session, user.id, "password_reset")
    await session.commit()
    return PasswordReset(
        id=user.id, username=user.username, initial_password=initial, must_change_password=True
    )
