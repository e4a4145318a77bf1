"""Knowledge areas, banks and questions as the admin API reads and writes them."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from app.bank.models import QuestionType

AreaName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
BankName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionText = Annotated[str, StringConstraints(max_length=1000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class AreaOut(BaseModel):
    id: int
    parent_id: int | None
    name: str
    full_name: str
    path: str
    depth: int
    question_count: int = Field(description="Active questions directly in this area")
    subtree_question_count: int = Field(description="Active questions in this area and its sub-areas")


class AreaCreate(BaseModel):
    name: AreaName
    parent_id: int | None = None


class AreaUpdate(BaseModel):
    name: AreaName


class BankOut(BaseModel):
    id: int
    name: str
    description: str
    created_at: datetime
    question_count: int = Field(description="Active questions")
    retired_count: int


class BankCreate(BaseModel):
    name: BankName
    description: str = Field("", max_length=5000)


class BankUpdate(BaseModel):
    name: BankName | None = None
    description: str | None = Field(None, max_length=5000)


class QuestionIn(BaseModel):
    """A question in authoring form: `answer` refers to options by 0-based index."""

    bank_id: int
    knowledge_area_id: int
    type: QuestionType
    stem: str = Field(max_length=5000)
    options: list[OptionText] = Field(default_factory=list, max_length=20)
    answer: Any = Field(
        description="single: option index; multiple: list of >= 2 indexes; true_false: bool; "
        "fill_blank: list of blanks, each a list of accepted texts (stem marks each blank with ____)"
    )
    explanation: str = Field("", max_length=10000)
    difficulty: int = Field(2, ge=1, le=5)
    points: int = Field(1, gt=0, le=100)
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class QuestionUpdate(BaseModel):
    """Any authoring field; omitted (or null) fields keep their value. Options whose text is
    unchanged keep their ids. When options change but `answer` is omitted, the answer follows
    the correct options by text."""

    bank_id: int | None = None
    knowledge_area_id: int | None = None
    type: QuestionType | None = None
    stem: str | None = Field(None, max_length=5000)
    options: list[OptionText] | None = Field(None, max_length=20)
    answer: Any = None
    explanation: str | None = Field(None, max_length=10000)
    difficulty: int | None = Field(None, ge=1, le=5)
    points: int | None = Field(None, gt=0, le=100)
    tags: list[Tag] | None = Field(None, max_length=20)


class OptionOut(BaseModel):
    id: str
    text: str


class QuestionOut(BaseModel):
    """A question in stored form (answers refer to option ids), for staff only."""

    id: int
    bank_id: int
    knowledge_area_id: int
    knowledge_area_full_name: str
    type: str
    stem: str
    options: list[OptionOut]
    answer: Any
    answer_indexes: int | list[int] | None = Field(
        description="For choice questions: the answer as 0-based indexes into `options`"
    )
    explanation: str
    difficulty: int
    points: int
    status: str
    version: int
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class QuestionPage(BaseModel):
    items: list[QuestionOut]
    total: int


class RetiredOut(BaseModel):
    status: str = "retired"


class QuestionVersionOut(BaseModel):
    """One version of a question as it was (answers refer to that version's option ids)."""

    version: int
    current: bool
    made_at: datetime
    bank_id: int
    knowledge_area_id: int
    knowledge_area_full_name: str
    type: str
    stem: str
    options: list[OptionOut]
    answer: Any
    explanation: str
    difficulty: int
    points: int
    tags: list[str]
