"""Evaluations: a named selection of quiz results with the targets (达标) each unit must meet."""

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String
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
