"""What every question parser produces, and the checks they all share: pure functions, no I/O.

A parser reads a file into `Draft`s (fields as written, with where they came from), then
`check_draft` turns each into a `ParsedQuestion` (authoring form, as `app.bank.validation`
defines it) or a list of `Issue`s. Every issue has a stable code, the line or row, the field and
a zh-CN message that says how to fix it (texts in `app.imports.messages`).
"""

import dataclasses
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from app.bank.models import QuestionType
from app.bank.validation import BLANK, MAX_OPTIONS, QuestionInvalid, check_authoring
from app.imports.messages import message

DEFAULT_POINTS = {"single": 1, "multiple": 2, "true_false": 1, "fill_blank": 2}
DEFAULT_DIFFICULTY = 2
# Where questions that name no knowledge area go.
DEFAULT_AREA = "未分类"
LETTERS = "ABCDEFGH"
assert len(LETTERS) == MAX_OPTIONS

# Problems that do not stop a row from importing: shown as warnings, never block a commit.
WARNING_CODES = frozenset({"unknown_column", "unlabeled_column", "roster_new_person_inactive"})

MAX_STEM = 5000
MAX_OPTION = 1000
MAX_EXPLANATION = 10000
MAX_AREA_SEGMENT = 100
MAX_AREA = 500
MAX_TAG = 50
MAX_TAGS = 20
MAX_POINTS = 100


@dataclass(frozen=True)
class Issue:
    """One problem in a file. `line` for text formats, `row` for sheets (as Excel numbers them)."""

    code: str
    message: str
    message_en: str = ""
    line: int | None = None
    row: int | None = None
    field: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def issue(
    code: str, *, line: int | None = None, row: int | None = None, field: str | None = None, **params: Any
) -> Issue:
    return Issue(
        code,
        message(code, **params),
        message(code, "en", **params),
        line=line,
        row=row,
        field=field,
        params=params,
    )


@dataclass
class Draft:
    """A question as written in the file, before checking. Text fields are raw strings.

    `type` is the raw type word ("单选题", "single", "判断" ...) or "" to infer from the answer.
    `answer` is the raw answer text ("AB", "A、B", "对", "逢问必录;逢问必录制度") or, for formats
    that already carry structure (JSON), the authoring-form value with `answer_is_text=False`.
    """

    type: str = ""
    stem: str = ""
    options: list[str] = dataclasses.field(default_factory=list)
    answer: Any = ""
    explanation: str = ""
    difficulty: str | int | None = None
    points: str | int | None = None
    area: str = ""
    tags: str | list[str] = ""
    line: int | None = None
    row: int | None = None
    answer_is_text: bool = True


@dataclass(frozen=True)
class ParsedQuestion:
    """A checked question in authoring form (answers as 0-based option indexes)."""

    type: str
    stem: str
    options: list[str]
    answer: Any
    explanation: str
    difficulty: int
    points: int
    area: str  # knowledge-area full name ("警示教育/三个规定"); "" = the import's default area
    tags: list[str]
    line: int | None = None
    row: int | None = None

    def content(self) -> dict[str, Any]:
        """Everything but the position in the file: what a round trip must keep."""
        data = asdict(self)
        data.pop("line")
        data.pop("row")
        return data


@dataclass(frozen=True)
class Rejected:
    """A question that failed its checks, for the preview table (its issues are in `issues`)."""

    stem: str
    type: str
    line: int | None = None
    row: int | None = None


@dataclass
class ParseResult:
    format: str
    questions: list[ParsedQuestion] = dataclasses.field(default_factory=list)
    rejected: list[Rejected] = dataclasses.field(default_factory=list)
    issues: list[Issue] = dataclasses.field(default_factory=list)
    encoding: str | None = None
    # The bank the file names, for formats that carry one (JSON, YAML): the default target.
    bank_name: str | None = None

    @property
    def total(self) -> int:
        return len(self.questions) + len(self.rejected)

    def add(self, draft: Draft) -> None:
        """Check a draft and file it as a question or as rejected with its issues."""
        checked = check_draft(draft)
        if isinstance(checked, ParsedQuestion):
            self.questions.append(checked)
        else:
            self.rejected.append(
                Rejected(
                    stem=str(draft.stem).strip()[:200], type=str(draft.type), line=draft.line, row=draft.row
                )
            )
            self.issues.extend(checked)


