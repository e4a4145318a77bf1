"""Quizzes, their draw rules and targets; attempts, the items served and the responses saved."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import JSONType, UTCDateTime, utcnow


class QuizStatus(StrEnum):
    draft = "draft"
    published = "published"
    closed = "closed"


class MultipleScoring(StrEnum):
    all_or_nothing = "all_or_nothing"  # 少选不得分
    partial = "partial"  # 少选得部分分
    half = "half"  # 少选得一半分


class ReviewPolicy(StrEnum):
    score_only = "score_only"
    correctness = "correctness"  # which items were right, no key
    full = "full"  # correctness, key and explanation right after finishing
    full_after_close = "full_after_close"  # correctness now, key and explanation once the quiz closes


class AttemptStatus(StrEnum):
    in_progress = "in_progress"
    finished = "finished"


class FinishReason(StrEnum):
    submitted = "submitted"
    timeout = "timeout"
    closed = "closed"  # an administrator closed the quiz early


class Outcome(StrEnum):
    correct = "correct"
    partial = "partial"
    wrong = "wrong"
    blank = "blank"


class Quiz(Base):
    __tablename__ = "quizzes"
    __table_args__ = (
        CheckConstraint("time_limit_seconds > 0", name="time_limit_positive"),
        CheckConstraint("attempts_allowed > 0", name="attempts_allowed_positive"),
        CheckConstraint("pass_percent BETWEEN 0 AND 100", name="pass_percent_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # "quiz", or "spot" for the hidden quiz behind a spot session (never listed, counted apart).
    kind: Mapped[str] = mapped_column(String(10), default="quiz", server_default="quiz", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=QuizStatus.draft, index=True)
    time_limit_seconds: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=1)
    pass_percent: Mapped[int] = mapped_column(Integer, default=60)
    multiple_scoring: Mapped[str] = mapped_column(String(20), default=MultipleScoring.all_or_nothing)
    review_policy: Mapped[str] = mapped_column(String(20), default=ReviewPolicy.full)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fixed at publish: with each attempt's draw_index it decides which questions a paper gets.
    draw_seed: Mapped[str | None] = mapped_column(String(64))
    # Papers drawn so far; each start takes the next index (a short separate transaction).
    draw_counter: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class QuizRule(Base):
    __tablename__ = "quiz_rules"
    __table_args__ = (
        UniqueConstraint("quiz_id", "position"),
        CheckConstraint("count > 0", name="count_positive"),
        CheckConstraint(
            "difficulty_min BETWEEN 1 AND 5 AND difficulty_max BETWEEN 1 AND 5", name="difficulty"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("banks.id", ondelete="RESTRICT"))
    knowledge_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("knowledge_areas.id", ondelete="RESTRICT")
    )
    include_subareas: Mapped[bool] = mapped_column(Boolean, default=True)
    question_type: Mapped[str | None] = mapped_column(String(20))
    difficulty_min: Mapped[int] = mapped_column(Integer, default=1)
    difficulty_max: Mapped[int] = mapped_column(Integer, default=5)
    count: Mapped[int] = mapped_column(Integer)
    # Points for each question this rule draws; None keeps each question's own points.
    points: Mapped[int | None] = mapped_column(Integer)
    # Question ids this rule draws from, frozen at publish so every paper uses the same pool.
    pool: Mapped[list[int] | None] = mapped_column(JSONType)


class QuizTarget(Base):
    __tablename__ = "quiz_targets"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True)
    include_subunits: Mapped[bool] = mapped_column(Boolean, default=True)


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        # Two phones starting at once race on this: one attempt wins, the other gets 409.
        UniqueConstraint("quiz_id", "user_id", "number"),
        Index("ix_attempts_status_deadline", "status", "deadline"),
        Index("ix_attempts_user_id_quiz_id", "user_id", "quiz_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The officer's unit when the attempt started: statistics count it there even after a move.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=AttemptStatus.in_progress)
    finish_reason: Mapped[str | None] = mapped_column(String(20))
    seed: Mapped[str] = mapped_column(String(64))
    draw_index: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Marks are kept in thousandths of a point: exact sums on every database.
    score_milli: Mapped[int | None] = mapped_column(Integer)
    max_score_milli: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(Boolean)


class AttemptItem(Base):
    """A question exactly as served in one attempt: later edits to the bank never reach it."""

    __tablename__ = "attempt_items"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        # Covers the statistics' aggregates (index-only scans): the rows themselves are wide.
        Index(
            "ix_attempt_items_marks",
            "attempt_id",
            "knowledge_area_id",
            "question_id",
            "points",
            "awarded_milli",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    question_version: Mapped[int] = mapped_column(Integer)
    rule_position: Mapped[int] = mapped_column(Integer)
    knowledge_area_id: Mapped[int] = mapped_column(ForeignKey("knowledge_areas.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(20))
    difficulty: Mapped[int] = mapped_column(Integer)
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[dict[str, str]]] = mapped_column(JSONType)  # in the order served
    answer: Mapped[Any] = mapped_column(JSONType)
    explanation: Mapped[str] = mapped_column(Text)
    points: Mapped[int] = mapped_column(Integer)
    awarded_milli: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(20))


class AttemptResponse(Base):
    __tablename__ = "attempt_responses"
    __table_args__ = (UniqueConstraint("attempt_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("attempt_items.id", ondelete="CASCADE"))
    response: Mapped[Any] = mapped_column(JSONType)
    seq: Mapped[int] = mapped_column(BigInteger)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
