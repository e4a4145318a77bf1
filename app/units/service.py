"""Units and users: creation with materialised paths, subtree scoping."""

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.deps import Principal
from app.core.errors import NotFound, Unprocessable
from app.units.models import Role, Unit, User


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


def in_subtree(path_column: ColumnElement[str], path: str) -> ColumnElement[bool]:
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