# Type words -----------------------------------------------------------------------------------

_TYPE_WORDS = {
    QuestionType.single: ("单选", "单选题", "单项选择", "单项选择题", "单择题", "single", "single_choice"),
    QuestionType.multiple: (
        "多选",
        "多选题",
        "多项选择",
        "多项选择题",
        "不定项",
        "不定项选择",
        "不定项选择题",
        "multiple",
        "multiple_choice",
    ),
    QuestionType.true_false: ("判断", "判断题", "是非题", "对错题", "true_false", "truefalse", "tf"),
    QuestionType.fill_blank: ("填空", "填空题", "fill_blank", "fill", "blank"),
}
_TYPE_BY_WORD = {word: kind for kind, words in _TYPE_WORDS.items() for word in words}
# Types people write that we do not score: reported as such, never dropped or converted.
UNSUPPORTED_TYPE_WORDS = (
    "简答",
    "简答题",
    "问答",
    "问答题",
    "论述",
    "论述题",
    "案例分析",
    "案例分析题",
    "名词解释",
    "计算题",
    "匹配",
    "匹配题",
    "连线题",
    "排序题",
    "essay",
    "matching",
    "numerical",
    "shortanswer",
    "short_answer",
    "description",
    "calculated",
    "ddwtos",
    "gapselect",
)


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC) and trimmed: how every token is compared."""
    return unicodedata.normalize("NFKC", text).strip()


def type_from_word(word: str) -> QuestionType | str | None:
    """Our type for a type word; "unsupported" for a type we know but do not score; None if unknown."""
    key = normalise(word).strip("【】[]()（）").casefold().replace(" ", "")
    if key in _TYPE_BY_WORD:
        return _TYPE_BY_WORD[key]
    if key in UNSUPPORTED_TYPE_WORDS:
        return "unsupported"
    return None


# Answers --------------------------------------------------------------------------------------

_TRUE_WORDS = ("正确", "对", "√", "✓", "✔", "是", "t", "true", "y", "yes", "right")
_FALSE_WORDS = ("错误", "错", "×", "✗", "✘", "x", "否", "f", "false", "n", "no", "wrong")
_LETTER_SEPARATORS = re.compile(r"[\s,;、|/]+")
_BLANK_RUN = re.compile(r"_{3,}")


def true_false_answer(raw: str) -> bool | None:
    key = normalise(raw).casefold()
    if key in _TRUE_WORDS:
        return True
    if key in _FALSE_WORDS:
        return False
    return None


def answer_letters(raw: str) -> list[str] | None:
    """ "AB", "A,B", "A、B", "A;B", "ＡＢ", "a b" → ["A", "B"]; None when it is not letters."""
    text = _LETTER_SEPARATORS.sub("", normalise(raw)).upper()
    if not text or not text.isascii() or not text.isalpha():
        return None
    return list(text)


def mark_blanks(stem: str) -> str:
    """Runs of three or more underscores (half- or full-width) become our blank marker."""
    return _BLANK_RUN.sub(BLANK, stem.replace("＿", "_"))


def split_blank_answers(raw: str) -> list[list[str]]:
    """ "a;b|c" → [["a", "b"], ["c"]]: `|` separates blanks, `;` the accepted texts of one blank."""
    text = raw.replace("｜", "|").replace("；", ";")
    return [[alt.strip() for alt in part.split(";")] for part in text.split("|")]


def split_area(raw: str) -> list[str]:
    text = normalise(raw).replace("\\", "/").replace(">", "/")
    return [part.strip() for part in text.split("/")]


def split_tags(raw: str | list[str]) -> list[str]:
    parts = raw if isinstance(raw, list) else re.split(r"[,，;；、|\s]+", raw)
    seen: list[str] = []
    for part in parts:
        tag = str(part).strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


# Checking a draft -----------------------------------------------------------------------------


def _whole_number(raw: str | int | None) -> int | str | None:
    """An int, None when empty, or "bad" when it is not a whole number."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "bad"
    if isinstance(raw, int):
        return raw
    text = normalise(str(raw))
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return "bad"
    if not number.is_integer():
        return "bad"
    return int(number)


