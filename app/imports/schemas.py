"""Import jobs as the API shows them (contract: README, "Imports")."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class PersonRef(BaseModel):
    id: int
    name: str


class IssueOut(BaseModel):
    code: str = Field(description="Stable machine code")
    message: str = Field(description="zh-CN: what is wrong and how to fix it")
    message_en: str
    line: int | None = Field(None, description="Text formats: 1-based line (JSON: question number)")
    row: int | None = Field(None, description="Sheets: the row number as Excel shows it")
    field: str | None = Field(None, description="Column header or field name")
    params: dict[str, Any] = Field(default_factory=dict)


class ImportJobOut(BaseModel):
    id: int
    kind: str
    status: str = Field(description="previewed | committed | discarded")
    file_name: str
    file_sha256: str
    file_size: int
    format: str
    encoding: str | None
    bank_id: int | None
    bank_name: str | None
    default_area: str | None
    deactivate_missing: bool
    created_by: PersonRef | None
    created_at: datetime
    committed_by: PersonRef | None
    committed_at: datetime | None
    valid_only: bool
    counts: dict[str, int]
    errors: list[IssueOut]
    warnings: list[IssueOut]
    duplicates: list[dict[str, Any]] = Field(description="Bank imports: duplicates in the file or the bank")
    new_knowledge_areas: list[str]
    new_units: list[str]
    result: dict[str, Any] | None = Field(
        description="After commit. Roster: `initial_passwords` only in the commit response itself"
    )


class ImportJobPage(BaseModel):
    items: list[ImportJobOut]
    total: int


class ItemPage(BaseModel):
    items: list[dict[str, Any]]
    total: int


class CommitIn(BaseModel):
    valid_only: bool = Field(
        False, description="Import the valid rows of a file that also has errors (recorded on the job)"
    )
