"""Numbered plain text, as admins paste it from notices or save it as .txt (Word documents come
here too, one paragraph after another, from `docx.py`):

    一、单选题（每题1分）
    1.【单选题】防止干预司法“三个规定”的核心做法是（ ）。
    A. 逢问必录
    B. 选择性记录
    答案：A
    解析：……
    难度：2  分值：2  知识点：警示教育/三个规定  标签：a,b

Every line is first classified on its own (blank, field, question start, section heading, option,
plain text), then the lines are walked in order with the current question as state. Each line
ends up in a question, in a heading, or in an issue with its line number: nothing is dropped
silently. Contents are kept as written; only the markers (numbers, letters, labels) are lenient
about full-width forms and spacing.
"""

import dataclasses
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.bank.models import QuestionType
from app.imports.common import (
    LETTERS,
    Draft,
    Issue,
    ParsedQuestion,
    ParseResult,
    Rejected,
    check_draft,
    issue,
    normalise,
    true_false_answer,
    type_from_word,
)
from app.imports.files import FileRejected, decode_text
from app.imports.messages import register

register(
    {
        "text_unexpected_line": "这一行不属于任何题目：“{text}”。题目须以题号（如 1. 或 1、）或题型（如 "
        "【单选题】）开头，选项、答案、解析写在题干之后：请补上题干、移到正确位置，或删除该行。",
        "duplicate_option_letter": "选项 {letter} 出现了两次：请检查选项字母，每个字母只能用一次。",
        "option_letter_out_of_order": "选项字母不连续：此处应为 {expected}，却是 {letter}。请按 A、B、C…"
        " 的顺序填写选项（同时核对答案字母）。",
        "text_duplicate_field": "本题的“{label}”写了两次：请只保留一处（也可能是下一题缺少题号）。",
    },
    {
        "text_unexpected_line": "This line belongs to no question: “{text}”. A question starts with "
        "its number (1. or 1、) or its type (【单选题】), with options, answer and explanation after the "
        "stem: add the stem, move the line, or delete it.",
        "duplicate_option_letter": "Option {letter} appears twice: each letter may be used only once.",
        "option_letter_out_of_order": "Option letters are not in order: expected {expected} here but found "
        "{letter}. Write options as A, B, C… (and check the answer letters).",
        "text_duplicate_field": "“{label}” is written twice for this question: keep one (or the next "
        "question lacks its number).",
    },
)

# Markers ---------------------------------------------------------------------------------------

# Besides whitespace (full-width and no-break spaces included), people leave zero-width marks.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"

_QUESTION = re.compile(
    r"^(?:第\s*(?P<word>\d{1,5})\s*题\s*[.．、:：]?"
    r"|[（(]\s*(?P<paren>\d{1,5})\s*[)）]"
    r"|(?P<plain>\d{1,5})\s*(?:[.．](?!\d)|[、)）]))\s*"  # "1.5倍" is no question number
)
_CN_DIGITS = "一二三四五六七八九十百零〇"
_HEADING_PREFIX = re.compile(
    rf"^(?:[{_CN_DIGITS}]+\s*[、.．]|第\s*[{_CN_DIGITS}\d]+\s*(?:部分|大题|节)\s*[、.．:：]?)\s*"
)
_HEADING_FIRST = frozenset(_CN_DIGITS + "第")
_SECTION_POINTS = re.compile(r"每\s*小?\s*题\s*(\d{1,3})\s*分")
_PARENTHESES = re.compile(r"[（(][^)）]*[)）]")
# Section words that name no single type: the type then comes from each answer.
_GENERIC_SECTIONS = ("选择", "选择题", "客观题")

_LETTER = "A-Za-zＡ-Ｚａ-ｚ"
_OPTION = re.compile(
    rf"^(?:[（(]\s*(?P<paren>[{_LETTER}])\s*[)）]|(?P<plain>[{_LETTER}])\s*[.．、:：)）])\s*"
)

