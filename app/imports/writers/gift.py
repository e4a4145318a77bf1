"""Questions as Moodle GIFT, written so that `app.imports.parsers.gift` reads them back unchanged.

Moodle imports the single, multiple and true/false questions and one-blank fill-in questions as
it always does (multiple choice as `~%50%` weights with `~%-100%` wrong options, so that ticking
everything scores nothing). Difficulty, points and tags ride in a `// yingzhi: {...}` comment,
which Moodle ignores. A fill-in question with several blanks has one answer block per blank: our
parser reads that, Moodle has no GIFT form for it.
"""

import json

from app.bank.models import QuestionType
from app.bank.validation import BLANK
from app.imports.common import ParsedQuestion
from app.imports.parsers.gift import CATEGORY_PREFIX, META_PREFIX, TEXT_FORMATS

HEADER = (
    "// 应知题库导出（GIFT 格式，可导入 Moodle）。Yingzhi question bank export (GIFT, for Moodle).",
    "// “// yingzhi:” 注释行记录难度、分值和标签，Moodle 会忽略。",
)
_SPECIAL = {"\\": "\\\\", "~": "\\~", "=": "\\=", "#": "\\#", "{": "\\{", "}": "\\}", ":": "\\:", "\n": "\\n"}
TITLE_LENGTH = 40
_MARKERS = tuple(f"[{name}]" for name in TEXT_FORMATS)


def escape_chars(text: str) -> str:
    """Text with GIFT's special characters escaped."""
    return "".join(_SPECIAL.get(char, char) for char in text)


def escape(text: str) -> str:
    """A whole field escaped; one that would read as a format marker (or, at the start of a line,
    as a comment) gets an explicit `[moodle]` marker first."""
    if text.startswith((*_MARKERS, "//")):
        return "[moodle]" + escape_chars(text)
    return escape_chars(text)


def _weighted(text: str, weight: str) -> str:
    """An answer after `~` or `=`; an explicit weight keeps a text that starts with `%` literal."""
    return f"%{weight}%{escape(text)}" if text.startswith("%") else escape(text)


def _percent(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _feedback(question: ParsedQuestion) -> str:
    return f"####{escape(question.explanation)}" if question.explanation else ""


def _choice(question: ParsedQuestion) -> str:
    lines: list[str] = []
    if question.type == QuestionType.single:
        for index, option in enumerate(question.options):
            if index == question.answer:
                lines.append("=" + escape(option))
            else:
                lines.append("~" + _weighted(option, "0"))
    else:
        share = _percent(100 / len(question.answer))
        for index, option in enumerate(question.options):
            weight = share if index in question.answer else "-100"
            lines.append(f"~%{weight}%{escape(option)}")
    if question.explanation:
        lines.append(_feedback(question))
    body = "\n".join("\t" + line for line in lines)
    return f"{escape(question.stem)}{{\n{body}\n}}"


def _blank(accepted: list[str], feedback: str) -> str:
    # Moodle reads "->" in a short answer as matching: our parser reads "-\>" as "->".
    texts = " ".join("=" + _weighted(text, "100").replace("->", "-\\>") for text in accepted)
    return f"{{{texts}{feedback}}}"


def _fill(question: ParsedQuestion) -> str:
    pieces = question.stem.split(BLANK)
    parts = [escape(pieces[0])]
    for number, accepted in enumerate(question.answer):
        last = number == len(question.answer) - 1
        parts.append(_blank(accepted, _feedback(question) if last else ""))
        # The text after a blank starts no field: no marker protection.
        parts.append(escape_chars(pieces[number + 1]))
    return "".join(parts)


def _title(question: ParsedQuestion) -> str:
    """Moodle names every question; ours is the start of the stem (read back as nothing). It also
    marks the file as GIFT for format detection when it is saved as .txt."""
    return f"::{escape_chars(' '.join(question.stem.split())[:TITLE_LENGTH])}::"


def _question(question: ParsedQuestion) -> str:
    if question.type in (QuestionType.single, QuestionType.multiple):
        body = _choice(question)
    elif question.type == QuestionType.true_false:
        body = f"{escape(question.stem)}{{{'TRUE' if question.answer else 'FALSE'}{_feedback(question)}}}"
    else:
        body = _fill(question)
    return _title(question) + body


def _category(area: str) -> str:
    path = "$course$/top" + (f"/{area}" if area else "")
    return f"{CATEGORY_PREFIX} " + path.replace("\\", "\\\\").replace("\n", "\\n")


def _meta(question: ParsedQuestion) -> str:
    data = {"difficulty": question.difficulty, "points": question.points, "tags": question.tags}
    return f"{META_PREFIX} {json.dumps(data, ensure_ascii=False)}"


def write_gift(questions: list[ParsedQuestion]) -> str:
    """One question per paragraph, a `$CATEGORY:` line whenever the knowledge area changes."""
    lines = [*HEADER, ""]
    area = ""
    for question in questions:
        if question.area != area:
            lines += [_category(question.area), ""]
            area = question.area
        lines += [_meta(question), _question(question), ""]
    return "\n".join(lines)
