"""Knowledge areas, banks and questions."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import JSONType, UTCDateTime, utcnow


class QuestionType(StrEnum):
    single = "single"
    multiple = "multiple"
    true_false = "true_false"
    fill_blank = "fill_blank"


class QuestionStatus(StrEnum):
    active = "active"
    retired = "retired"


class KnowledgeArea(Base):
    __tablename__ = "knowledge_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_areas.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    # "警示教育/三个规定": the names from the top down; unique, and how imports refer to areas.
    full_name: Mapped[str] = mapped_column(String(500), unique=True)
    # "/3/7/": ids from the top down; sub-areas are one prefix match.
    path: Mapped[str] = mapped_column(String(512), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("difficulty BETWEEN 1 AND 5", name="difficulty_range"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="RESTRICT"), index=True)
    knowledge_area_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_areas.id", ondelete="RESTRICT"), index=True
    )
    type: Mapped[str] = mapped_column(String(20))
    stem: Mapped[str] = mapped_column(Text)
    # [{"id": "<stable opaque id>", "text": "..."}] in authoring order; empty for fill-in-the-blank.
    options: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    # single: option id; multiple: [option ids]; true_false: bool; fill_blank: [[alternatives], ...]
    answer: Mapped[Any] = mapped_column(JSONType)
    explanation: Mapped[str] = mapped_column(Text, default="")
    difficulty: Mapped[int] = mapped_column(Integer, default=2)
    points: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default=QuestionStatus.active, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Hash of the normalised stem and options: finds duplicates within a bank.
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QuestionVersion(Base):
    """A question as it was before an edit: the row itself always holds the current version, so
    imports of thousands of questions write no history, and an edit archives what it replaces."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # type, stem, options, answer, explanation, difficulty, points, tags, knowledge_area_id, bank_id
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Who made this version and when (the edit that created it, or the original creation).
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
