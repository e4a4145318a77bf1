"""Spot sessions (现场抽查), who takes part, oral checks and the audit log."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import JSONType, UTCDateTime, utcnow


class SpotMode(StrEnum):
    phone = "phone"  # officers answer on their phones (the quiz screens)
    oral = "oral"  # the inspector asks and marks


class SpotStatus(StrEnum):
    lobby = "lobby"  # seed committed, roster fixed, nobody drawn yet
    running = "running"  # drawn (or open to all); officers join and answer
    closed = "closed"  # results frozen; changes only as reasoned overrides


class OralResult(StrEnum):
    correct = "correct"
    partly = "partly"
    wrong = "wrong"


class SpotSession(Base):
    __tablename__ = "spot_sessions"
    __table_args__ = (Index("ix_spot_sessions_code_status", "code", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # The 6-digit join code; unique among sessions that are not closed.
    code: Mapped[str] = mapped_column(String(6))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    include_subunits: Mapped[bool] = mapped_column(Boolean, default=True)
    mode: Mapped[str] = mapped_column(String(10))
    # How many officers to draw; None = everyone in the unit may join (everyone present).
    draw_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=SpotStatus.lobby)
    # Phone mode answers through an ordinary attempt on this hidden quiz (kind "spot").
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id", ondelete="RESTRICT"))
    # The verifiable draw: sha256(seed) is shown before the draw, the seed after it.
    seed: Mapped[str] = mapped_column(String(64))
    seed_commitment: Mapped[str] = mapped_column(String(64))
    roster_hash: Mapped[str] = mapped_column(String(64))
    # [[police_number, user_id, name], ...] ordered by police number, fixed at creation.
    roster: Mapped[list[list[Any]]] = mapped_column(JSONType)
    drawn: Mapped[list[str] | None] = mapped_column(JSONType)  # police numbers in draw order
    allow_repeat_oral: Mapped[bool] = mapped_column(Boolean, default=False)
    # Joining more than this long after the draw is marked late (still allowed until closing).
    late_after_seconds: Mapped[int] = mapped_column(Integer, default=300)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SpotParticipant(Base):
    __tablename__ = "spot_participants"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("spot_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    drawn: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # The phone that joined: another device for the same officer is refused until reset.
    device_id: Mapped[str | None] = mapped_column(String(64))
    excused: Mapped[bool] = mapped_column(Boolean, default=False)
    excuse_reason: Mapped[str | None] = mapped_column(String(500))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))


class OralCheck(Base):
    __tablename__ = "spot_oral_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("spot_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    # The question as asked (stem, options, answer, explanation): edits to the bank never reach it.
    question: Mapped[dict[str, Any]] = mapped_column(JSONType)
    result: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SpotAudit(Base):
    """Who did what and when: draws, joins, excusals, marks, overrides, closing."""

    __tablename__ = "spot_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("spot_sessions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(30))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
