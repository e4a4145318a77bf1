"""Evaluations: a named selection of quiz results with the targets (达标) each unit must meet."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import JSONType, UTCDateTime, utcnow


class Evaluation(Base):
    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The selection: these quizzes (empty: any) finished within [date_from, date_to].
    quiz_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    attempts: Mapped[str] = mapped_column(String(10), default="first")
    # Targets in percent; None = not checked.
    min_participation_percent: Mapped[float | None] = mapped_column(Float)
    min_pass_rate_percent: Mapped[float | None] = mapped_column(Float)
    min_mean_percent: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Running totals of first attempts, added to in the transaction that finishes an attempt (see
# app.stats.totals): the unit reports read these few rows instead of every answer row, and are
# still exact and current. Keyed by quiz, the unit where the attempt started, and the day (report
# timezone) it finished, so a selection by quizzes and dates is a plain filter.


class ScoreTally(Base):
    """How many first attempts ended with this score."""

    __tablename__ = "stat_scores"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    score_milli: Mapped[int] = mapped_column(Integer, primary_key=True)
    max_score_milli: Mapped[int] = mapped_column(Integer, primary_key=True)
    passed: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)


class AreaTally(Base):
    """Marks of first attempts' items in one knowledge area (the area the item was served in)."""

    __tablename__ = "stat_area_marks"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    knowledge_area_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_areas.id", ondelete="RESTRICT"), primary_key=True
    )
    awarded_milli: Mapped[int] = mapped_column(BigInteger)
    possible_milli: Mapped[int] = mapped_column(BigInteger)


class QuestionTally(Base):
    """Marks of first attempts' items drawing one question."""

    __tablename__ = "stat_question_marks"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="RESTRICT"), primary_key=True
    )
    answered: Mapped[int] = mapped_column(Integer)
    awarded_milli: Mapped[int] = mapped_column(BigInteger)
    possible_milli: Mapped[int] = mapped_column(BigInteger)
