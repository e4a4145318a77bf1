"""Units and users: the admin API (scoped to the caller's unit subtree)."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import ManagerUser, SessionDep, StaffUser
from app.units import service
from app.units.models import Role
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

router = APIRouter()


@router.get("/units", response_model=list[UnitOut], tags=["units"])
async def list_units(
    principal: StaffUser, session: SessionDep, parent_id: Annotated[int | None, Query()] = None
) -> list[UnitOut]:
    """Units the caller may see (administrators: all; others: their own subtree), in tree order."""
    return await service.list_units(session, principal, parent_id)


@router.post("/units", response_model=UnitOut, status_code=201, tags=["units"])
async def create_unit(body: UnitCreate, principal: ManagerUser, session: SessionDep) -> UnitOut:
    return await service.create_unit_by(session, principal, body)


@router.get("/units/{unit_id}", response_model=UnitOut, tags=["units"])
async def get_unit(unit_id: int, principal: StaffUser, session: SessionDep) -> UnitOut:
    unit = await service.get_unit_in_scope(session, principal, unit_id)
    return await service.unit_out(session, unit)


@router.patch("/units/{unit_id}", response_model=UnitOut, tags=["units"])
async def update_unit(unit_id: int, body: UnitUpdate, principal: ManagerUser, session: SessionDep) -> UnitOut:
    return await service.update_unit(session, principal, unit_id, body)


@router.get("/users", response_model=UserPage, tags=["users"])
async def list_users(
    principal: StaffUser,
    session: SessionDep,
    unit_id: Annotated[int | None, Query(description="Includes the unit's sub-units")] = None,
    role: Role | None = None,
    q: Annotated[
        str | None, Query(max_length=64, description="Name, username or police number contains")
    ] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UserPage:
    return await service.list_users(
        session, principal, unit_id=unit_id, role=role, q=q, active=active, limit=limit, offset=offset
    )


@router.post("/users", response_model=UserCreated, status_code=201, tags=["users"])
async def create_user(body: UserCreate, principal: ManagerUser, session: SessionDep) -> UserCreated:
    return await service.create_user_by(session, principal, body)


@router.get("/users/{user_id}", response_model=UserAdminOut, tags=["users"])
async def get_user(user_id: int, principal: StaffUser, session: SessionDep) -> UserAdminOut:
    return await service.get_user_admin(session, principal, user_id)


@router.patch("/users/{user_id}", response_model=UserAdminOut, tags=["users"])
async def update_user(
    user_id: int, body: UserUpdate, principal: ManagerUser, session: SessionDep
) -> UserAdminOut:
    return await service.update_user(session, principal, user_id, body)


@router.post("/users/{user_id}/reset-password", response_model=PasswordReset, tags=["users"])
async def reset_password(user_id: int, principal: ManagerUser, session: SessionDep) -> PasswordReset:
    return await service.reset_password(session, principal, user_id)