_DIFFICULTY_WORDS = {
    "易": 1,
    "容易": 1,
    "简单": 1,
    "较易": 2,
    "中": 3,
    "中等": 3,
    "一般": 3,
    "适中": 3,
    "较难": 4,
    "难": 5,
    "困难": 5,
}


def _infer_type(draft: Draft, stem: str) -> QuestionType | None:
    """The type only when the answer leaves no doubt; otherwise None (the caller reports it)."""
    answer = str(draft.answer)
    if draft.options:
        letters = answer_letters(answer)
        if letters is None:
            return None
        return QuestionType.single if len(letters) == 1 else QuestionType.multiple
    if true_false_answer(answer) is not None:
        return QuestionType.true_false
    if BLANK in stem and answer.strip():
        return QuestionType.fill_blank
    return None


def _authoring_answer(kind: QuestionType, draft: Draft, options: list[str], at: dict[str, Any]) -> Any:
    """The raw answer text in authoring form, or a list of issues."""
    if not draft.answer_is_text:
        return draft.answer
    raw = str(draft.answer).strip()
    if not raw:
        return [issue("answer_required", field="answer", **at)]
    if kind in (QuestionType.single, QuestionType.multiple):
        letters = answer_letters(raw)
        if letters is None:
            return [issue("answer_not_letters", field="answer", answer=raw, **at)]
        available = LETTERS[: len(options)]
        missing = [ch for ch in letters if ch not in available]
        if missing:
            return [
                issue(
                    "answer_out_of_range",
                    field="answer",
                    letter="".join(missing),
                    last=available[-1] if available else "-",
                    **at,
                )
            ]
        indexes = [LETTERS.index(ch) for ch in letters]
        if len(set(indexes)) != len(indexes):
            return [issue("duplicate_answer", field="answer", **at)]
        if kind == QuestionType.single:
            if len(set(indexes)) > 1:
                return [issue("single_needs_one_answer", field="answer", answer=raw, **at)]
            return indexes[0]
        return indexes
    if kind == QuestionType.true_false:
        value = true_false_answer(raw)
        if value is None:
            return [issue("answer_not_true_false", field="answer", answer=raw, **at)]
        return value
    return split_blank_answers(raw)