_TAG = re.compile(
    r"^(?:【\s*([^】]{1,16}?)\s*】|\[\s*([^\]]{1,16}?)\s*\]|[（(]\s*([^)）]{1,16}?)\s*[)）])\s*"
)
_POINTS_TAG = re.compile(r"^[（(【\[]\s*(\d{1,3})\s*分\s*[)）】\]]\s*")

_LABELS = {
    "答案": "answer",
    "正确答案": "answer",
    "参考答案": "answer",
    "标准答案": "answer",
    "解析": "explanation",
    "答案解析": "explanation",
    "试题解析": "explanation",
    "题目解析": "explanation",
    "难度": "difficulty",
    "难易度": "difficulty",
    "难易程度": "difficulty",
    "分值": "points",
    "分数": "points",
    "知识点": "area",
    "考点": "area",
    "所属知识点": "area",
    "知识点分类": "area",
    "类别": "area",
    "分类": "area",
    "标签": "tags",
    "关键词": "tags",
    "关键字": "tags",
    "题型": "type",
}
_LABEL_WORDS = "|".join(sorted(_LABELS, key=len, reverse=True))
_FIELD = re.compile(
    rf"^(?:【\s*(?P<boxed>{_LABEL_WORDS})\s*】\s*[:：]?|\[\s*(?P<square>{_LABEL_WORDS})\s*\]\s*[:：]?"
    rf"|(?P<plain>{_LABEL_WORDS})\s*[:：])\s*"
)
# Another field further along the same line ("答案：A　难度：2"); explanations run to the line's end.
_NEXT_FIELD = re.compile(
    rf"\s+(?=【\s*(?:{_LABEL_WORDS})\s*】|\[\s*(?:{_LABEL_WORDS})\s*\]|(?:{_LABEL_WORDS})\s*[:：])"
)

# The answer written into the stem's parentheses: "……的核心做法是（A）。"
_ANSWER_IN_STEM_LETTERS = re.compile(r"[（(]\s*([A-HＡ-Ｈ](?:\s*[,，、;；]?\s*[A-HＡ-Ｈ])*)\s*[)）]")
_ANSWER_IN_STEM_TRUE_FALSE = re.compile(r"[（(]\s*(正确|错误|对|错|√|×|✓|✗|✔|✘)\s*[)）]")
_EMPTY_PARENTHESES = "（ ）"


# First characters of each kind of marker: most lines are told apart without running a regex.
_FIELD_FIRST = frozenset("【[" + "".join(label[0] for label in _LABELS))
_QUESTION_FIRST = frozenset("0123456789０１２３４５６７８９（(第")
_OPTION_FIRST = frozenset(
    "（(ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ"
)
_OPTION_FIRST |= frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

# The same few type words come back on every question.
_type_of = functools.lru_cache(maxsize=1024)(type_from_word)


def _next_option_pattern(letter: str) -> re.Pattern[str]:
    """The marker of option `letter` later on the same line, after whitespace ("A.xx  B.yy")."""
    wide = (
        chr(ord(letter) - ord("A") + ord("Ａ"))
        if letter.isupper()
        else chr(ord(letter) - ord("a") + ord("ａ"))
    )
    return re.compile(rf"\s(?:[（(]\s*[{letter}{wide}]\s*[)）]|[{letter}{wide}]\s*[.．、:：)）])")


_NEXT_OPTION = {
    letter: _next_option_pattern(letter) for letter in "BCDEFGHIJKLMNOPQRSTUVWXYZbcdefghijklmnopqrstuvwxyz"
}


# Classifying one line --------------------------------------------------------------------------


@dataclass(slots=True)
class _Field:
    name: str  # answer, explanation, difficulty, points, area, tags, type
    label: str  # as written, for messages
    value: str


@dataclass(slots=True)
class _Heading:
    type_word: str  # "" = take each question's type from its answer
    points: str | None
    known: bool  # names a type (or a generic 选择题); unknown ones may be list items in an explanation


