"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from app.auth.models import AuthSession, RefreshToken
from app.bank.models import Bank, KnowledgeArea, Question, QuestionVersion
from app.db.base import Base
from app.imports.models import ImportJob
from app.practice.models import PracticeAnswer, PracticeItem, PracticeSession, WrongBookEntry
from app.quizzes.models import Attempt, AttemptItem, AttemptResponse, Quiz, QuizRule, QuizTarget
from app.spot.models import OralCheck, SpotAudit, SpotParticipant, SpotSession
from app.stats.models import AreaTally, Evaluation, QuestionTally, ScoreTally
from app.units.models import Unit, User

__all__ = [
    "AreaTally",
    "Attempt",
    "AttemptItem",
    "AttemptResponse",
    "AuthSession",
    "Bank",
    "Base",
    "Evaluation",
    "ImportJob",
    "KnowledgeArea",
    "OralCheck",
    "PracticeAnswer",
    "PracticeItem",
    "PracticeSession",
    "Question",
    "QuestionTally",
    "QuestionVersion",
    "Quiz",
    "QuizRule",
    "QuizTarget",
    "RefreshToken",
    "ScoreTally",
    "SpotAudit",
    "SpotParticipant",
    "SpotSession",
    "Unit",
    "User",
    "WrongBookEntry",
]