def check_draft(draft: Draft) -> ParsedQuestion | list[Issue]:
    at: dict[str, Any] = {"line": draft.line, "row": draft.row}
    problems: list[Issue] = []
    stem = str(draft.stem).strip()
    if not stem:
        problems.append(issue("empty_stem", field="stem", **at))
    elif len(stem) > MAX_STEM:
        problems.append(issue("too_long", field="stem", limit=MAX_STEM, length=len(stem), **at))
    options = [str(o).strip() for o in draft.options]
    for number, text in enumerate(options):
        if len(text) > MAX_OPTION:
            problems.append(
                issue(
                    "too_long",
                    field=f"option_{LETTERS[min(number, 7)]}",
                    limit=MAX_OPTION,
                    length=len(text),
                    **at,
                )
            )
    explanation = str(draft.explanation or "").strip()
    if len(explanation) > MAX_EXPLANATION:
        problems.append(
            issue("too_long", field="explanation", limit=MAX_EXPLANATION, length=len(explanation), **at)
        )

    kind: QuestionType | None
    if str(draft.type).strip():
        found = type_from_word(str(draft.type))
        if found == "unsupported":
            return [issue("unsupported_type", field="type", type=str(draft.type).strip(), **at)]
        if found is None:
            return [issue("unknown_type", field="type", type=str(draft.type).strip(), **at)]
        assert isinstance(found, QuestionType)
        kind = found
    else:
        kind = _infer_type(draft, mark_blanks(stem))
        if kind is None:
            problems.append(issue("type_ambiguous", field="type", **at))
            return problems
    if kind == QuestionType.fill_blank:
        stem = mark_blanks(stem)

    difficulty_raw = draft.difficulty
    if isinstance(difficulty_raw, str) and normalise(difficulty_raw) in _DIFFICULTY_WORDS:
        difficulty_raw = _DIFFICULTY_WORDS[normalise(difficulty_raw)]
    difficulty = _whole_number(difficulty_raw)
    if difficulty is None:
        difficulty = DEFAULT_DIFFICULTY
    elif difficulty == "bad" or not 1 <= int(difficulty) <= 5:
        problems.append(issue("invalid_difficulty", field="difficulty", value=str(draft.difficulty), **at))
        difficulty = DEFAULT_DIFFICULTY
    points = _whole_number(draft.points)
    if points is None:
        points = DEFAULT_POINTS[kind]
    elif points == "bad" or not 1 <= int(points) <= MAX_POINTS:
        problems.append(
            issue("invalid_points", field="points", value=str(draft.points), limit=MAX_POINTS, **at)
        )
        points = DEFAULT_POINTS[kind]

    area = ""
    if str(draft.area or "").strip():
        parts = split_area(str(draft.area))
        if any(not part for part in parts):
            problems.append(issue("invalid_area", field="area", value=str(draft.area), **at))
        elif any(len(part) > MAX_AREA_SEGMENT for part in parts) or len("/".join(parts)) > MAX_AREA:
            problems.append(
                issue("too_long", field="area", limit=MAX_AREA_SEGMENT, length=len(str(draft.area)), **at)
            )
        else:
            area = "/".join(parts)
    tags = split_tags(draft.tags or "")
    if len(tags) > MAX_TAGS:
        problems.append(issue("too_many_tags", field="tags", limit=MAX_TAGS, **at))
    for tag in tags:
        if len(tag) > MAX_TAG:
            problems.append(issue("too_long", field="tags", limit=MAX_TAG, length=len(tag), **at))
            break

    if kind in (QuestionType.true_false, QuestionType.fill_blank) and options:
        problems.append(issue("options_not_allowed", field="options", type=kind.value, **at))
        return problems
    answer = _authoring_answer(kind, draft, options, at)
    if isinstance(answer, list) and answer and isinstance(answer[0], Issue):
        problems.extend(answer)
        return problems
    if problems:
        return problems
    try:
        checked = check_authoring(kind.value, stem, options, answer)
    except QuestionInvalid as exc:
        field_name = {
            "too_few_options": "options",
            "too_many_options": "options",
            "empty_option": "options",
            "duplicate_option": "options",
            "options_not_allowed": "options",
            "no_blanks": "stem",
        }.get(exc.code, "answer")
        # The params are for the zh-CN/English texts; exc.detail is English only.
        return [
            issue(
                exc.code,
                field=field_name,
                stem_blanks=stem.count(BLANK),
                answer_blanks=len(answer) if isinstance(answer, list) else 0,
                **at,
            )
        ]
    return ParsedQuestion(
        type=checked.type.value,
        stem=checked.stem,
        options=checked.options,
        answer=checked.answer,
        explanation=explanation,
        difficulty=int(difficulty),
        points=int(points),
        area=area,
        tags=tags,
        line=draft.line,
        row=draft.row,
    )


def answer_text(question: ParsedQuestion) -> str:
    """The answer as people write it in a sheet or text: letters, 正确/错误, or blanks with |;."""
    if question.type == QuestionType.single:
        return LETTERS[question.answer]
    if question.type == QuestionType.multiple:
        return "".join(LETTERS[i] for i in question.answer)
    if question.type == QuestionType.true_false:
        return "正确" if question.answer else "错误"
    return "|".join(";".join(blank) for blank in question.answer)