@dataclass(slots=True)
class _Start:
    """The first line of a question: its number style, type tag, points tag and stem text."""

    style: str  # "plain" (1.), "paren" ((1)), "word" (第1题), "tag" (no number, 【单选题】)
    type_word: str | None
    points: str | None
    stem: str
    number: int | None = None


@dataclass(slots=True)
class _Line:
    number: int
    text: str
    kind: str  # blank, field, heading, start, option, plain
    fields: tuple[_Field, ...] = ()
    heading: _Heading | None = None
    start: _Start | None = None
    options: tuple[tuple[str, str], ...] = ()


def _clean(raw: str) -> str:
    text = raw.strip()
    while text and (text[0] in _ZERO_WIDTH or text[-1] in _ZERO_WIDTH):
        text = text.strip(_ZERO_WIDTH).strip()
    return text


def _is_type_word(word: str, boxed: bool) -> bool:
    """A type tag: a type we know (or know we do not support); in 【】 also any "…题" word, so
    an unknown type is reported instead of becoming part of the stem."""
    if _type_of(word) is not None or normalise(word) in _GENERIC_SECTIONS:
        return True
    return boxed and normalise(word).endswith(("题", "选"))


def _tags(rest: str) -> tuple[str | None, str | None, str]:
    """Type and points tags at the start of a question line: "【单选题】（2分）题干" -> (单选题, 2, 题干)."""
    type_word: str | None = None
    points: str | None = None
    for _ in range(2):
        found = _POINTS_TAG.match(rest)
        if found and points is None:
            points = found.group(1)
            rest = rest[found.end() :]
            continue
        found = _TAG.match(rest)
        if found and type_word is None:
            word = found.group(1) or found.group(2) or found.group(3)
            if _is_type_word(word, boxed=found.group(3) is None):
                type_word = "" if normalise(word) in _GENERIC_SECTIONS else word
                rest = rest[found.end() :]
                continue
        break
    return type_word, points, rest


def _fields(text: str) -> tuple[_Field, ...] | None:
    found = _FIELD.match(text)
    if found is None:
        return None
    label = found.group("boxed") or found.group("square") or found.group("plain")
    name = _LABELS[label]
    value = text[found.end() :]
    if name != "explanation":
        more = _NEXT_FIELD.search(value)
        if more is not None:
            rest = _fields(value[more.end() :]) or ()
            return (_Field(name, label, value[: more.start()].strip()), *rest)
    return (_Field(name, label, value.strip()),)


def _heading(text: str) -> _Heading | None:
    prefix = _HEADING_PREFIX.match(text) if text[0] in _HEADING_FIRST else None
    if prefix is None and len(text) > 30:  # a bare type word with a note, "单项选择题（每题1分）"
        return None
    rest = text[prefix.end() :] if prefix else text
    core = _PARENTHESES.sub("", rest).strip(" 　【】[]:：")
    points_found = _SECTION_POINTS.search(text)
    points = points_found.group(1) if points_found else None
    if core and _type_of(core) is not None:
        return _Heading(core, points, known=True)
    if core in _GENERIC_SECTIONS:
        return _Heading("", points, known=True)
    if prefix is not None:
        return _Heading("", points, known=False)
    return None


def _options(text: str) -> tuple[tuple[str, str], ...] | None:
    """ "A.xx  B.yy" -> (("A", "xx"), ("B", "yy")); letters as written but half-width."""
    found = _OPTION.match(text)
    if found is None:
        return None
    letter = found.group("paren") or found.group("plain")
    letter = letter if letter.isascii() else normalise(letter)
    rest = text[found.end() :]
    items: list[tuple[str, str]] = []
    while True:
        following = _NEXT_OPTION.get(chr(ord(letter) + 1))
        later = following.search(rest) if following else None
        if later is None:
            items.append((letter, rest.strip()))
            return tuple(items)
        items.append((letter, rest[: later.start()].strip()))
        rest = rest[later.end() :]
        letter = chr(ord(letter) + 1)


