"""Moodle Aiken (question/format/aiken): single-choice questions only, kept strict.

    防止干预司法“三个规定”的核心做法是？
    A. 逢问必录
    B) 选择性记录
    ANSWER: A

The question text (one or more lines), then options one per line (a capital letter from A on,
`.` or `)`, a space, the text), then `ANSWER:` and one capital letter. Blank lines are ignored.
Anything else (several answer letters, a missing ANSWER line, letters out of order, `Answer：`)
is an `aiken_syntax` issue for that question, which then ends at its ANSWER line or where the
next question's text starts; the rest of the file is still read.
"""

import re
from dataclasses import dataclass, field

from app.bank.models import QuestionType
from app.imports.common import Draft, ParseResult, Rejected, issue
from app.imports.files import FileRejected, decode_text
from app.imports.messages import register

register(
    {
        "aiken_syntax": "Aiken 格式错误（第 {at_line} 行“{text}”）：每题依次为题干（可多行）、以 A. 或 A) "
        "开头的选项（字母从 A 起连续，每行一个）、最后一行 ANSWER: 加一个大写字母。Aiken 只支持单选题，"
        "多选题请用 Excel 模板或 GIFT。",
    },
    {
        "aiken_syntax": "Aiken syntax error (line {at_line}, “{text}”): a question is its text (one or more "
        "lines), options starting A. or A) (letters from A in order, one per line), then ANSWER: and one "
        "capital letter. Aiken has single choice only; use the Excel template or GIFT for multiple choice.",
    },
)

_OPTION = re.compile(r"^([A-Z])[.)](?:[ \t]+(.*))?$")
_ANSWER = re.compile(r"^ANSWER:[ \t]*(.*)$")
# Lines meant as the answer line but not written as Aiken wants it (lower case, full-width colon).
_ANSWER_LIKE = re.compile(r"^answer\s*[:：]", re.IGNORECASE)


@dataclass
class _Question:
    line: int
    stem: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    last: tuple[int, str] = (0, "")  # the question's last line so far: (number, text)
    # The first problem: (line, problem, text of that line).
    problem: tuple[int, str, str] | None = None

    def refuse(self, line: int, text: str, problem: str) -> None:
        if self.problem is None:
            self.problem = (line, problem, text)


def _close(question: _Question, answer: str, result: ParseResult) -> None:
    """File the question: as a draft, or rejected with its first problem."""
    if question.problem is None:
        result.add(
            Draft(
                type=QuestionType.single.value,
                stem="\n".join(question.stem),
                options=question.options,
                answer=answer,
                line=question.line,
            )
        )
        return
    at_line, problem, text = question.problem
    result.issues.append(
        issue("aiken_syntax", line=question.line, at_line=at_line, problem=problem, text=text[:100])
    )
    result.rejected.append(
        Rejected(stem="\n".join(question.stem)[:200], type=QuestionType.single.value, line=question.line)
    )


def parse_aiken(data: bytes) -> ParseResult:
    text, encoding = decode_text(data)
    result = ParseResult(format="aiken", encoding=encoding)
    current: _Question | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        answer = _ANSWER.match(line)
        option = _OPTION.match(line)
        if answer or _ANSWER_LIKE.match(line):
            question = current or _Question(number)
            value = answer.group(1).strip() if answer else ""
            if answer is None:
                question.refuse(number, line, "answer_line")
            elif not question.stem:
                question.refuse(number, line, "no_question_text")
            elif not question.options:
                question.refuse(number, line, "no_options")
            elif not re.fullmatch("[A-Z]", value):
                question.refuse(number, line, "answer_not_one_letter")
            _close(question, value, result)
            current = None
        elif option:
            if current is None:
                current = _Question(number)
                current.refuse(number, line, "no_question_text")
            expected = chr(ord("A") + len(current.options))
            if option.group(1) != expected:
                current.refuse(number, line, "option_letter_order")
            current.options.append(option.group(2) or "")
        elif current is not None and current.options:
            # Text after the options: the question had no ANSWER line, and this one starts.
            current.refuse(number, line, "missing_answer")
            _close(current, "", result)
            current = _Question(number, stem=[line])
        elif current is None:
            current = _Question(number, stem=[line])
        else:
            current.stem.append(line)
        if current is not None:
            current.last = (number, line)
    if current is not None:
        current.refuse(*current.last, "missing_answer")
        _close(current, "", result)
    if result.total == 0:
        raise FileRejected("no_questions")
    return result
