"""Practice sessions, the items served in them, the answers given, and the wrong-answer book."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import JSONType, UTCDateTime, utcnow


class PracticeMode(StrEnum):
    area = "area"  # one knowledge area (and its sub-areas)
    weak = "weak"  # mostly the officer's weakest areas, plus wrong-book questions that are due
    wrong_book = "wrong_book"  # the officer's wrong-book questions, due ones first


class PracticeSession(Base):
    __tablename__ = "practice_sessions"
    __table_args__ = (Index("ix_practice_sessions_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(20))
    # The area asked for (required in area mode, an optional narrowing in the others).
    knowledge_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("knowledge_areas.id", ondelete="SET NULL")
    )
    # With the officer's history at the time, it fixes the selection and the option order.
    seed: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PracticeItem(Base):
    """A question exactly as served in one practice session: later bank edits never reach it."""

    __tablename__ = "practice_items"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("practice_sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    # Null once the bank question is deleted: the snapshot and its answer stay (mastery counts them).
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"), index=True
    )
    question_version: Mapped[int] = mapped_column(Integer)
    knowledge_area_id: Mapped[int] = mapped_column(ForeignKey("knowledge_areas.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(20))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[dict[str, str]]] = mapped_column(JSONType)  # in the order served
    answer: Mapped[Any] = mapped_column(JSONType)
    explanation: Mapped[str] = mapped_column(Text)
    points: Mapped[int] = mapped_column(Integer)


class PracticeAnswer(Base):
    """The first answer to a practice item, marked at once; answering again changes nothing."""

    __tablename__ = "practice_answers"
    __table_args__ = (UniqueConstraint("session_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("practice_sessions.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("practice_items.id", ondelete="CASCADE"), index=True)
    response: Mapped[Any] = mapped_column(JSONType)
    awarded_milli: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WrongBookEntry(Base):
    """One bank question in one officer's wrong-answer book (see app/practice/selection.py).

    A cleared entry (two right answers in a row after the last wrong one) has left the book; the row
    stays so `wrong_count` keeps counting if the question is missed again.
    """

    __tablename__ = "wrong_book"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id"),
        CheckConstraint("wrong_count > 0", name="wrong_count_positive"),
        CheckConstraint("right_streak >= 0", name="right_streak_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    wrong_count: Mapped[int] = mapped_column(Integer)
    right_streak: Mapped[int] = mapped_column(Integer)
    last_wrong_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the last wrong answer came from a quiz that shows keys only after it closes: the entry
    # is neither listed nor served until that quiz's review shows its answers (invariant 1).
    held_by_quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id", ondelete="SET NULL"))