def _classify(number: int, raw: str) -> _Line:
    text = _clean(raw)
    if not text:
        return _Line(number, text, "blank")
    first = text[0]
    fields = _fields(text) if first in _FIELD_FIRST else None
    if fields is not None:
        return _Line(number, text, "field", fields=fields)
    question = _QUESTION.match(text) if first in _QUESTION_FIRST else None
    if question is not None:
        style = "word" if question.group("word") else "paren" if question.group("paren") else "plain"
        written = int(question.group(style))
        type_word, points, stem = _tags(text[question.end() :])
        return _Line(number, text, "start", start=_Start(style, type_word, points, stem, written))
    options = _options(text) if first in _OPTION_FIRST else None
    if options is not None:
        return _Line(number, text, "option", options=options)
    heading = _heading(text)
    if heading is not None:
        return _Line(number, text, "heading", heading=heading)
    if text.startswith(("【", "[")):
        type_word, points, stem = _tags(text)
        if type_word is not None and stem:
            return _Line(number, text, "start", start=_Start("tag", type_word, points, stem))
    return _Line(number, text, "plain")


# Walking the lines -----------------------------------------------------------------------------


@dataclass
class _Question:
    line: int
    style: str
    number: int | None
    type_word: str | None
    stem_lines: list[str]
    values: dict[str, str] = dataclasses.field(default_factory=dict)
    explanation: list[str] = dataclasses.field(default_factory=list)
    letters: list[str] = dataclasses.field(default_factory=list)
    options: list[str] = dataclasses.field(default_factory=list)
    # where each field was written, so an issue points at the most precise line
    lines: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[Issue] = dataclasses.field(default_factory=list)
    state: str = "stem"  # stem, options, field, explanation
    pending: str | None = None  # a field written with its value on the next line ("答案：" / "A")


