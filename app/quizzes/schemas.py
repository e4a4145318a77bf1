from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.bank.models import QuestionType
from app.quizzes.models import MultipleScoring, ReviewPolicy


class RuleIn(BaseModel):
    bank_id: int | None = None
    knowledge_area_id: int | None = None
    include_subareas: bool = True
    question_type: QuestionType | None = None
    difficulty_min: int = Field(1, ge=1, le=5)
    difficulty_max: int = Field(5, ge=1, le=5)
    count: int = Field(gt=0, le=500)
    points: int | None = Field(None, gt=0, le=100)

    @model_validator(mode="after")
    def _range(self) -> "RuleIn":
        if self.difficulty_min > self.difficulty_max:
            raise ValueError("difficulty_min must not exceed difficulty_max")
        return self


class RuleOut(RuleIn):
    id: int
    position: int
    pool_size: int | None = None


class TargetIn(BaseModel):
    unit_id: int
    include_subunits: bool = True


class QuizIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    time_limit_seconds: int = Field(gt=0, le=24 * 3600)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    attempts_allowed: int = Field(1, gt=0, le=100)
    pass_percent: int = Field(60, ge=0, le=100)
    multiple_scoring: MultipleScoring = MultipleScoring.all_or_nothing
    review_policy: ReviewPolicy = ReviewPolicy.full
    shuffle_questions: bool = True
    shuffle_options: bool = True
    rules: list[RuleIn] = Field(min_length=1, max_length=50)
    targets: list[TargetIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _window(self) -> "QuizIn":
        for value in (self.opens_at, self.closes_at):
            if value is not None and value.tzinfo is None:
                raise ValueError("opens_at and closes_at need a time zone (e.g. +08:00 or Z)")
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class QuizOut(BaseModel):
    id: int
    title: str
    description: str
    status: str
    time_limit_seconds: int
    opens_at: datetime | None
    closes_at: datetime | None
    attempts_allowed: int
    pass_percent: int
    multiple_scoring: str
    review_policy: str
    shuffle_questions: bool
    shuffle_options: bool
    published_at: datetime | None
    rules: list[RuleOut]
    targets: list[TargetIn]
    question_count: int
    # None when rules keep each question's own points: then it depends on the paper drawn.
    max_score: float | None


class MyQuiz(BaseModel):
    id: int
    title: str
    description: str
    opens_at: datetime | None
    closes_at: datetime | None
    time_limit_seconds: int
    question_count: int
    # None when rules keep each question's own points: then it depends on the paper drawn.
    max_score: float | None
    pass_percent: int
    attempts_allowed: int
    attempts_used: int
    state: Literal["upcoming", "open", "in_progress", "finished", "closed"]
    can_start: bool
    attempt_in_progress_id: int | None
    last_score: float | None
    last_passed: bool | None
    best_score: float | None


class OptionOut(BaseModel):
    id: str
    text: str


class ItemOut(BaseModel):
    """An item as served during an attempt: never a key, an explanation or correctness."""

    id: int
    position: int
    type: str
    stem: str
    options: list[OptionOut]
    blanks: int
    points: float
    response: Any
    seq: int | None


class ReviewItem(ItemOut):
    """An item after the attempt finished, with as much as the review policy allows."""

    outcome: str | None = None
    awarded: float | None = None
    correct_response: Any = None
    explanation: str | None = None


class AttemptResult(BaseModel):
    attempt_id: int
    quiz_id: int
    status: str
    finish_reason: str | None
    finished_at: datetime | None
    score: float
    max_score: float
    passed: bool
    review_policy: str
    shows_correctness: bool
    shows_answers: bool
    items: list[ReviewItem]


class AttemptOut(BaseModel):
    id: int
    quiz_id: int
    quiz_title: str
    number: int
    status: str
    started_at: datetime
    deadline: datetime
    server_time: datetime
    save_grace_seconds: int
    items: list[ItemOut]
    result: AttemptResult | None = None


class SaveIn(BaseModel):
    response: Any
    seq: int = Field(ge=0, le=2**53)


class SaveOut(BaseModel):
    item_id: int
    seq: int
    saved_at: datetime
    accepted: bool
    server_time: datetime


class ShortageOut(BaseModel):
    rule: int
    needed: int
    available: int
    matching: int
    message: str


class PaperCheck(BaseModel):
    attempt_id: int
    seed: str
    draw_seed: str
    draw_index: int
    recorded: list[int]
    recomputed: list[int]
    options_match: bool
    matches: bool
