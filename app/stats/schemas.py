"""Statistics as the API shows them. Definitions: README, "Statistics"."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

AttemptChoice = Literal["first", "best", "last"]
BAND_NAMES = ("0-59", "60-69", "70-79", "80-89", "90-100")


class TargetCheck(BaseModel):
    name: Literal["participation", "pass_rate", "mean"]
    threshold: float
    value: float | None
    met: bool


class Targets(BaseModel):
    met: bool
    checks: list[TargetCheck]


class UnitFigures(BaseModel):
    unit_id: int
    name: str
    roster: int = Field(description="Active officers in the unit (and its subtree when rolled up)")
    participants: int = Field(description="Of those, how many have a finished attempt in the selection")
    participation_percent: float | None
    scored: int = Field(description="Attempts counted (one per officer and quiz: first, best or last)")
    mean_percent: float | None
    median_percent: float | None
    pass_rate_percent: float | None
    passed: int
    bands: dict[str, int]
    small_sample: bool = Field(description="Fewer than 10 attempts counted: read the figures with care")
    targets: Targets | None = None


class AreaMastery(BaseModel):
    knowledge_area_id: int
    full_name: str
    depth: int
    awarded: float = Field(description="Points awarded")
    possible: float = Field(description="Points possible")
    mastery_percent: float | None


class AreaCell(BaseModel):
    unit_id: int
    knowledge_area_id: int
    awarded: float
    possible: float
    mastery_percent: float | None


class WeakQuestion(BaseModel):
    question_id: int
    stem: str
    type: str
    knowledge_area: str
    answered: int
    facility_percent: float


class NonParticipant(BaseModel):
    user_id: int
    name: str
    police_number: str | None
    unit_id: int
    unit_name: str


class NonParticipants(BaseModel):
    total: int
    items: list[NonParticipant]


class QuizRef(BaseModel):
    id: int
    title: str


class SelectionOut(BaseModel):
    quiz_ids: list[int]
    quizzes: list[QuizRef]
    date_from: date | None
    date_to: date | None
    attempts: AttemptChoice


class UnitRef(BaseModel):
    id: int
    name: str
    full_name: str


class EvaluationRef(BaseModel):
    id: int
    name: str
    min_participation_percent: float | None
    min_pass_rate_percent: float | None
    min_mean_percent: float | None


class UnitReport(BaseModel):
    unit: UnitRef
    selection: SelectionOut
    generated_at: datetime
    evaluation: EvaluationRef | None
    summary: UnitFigures
    own: UnitFigures | None = Field(description="Officers directly in the unit (本级)")
    children: list[UnitFigures]
    areas: list[AreaMastery]
    area_matrix: list[AreaCell]
    weakest_questions: list[WeakQuestion]
    non_participants: NonParticipants
    spot_sessions: list[dict[str, object]] = Field(
        default_factory=list, description="On-site spot-session results, labelled; never mixed into the above"
    )


class TrendPoint(BaseModel):
    period: date
    scored: int
    participants_cumulative: int
    mean_percent: float | None
    pass_rate_percent: float | None


class TestStatsOut(BaseModel):
    mean: float | None
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    cic: float | None
    error_ratio: float | None
    standard_error: float | None


class QuestionStatsOut(BaseModel):
    question_id: int
    stem: str
    type: str
    knowledge_area: str
    count: int
    facility: float | None
    sd: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    flags: list[str]


class ItemAnalysisOut(BaseModel):
    quiz: QuizRef
    unit: UnitRef
    attempts: int
    small_sample: bool
    test: TestStatsOut
    questions: list[QuestionStatsOut]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Percent = Annotated[float, Field(ge=0, le=100)]


class EvaluationIn(BaseModel):
    name: Name
    quiz_ids: list[int] = Field(default_factory=list, max_length=100)
    date_from: date | None = None
    date_to: date | None = None
    attempts: AttemptChoice = "first"
    min_participation_percent: Percent | None = None
    min_pass_rate_percent: Percent | None = None
    min_mean_percent: Percent | None = None

    @model_validator(mode="after")
    def _selection(self) -> "EvaluationIn":
        if not self.quiz_ids and self.date_from is None and self.date_to is None:
            raise ValueError("choose quizzes or a date range")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        return self


class EvaluationUpdate(BaseModel):
    name: Name | None = None
    quiz_ids: list[int] | None = Field(None, max_length=100)
    date_from: date | None = None
    date_to: date | None = None
    attempts: AttemptChoice | None = None
    min_participation_percent: Percent | None = None
    min_pass_rate_percent: Percent | None = None
    min_mean_percent: Percent | None = None


class EvaluationOut(EvaluationIn):
    id: int
    created_at: datetime
