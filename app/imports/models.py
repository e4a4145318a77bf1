"""Import jobs: every preview and its outcome is kept (who, when, which file, counts, result)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import JSONType, UTCDateTime, utcnow


class ImportKind(StrEnum):
    bank = "bank"
    roster = "roster"


class ImportStatus(StrEnum):
    previewed = "previewed"
    committed = "committed"
    discarded = "discarded"


class ImportJob(Base):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.previewed)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_size: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(20))
    encoding: Mapped[str | None] = mapped_column(String(20))
    # Bank imports: the target bank by name (created at commit if new) and the area for questions
    # that name none.
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("banks.id", ondelete="SET NULL"))
    default_area: Mapped[str | None] = mapped_column(String(500))
    deactivate_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    # The importer's unit: a unit admin's jobs are visible within their subtree.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    committed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # The preview as shown: counts, errors, warnings, duplicates, new areas or units.
    preview: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # What commit writes: the checked questions or roster rows, and each preview item.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