def _snippet(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


class _TextParser:
    def __init__(self, fmt: str) -> None:
        self.result = ParseResult(format=fmt)
        self.question: _Question | None = None
        self.section_type = ""
        self.section_points: str | None = None
        # True before the first question and after a section heading: titles and notes are allowed.
        self.in_heading = True

    # the walk

    def run(self, lines: list[_Line]) -> ParseResult:
        # The kind of the next non-blank line, for lines that start a question only by what follows.
        following: list[_Line | None] = [None] * len(lines)
        upcoming: _Line | None = None
        for index in range(len(lines) - 1, -1, -1):
            following[index] = upcoming
            if lines[index].kind != "blank":
                upcoming = lines[index]
        for line, after in zip(lines, following, strict=True):
            self.take(line, after)
        self.finish()
        return self.result

    def take(self, line: _Line, after: _Line | None) -> None:
        question = self.question
        if line.kind == "blank":
            return
        if line.kind == "start":
            assert line.start is not None
            if question is None:
                self.begin(line.number, line.start)
            elif question.state == "stem" and self._continues_stem(question, line.start):
                question.stem_lines.append(line.text)
            elif question.state == "explanation" and self._lists_points(question, line.start):
                question.explanation.append(line.text)
            else:
                self.begin(line.number, line.start)
        elif line.kind == "heading":
            assert line.heading is not None
            if question is not None and not line.heading.known and question.state in ("stem", "explanation"):
                self.plain(line, after)  # "一、…" listed inside a stem or an explanation
                return
            self.finish()
            self.section_type = line.heading.type_word
            self.section_points = line.heading.points
            self.in_heading = True
        elif line.kind == "field":
            if question is None:
                self.unexpected(line)
                return
            for found in line.fields:
                self.field(question, line.number, found)
        elif line.kind == "option":
            if question is None or question.state not in ("stem", "options"):
                # Options after the answer or explanation have lost their stem: report them, and
                # report what follows too instead of filing it under the previous question.
                self.finish()
                self.unexpected(line)
                return
            for letter, text in line.options:
                self.option(question, line.number, letter, text)
        else:
            self.plain(line, after)

    def plain(self, line: _Line, after: _Line | None) -> None:
        question = self.question
        if question is not None and question.pending is not None:
            _set_field(question, question.pending, line.text, line.number)
            question.pending = None
            return
        if self._starts_by_what_follows(question, after):
            type_word, points, stem = _tags(line.text)
            self.begin(line.number, _Start("tag", type_word, points, stem))
            return
        if question is None:
            # Document titles and notes under a section heading ("本大题共10小题") are headings.
            if not self.in_heading:
                self.unexpected(line)
                return
            section_points = _SECTION_POINTS.search(line.text)
            if section_points is not None:
                self.section_points = section_points.group(1)
            return
        if question.state == "stem":
            question.stem_lines.append(line.text)
        elif question.state == "options":
            question.options[-1] += "\n" + line.text  # an option wrapped onto the next line
        elif question.state == "explanation":
            question.explanation.append(line.text)
        else:
            self.unexpected(line)

    def _starts_by_what_follows(self, question: _Question | None, after: _Line | None) -> bool:
        """A line without a number starts a question when options from A follow it (Word's automatic
        numbering leaves no "1." in the text), or an answer follows a question already answered."""
        if after is None:
            return False
        if question is not None and question.state == "stem":
            return False
        if after.kind == "option":
            # A new list of options starts at A; "B." after the line means it wrapped option A.
            return after.options[0][0].upper() == "A"
        answered = question is None or "answer" in question.values
        return after.kind == "field" and after.fields[0].name == "answer" and answered

    @staticmethod
    def _continues_stem(question: _Question, start: _Start) -> bool:
        """ "(1) … (2) …" listed in a stem that has no options yet, unless the questions themselves
        are numbered (1), (2)."""
        return start.style == "paren" and question.style != "paren"

    @staticmethod
    def _lists_points(question: _Question, start: _Start) -> bool:
        """ "1、… 2、…" listed in an explanation: numbered, untagged, and not the next question's number."""
        return (
            start.type_word is None
            and start.number is not None
            and question.number is not None
            and start.number != question.number + 1
        )

    # the current question

    def begin(self, number: int, start: _Start) -> None:
        self.finish()
        self.in_heading = False
        self.question = _Question(
            line=number,
            style=start.style,
            number=start.number,
            type_word=start.type_word,
            stem_lines=[start.stem] if start.stem else [],
        )
        if start.points is not None:
            self.question.values["points"] = start.points

    def field(self, question: _Question, number: int, found: _Field) -> None:
        question.pending = None
        if found.name in question.values or (found.name == "type" and question.type_word is not None):
            question.problems.append(
                issue("text_duplicate_field", line=number, field=found.name, label=found.label)
            )
            question.state = "field"
            return
        _set_field(question, found.name, found.value, number)
        if found.name == "explanation":
            question.explanation = [found.value] if found.value else []
            question.state = "explanation"
            return
        question.state = "field"
        if not found.value:
            question.pending = found.name

    def option(self, question: _Question, number: int, letter: str, text: str) -> None:
        question.state = "options"
        upper = letter.upper()
        if upper in question.letters:
            question.problems.append(
                issue("duplicate_option_letter", line=number, field="options", letter=upper)
            )
            return
        # Past H the letters are not checked: the question then has too many options (reported).
        expected = LETTERS[len(question.letters)] if len(question.letters) < len(LETTERS) else upper
        if upper != expected:
            question.problems.append(
                issue(
                    "option_letter_out_of_order",
                    line=number,
                    field="options",
                    letter=upper,
                    expected=expected,
                )
            )
        question.letters.append(upper)
        question.options.append(text)
        question.lines.setdefault("options", number)
        question.lines[f"option_{upper}"] = number

    def unexpected(self, line: _Line) -> None:
        self.result.issues.append(issue("text_unexpected_line", line=line.number, text=_snippet(line.text)))

    def finish(self) -> None:
        """File the current question (checked) and forget it."""
        question = self.question
        if question is None:
            return
        self.question = None
        stem = "\n".join(question.stem_lines).strip()
        answer = question.values.get("answer")
        type_word = question.type_word if question.type_word is not None else self.section_type
        options = list(question.options)
        if answer is None:
            stem, answer = _answer_in_stem(stem, bool(options))
        if options and _type_of(type_word or "-") == QuestionType.true_false:
            answer, options = _true_false_options(answer, options)
        points = question.values.get("points", self.section_points)
        draft = Draft(
            type=type_word,
            stem=stem,
            options=options,
            answer=answer or "",
            explanation="\n".join(question.explanation),
            difficulty=question.values.get("difficulty"),
            points=points,
            area=question.values.get("area", ""),
            tags=question.values.get("tags", ""),
            line=question.line,
        )
        self.file(draft, question)

    def file(self, draft: Draft, question: _Question) -> None:
        if not question.problems:
            before = len(self.result.issues)
            self.result.add(draft)
            self.result.issues[before:] = [
                _placed(found, question.lines) for found in self.result.issues[before:]
            ]
            return
        # Problems only the text shows (option letters, repeated fields) reject the question
        # even when the rest checks out; the rest is reported too.
        checked = check_draft(draft)
        found_issues = [] if isinstance(checked, ParsedQuestion) else checked
        self.result.rejected.append(
            Rejected(stem=draft.stem.strip()[:200], type=str(draft.type), line=draft.line)
        )
        self.result.issues.extend(question.problems)
        self.result.issues.extend(_placed(found, question.lines) for found in found_issues)


def _set_field(question: _Question, name: str, value: str, number: int) -> None:
    question.values[name] = value
    question.lines[name] = number
    if name == "type":
        question.type_word = value


def _placed(found: Issue, lines: dict[str, int]) -> Issue:
    """The issue on the line of the field it is about, when that field had a line of its own."""
    if found.field is not None and found.field in lines and found.line is not None:
        return dataclasses.replace(found, line=lines[found.field])
    return found


def _answer_in_stem(stem: str, has_options: bool) -> tuple[str, str | None]:
    """ "……是（A）。" -> ("……是（ ）。", "A"), only when exactly one such answer is in the stem."""
    pattern = _ANSWER_IN_STEM_LETTERS if has_options else _ANSWER_IN_STEM_TRUE_FALSE
    found = list(pattern.finditer(stem))
    if len(found) != 1:
        return stem, None
    match = found[0]
    return stem[: match.start()] + _EMPTY_PARENTHESES + stem[match.end() :], match.group(1)


def _true_false_options(answer: str | None, options: list[str]) -> tuple[str | None, list[str]]:
    """A 判断题 written as "A. 正确 B. 错误" + "答案：A": the options are its two answers, so the
    letter is turned into the word it names. Anything else is left for the checks to report."""
    meanings = [true_false_answer(option) for option in options]
    if len(options) != 2 or set(meanings) != {True, False} or answer is None:
        return answer, options
    if true_false_answer(answer) is not None:
        return answer, []
    letter = normalise(answer).upper()
    if letter in ("A", "B"):
        return options[LETTERS.index(letter)], []
    return answer, options


# Entry points ----------------------------------------------------------------------------------


def parse_text_lines(lines: Iterable[tuple[int, str]], fmt: str) -> ParseResult:
    """Questions from lines of text, each with its 1-based line (or paragraph) number."""
    classified = [_classify(number, raw) for number, raw in lines]
    result = _TextParser(fmt).run(classified)
    if result.total == 0 and not result.issues:
        raise FileRejected("no_questions")
    # A question's issues are filed when it ends, after stray lines inside it: show them in line order.
    result.issues.sort(key=lambda found: found.line or 0)
    return result


def parse_text(data: bytes) -> ParseResult:
    text, encoding = decode_text(data)
    result = parse_text_lines(enumerate(text.split("\n"), start=1), "text")
    result.encoding = encoding
    return result
