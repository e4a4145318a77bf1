from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.practice.models import PracticeMode
from app.quizzes.schemas import ItemOut, OptionOut


class PracticeArea(BaseModel):
    id: int
    name: str
    full_name: str
    depth: int
    questions: int = Field(description="Active questions in the area and its sub-areas")
    answered: int = Field(
        description="Distinct questions of the area (and sub-areas) this officer has answered, in "
        "finished quizzes that show correctness or in practice"
    )
    mastery: float | None = Field(
        description="Points awarded / points possible over those answers (0..1); null when none"
    )


class SessionIn(BaseModel):
    mode: PracticeMode
    knowledge_area_id: int | None = Field(
        None, description="Required for mode 'area'; in the other modes it narrows them to that subtree"
    )
    count: int = Field(10, ge=1, le=50)

    @model_validator(mode="after")
    def _area_needed(self) -> "SessionIn":
        if self.mode == PracticeMode.area and self.knowledge_area_id is None:
            raise ValueError("knowledge_area_id is required for mode 'area'")
        return self


class AnswerIn(BaseModel):
    response: Any


class AnswerResult(BaseModel):
    """Feedback on one practice answer: only ever sent once the item has been answered."""

    item_id: int
    outcome: Literal["correct", "partial", "wrong", "blank"]
    awarded: float
    correct_response: Any
    explanation: str


class PracticeItemOut(ItemOut):
    """A quiz item's shape; `feedback` is null until the item is answered."""

    feedback: AnswerResult | None = None


class SessionOut(BaseModel):
    id: int
    mode: PracticeMode
    items: list[PracticeItemOut]


class WrongBookItem(BaseModel):
    question_id: int
    type: str
    stem: str
    options: list[OptionOut]
    correct_response: Any
    explanation: str
    knowledge_area: str = Field(description="The area's full name")
    wrong_count: int
    right_streak: int
    last_wrong_at: datetime
    due_at: datetime


class WrongBook(BaseModel):
    items: list[WrongBookItem]
    total: int
