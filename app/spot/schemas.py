"""Spot sessions as the API shows them."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.quizzes.schemas import RuleIn
from app.spot.models import OralResult, SpotMode


class SpotCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    unit_id: int
    include_subunits: bool = True
    mode: SpotMode = SpotMode.phone
    draw_count: int | None = Field(None, gt=0, le=10_000, description="None: everyone in the unit may join")
    rules: list[RuleIn] = Field(min_length=1, max_length=50, description="The same draw rules as quizzes")
    time_limit_seconds: int | None = Field(None, gt=0, le=4 * 3600)
    seconds_per_question: int | None = Field(
        None, gt=0, le=3600, description="Instead of a session limit: this many seconds per question"
    )
    pass_percent: int = Field(60, ge=0, le=100)
    late_after_seconds: int = Field(300, ge=0, le=24 * 3600)
    allow_repeat_oral: bool = False

    @model_validator(mode="after")
    def _limit(self) -> "SpotCreate":
        if self.mode == SpotMode.phone and (self.time_limit_seconds is None) == (
            self.seconds_per_question is None
        ):
            raise ValueError("give time_limit_seconds or seconds_per_question (one of them)")
        return self


class DrawRecord(BaseModel):
    """Everything needed to recompute the draw (app/spot/draw.py documents the algorithm)."""

    algorithm: str
    seed_commitment: str
    roster_hash: str
    roster: list[tuple[str, int]] = Field(description="[police number, user id], by police number")
    count: int | None
    seed: str | None = Field(description="Revealed after the draw")
    drawn: list[str] | None = Field(description="Police numbers in draw order")


class DrawCheck(BaseModel):
    name: str
    ok: bool
    expected: str
    actual: str


class DrawVerification(BaseModel):
    ok: bool
    checks: list[DrawCheck]


class SpotOut(BaseModel):
    id: int
    title: str
    code: str
    unit_id: int
    unit_name: str
    include_subunits: bool
    mode: str
    draw_count: int | None
    status: str
    quiz_id: int | None
    seed_commitment: str
    roster_hash: str
    roster_size: int
    seed: str | None
    drawn: list[str] | None
    created_by: str
    created_at: datetime
    drawn_at: datetime | None
    closed_at: datetime | None
    join_path: str = Field(description="Where the QR code leads: /spot/join?code=…")


class JoinIn(BaseModel):
    code: str = Field(pattern=r"^\d{6}$")
    device_id: str = Field(min_length=8, max_length=64)


class JoinOut(BaseModel):
    session_id: int
    title: str
    mode: str
    status: str
    late: bool
    attempt_id: int | None = Field(description="Phone mode: answer this attempt with the quiz screens")


class ParticipantOut(BaseModel):
    user_id: int
    name: str
    police_number: str | None
    unit_name: str
    drawn: bool
    joined_at: datetime | None
    late: bool
    excused: bool
    excuse_reason: str | None
    answered: int
    total: int
    finished: bool
    score_percent: float | None


class OptionCount(BaseModel):
    id: str
    text: str
    count: int
    correct: bool


class QuestionLive(BaseModel):
    question_id: int
    stem: str
    type: str
    served: int
    answered: int
    correct: int
    options: list[OptionCount]


class OralCheckOut(BaseModel):
    id: int
    user_id: int
    name: str
    question_id: int
    question: dict[str, Any] = Field(description="As asked, with key and explanation: inspectors only")
    result: str | None
    note: str
    asked_at: datetime
    marked_at: datetime | None


class SpotBoard(BaseModel):
    """The whole live state; a board (re)connecting gets this, then one after every change."""

    session: SpotOut
    participants: list[ParticipantOut]
    questions: list[QuestionLive]
    oral: list[OralCheckOut]
    version: int = Field(description="Grows with every change the board has been told about")


class ExcuseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class OralDrawIn(BaseModel):
    user_id: int | None = Field(None, description="Ask this officer; otherwise one is drawn")


class OralMarkIn(BaseModel):
    result: OralResult
    note: str = Field("", max_length=2000)


class OverrideIn(BaseModel):
    kind: Literal["oral", "excuse"]
    check_id: int | None = None
    user_id: int | None = None
    result: OralResult | None = None
    excused: bool | None = None
    note: str = Field("", max_length=2000)
    reason: str = Field(min_length=1, max_length=1000)


class AuditOut(BaseModel):
    at: datetime
    actor: str | None
    action: str
    detail: dict[str, Any]
