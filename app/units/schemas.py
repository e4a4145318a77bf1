"""Units and users as the admin API reads and writes them."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.units.models import Role, UnitKind

UnitCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
UnitName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
PoliceNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+\-() ]{3,20}$")]


class UnitOut(BaseModel):
    id: int
    parent_id: int | None
    code: str
    name: str
    kind: str
    depth: int
    path: str
    sort_order: int
    officer_count: int = Field(description="Active officers directly in this unit")
    subtree_officer_count: int = Field(description="Active officers in this unit and all its sub-units")


class UnitCreate(BaseModel):
    code: UnitCode
    name: UnitName
    kind: UnitKind = UnitKind.other
    parent_id: int | None = Field(None, description="Omit only for a top-level unit (administrators only)")
    sort_order: int = Field(0, ge=-1_000_000, le=1_000_000)


class UnitUpdate(BaseModel):
    """Every field optional. `parent_id` moves the unit and its subtree (administrators only);
    an explicit null makes it a top-level unit."""

    name: UnitName | None = None
    kind: UnitKind | None = None
    sort_order: int | None = Field(None, ge=-1_000_000, le=1_000_000)
    parent_id: int | None = None


class UserAdminOut(BaseModel):
    id: int
    username: str
    police_number: str | None
    name: str
    phone: str | None
    role: str
    unit_id: int
    unit_name: str
    is_active: bool
    must_change_password: bool
    created_at: datetime
    deactivated_at: datetime | None


class UserCreated(UserAdminOut):
    initial_password: str | None = Field(
        description="The generated initial password, shown only in this response; null when one was given"
    )


class UserPage(BaseModel):
    items: list[UserAdminOut]
    total: int


class UserCreate(BaseModel):
    username: Username | None = Field(None, description="Officers: defaults to the police number")
    police_number: PoliceNumber | None = None
    name: PersonName
    phone: Phone | None = None
    role: Role
    unit_id: int
    password: str | None = Field(
        None, min_length=1, max_length=128, description="Omit to generate an initial password"
    )
    must_change_password: bool = Field(
        True, description="Only for a given password; a generated one must always be changed"
    )


class UserUpdate(BaseModel):
    """Every field optional; null leaves a field unchanged, except `phone`, where null clears it."""

    name: PersonName | None = None
    phone: Phone | None = None
    unit_id: int | None = None
    role: Role | None = None
    is_active: bool | None = None


class PasswordReset(BaseModel):
    id: int
    username: str
    initial_password: str
    must_change_password: bool
