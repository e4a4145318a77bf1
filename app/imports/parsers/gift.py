"""Moodle GIFT (question/format/gift), the part of it that maps onto our four types:

    // 注释行（整行以 // 开头）
    $CATEGORY: $course$/top/警示教育/三个规定
    // yingzhi: {"difficulty": 2, "points": 1, "tags": ["三个规定"]}
    ::标题::防止干预司法“三个规定”的核心做法是？{
        =逢问必录
        ~选择性记录#答案反馈（忽略）
        ####解析
    }

    人民警察的宗旨是{=全心全意为人民服务 =全心全意为人民服务。}。

Questions are separated by blank lines and numbered by the line where their text starts. `{=a ~b}`
is single choice; `{~%50%a ~%50%b ~%-100%c}` multiple choice (options with positive weight are
correct); `{T}`/`{FALSE}` true/false; `{=a =b}` a fill-in blank with accepted texts `a`, `b`, at the
place of the block (or after the text when the block ends the question). Text formats
(`[html]`, `[moodle]`, `[plain]`, `[markdown]`) are stripped, HTML reduced to its text.

Beyond Moodle, and what `app.imports.writers.gift` writes so that GIFT round-trips losslessly:
several short-answer blocks in one question are a fill-in question with several blanks; a
`// yingzhi: {...}` comment carries difficulty, points and tags (Moodle ignores comments); `\\>`
escapes `>` so that an accepted text may contain `->`. Moodle's `// [tag:...]` comments are read
as tags. Essay, matching, numerical and description questions are errors for that question.
"""

import html
import json
import re
from dataclasses import dataclass
from typing import Any

from app.bank.models import QuestionType
from app.bank.validation import BLANK
from app.imports.common import Draft, ParseResult, Rejected, issue
from app.imports.files import FileRejected, decode_text
from app.imports.messages import register

register(
    {
        "gift_syntax": "GIFT 格式错误：花括号不配对（答案块缺少 {{ 或 }}，或花括号嵌套）。每题的答案写在一对 "
        "{{…}} 中，题目之间用空行分隔；题干、选项中的花括号请写作 \\{{ 和 \\}}。",
        "gift_title_unclosed": "题目标题缺少结尾的 ::（标题写作 ::标题::）：请补全，"
        "或把题干开头的冒号写作 \\:。",
        "gift_several_blocks": "一道题有多个答案块 {{…}}：只有填空题可以有多个空（每块都写作 {{=答案}}）。"
        "其他题型请只保留一个答案块，题干中的花括号写作 \\{{ \\}}，或用空行把两道题分开。",
        "gift_unsupported_type": "暂不支持 GIFT {name}（{kind}）：只支持单选、多选、判断和填空题。"
        "请改写为这四种题型之一，或从文件中删除该题。",
        "gift_weights": "GIFT 答案权重（%…%）与本系统的题型不符：单选题只能有一个 = 正确选项，其余为 ~ "
        "错误选项，不设部分分；多选题用 ~%权重% 标出正确选项，正权重之和须为 100%（错误选项用 ~ 或负权重）；"
        "填空题的各个答案不能设部分分。",
        "gift_meta_invalid": "“// yingzhi:” 注释行无法识别：应为本系统导出时写入的 JSON，如 // yingzhi: "
        '{{"difficulty": 2, "points": 1, "tags": ["标签"]}}（每题最多一行）。请改正或删除该行。',
    },
    {
        "gift_syntax": "GIFT syntax error: braces do not match (an answer block lacks {{ or }}, or blocks "
        "are nested). Put each question's answers in one {{…}}, separate questions with a blank line, and "
        "write literal braces as \\{{ and \\}}.",
        "gift_title_unclosed": "The question title lacks its closing :: (write ::title::), or escape a "
        "leading colon as \\:.",
        "gift_several_blocks": "The question has several answer blocks {{…}}: only fill-in-the-blank "
        "questions may have several blanks (each written {{=answer}}). Keep one block, escape literal "
        "braces as \\{{ \\}}, or separate two questions with a blank line.",
        "gift_unsupported_type": "GIFT {kind} questions are not supported (only single, multiple, "
        "true/false and fill-in-the-blank): rewrite it as one of those or remove it from the file.",
        "gift_weights": "The GIFT answer weights (%…%) do not fit our types: single choice has exactly one "
        "= answer and ~ wrong answers without partial credit; multiple choice marks correct options with "
        "~%weight% and their positive weights add up to 100% (wrong ones ~ or negative); accepted texts "
        "of a blank have no partial credit.",
        "gift_meta_invalid": "The “// yingzhi:” comment is not readable: it is the JSON we write on "
        'export, e.g. // yingzhi: {{"difficulty": 2, "points": 1, "tags": ["tag"]}} (at most one per '
        "question). Fix or delete the line.",
    },
)

META_PREFIX = "// yingzhi:"
CATEGORY_PREFIX = "$CATEGORY:"
# Every character GIFT lets you escape with a backslash, and what it stands for (`\n` is a newline,
# `\>` is ours).
ESCAPES = {"\\": "\\", "~": "~", "=": "=", "#": "#", "{": "{", "}": "}", ":": ":", "n": "\n", ">": ">"}
TEXT_FORMATS = ("moodle", "html", "plain", "markdown")
WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
UNSUPPORTED_NAMES = {
    "essay": "问答题",
    "matching": "匹配题",
    "numerical": "数值题",
    "description": "说明文字（没有答案块 {…}；若本应是题目，请补上答案块，并检查题目中间是否多了空行）",
}
# Positive weights of a multiple-choice question must add up to 100% (Moodle writes 33.33333).
WEIGHT_TOLERANCE = 0.5

_BLANK_RUN = re.compile(r"_{3,}")
_CATEGORY_CONTEXT = re.compile(r"^\$[a-z]+\$/")
_BRACE = re.compile(r"[{}]")
_TAG_COMMENT = re.compile(r"\[tag:((?:\\\]|[^\]])+)\]")
_HTML_BREAK = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6])\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class _Text:
    """GIFT text with its escapes resolved: `escaped[i]` says character i was written escaped, so
    it is content, never syntax."""

    chars: str
    escaped: tuple[bool, ...]

    @classmethod
    def read(cls, raw: str) -> "_Text":
        if "\\" not in raw:
            return cls(raw, (False,) * len(raw))
        chars: list[str] = []
        escaped: list[bool] = []
        at = 0
        while at < len(raw):
            if raw[at] == "\\" and at + 1 < len(raw) and raw[at + 1] in ESCAPES:
                chars.append(ESCAPES[raw[at + 1]])
                escaped.append(True)
                at += 2
            else:
                chars.append(raw[at])
                escaped.append(False)
                at += 1
        return cls("".join(chars), tuple(escaped))

    def __getitem__(self, where: slice) -> "_Text":
        return _Text(self.chars[where], self.escaped[where])

    def find(self, token: str, start: int = 0) -> int:
        """Where `token` occurs unescaped, or -1."""
        at = self.chars.find(token, start)
        while at != -1 and any(self.escaped[at : at + len(token)]):
            at = self.chars.find(token, at + 1)
        return at

    def rfind(self, token: str) -> int:
        at = self.chars.rfind(token)
        while at != -1 and any(self.escaped[at : at + len(token)]):
            at = self.chars.rfind(token, 0, at + len(token) - 1)
        return at

    def startswith(self, token: str) -> bool:
        return self.chars.startswith(token) and not any(self.escaped[: len(token)])

    def strip(self) -> "_Text":
        start = len(self.chars) - len(self.chars.lstrip())
        end = len(self.chars.rstrip())
        return self[start:end] if start < end else _Text("", ())

    def before(self, token: str) -> "_Text":
        """The text up to the first unescaped `token` (per-answer feedback starts at `#`)."""
        at = self.find(token)
        return self if at == -1 else self[:at]


@dataclass(frozen=True)
class _Block:
    start: int  # index of "{"
    end: int  # index of "}"
    answers: _Text
    feedback: _Text | None  # general feedback after ####
    kind: str  # multichoice | truefalse | shortanswer | essay | numerical | matching


class _Refused(Exception):
    """A question we cannot read: its issue code and parameters."""

    def __init__(self, code: str, kind: str = "", field: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.kind = kind
        self.field = field
        self.params = params


# Text -----------------------------------------------------------------------------------------


def _html_text(text: str) -> str:
    """HTML as the text a reader sees: paragraphs and breaks become newlines."""
    flat = " ".join(text.split())
    flat = _HTML_TAG.sub("", _HTML_BREAK.sub("\n", flat))
    lines = (line.strip() for line in html.unescape(flat).split("\n"))
    return "\n".join(line for line in lines if line)


def _format_marker(text: _Text, default: str) -> tuple[_Text, str]:
    """Text without its leading `[format]` marker, and the format (else `default`)."""
    text = text.strip()
    if text.startswith("["):
        close = text.chars.find("]")
        if close != -1 and text.chars[1:close] in TEXT_FORMATS:
            return text[close + 1 :].strip(), text.chars[1:close]
    return text, default


def _plain(text: _Text, default: str) -> str:
    """A field's content as plain text (answers and feedback inherit the question's format)."""
    content, fmt = _format_marker(text, default)
    return _html_text(content.chars) if fmt == "html" else content.chars


def _category(raw: str) -> str:
    """`$course$/top/a/b` → `a/b`: the Moodle context and the top category are not areas."""
    path = _CATEGORY_CONTEXT.sub("", _Text.read(raw).chars.strip(), count=1)
    if path == "top":
        return ""
    return path.removeprefix("top/")


# Answer blocks --------------------------------------------------------------------------------


def _blocks(text: _Text) -> list[_Block]:
    found: list[_Block] = []
    opened = -1
    for brace in _BRACE.finditer(text.chars):
        at, char = brace.start(), brace.group()
        if text.escaped[at]:
            continue
        if char == "{":
            if opened != -1:
                raise _Refused("gift_syntax", problem="nested_brace")
            opened = at
        else:
            if opened == -1:
                raise _Refused("gift_syntax", problem="unopened_brace")
            found.append(_block(text, opened, at))
            opened = -1
    if opened != -1:
        raise _Refused("gift_syntax", problem="unclosed_brace")
    return found


def _block(text: _Text, start: int, end: int) -> _Block:
    inner = text[start + 1 : end]
    feedback: _Text | None = None
    # Like Moodle: the last #### starts the general feedback.
    separator = inner.rfind("####")
    if separator != -1:
        feedback = inner[separator + 4 :]
        inner = inner[:separator]
    answers = inner.strip()
    if not answers.chars:
        kind = "essay"
    elif answers.startswith("#"):
        kind = "numerical"
    elif answers.find("~") != -1:
        kind = "multichoice"
    elif answers.find("=") != -1 and answers.find("->") != -1:
        kind = "matching"
    elif answers.before("#").chars.strip().upper() in TRUE_FALSE:
        kind = "truefalse"
    else:
        kind = "shortanswer"
    return _Block(start, end, answers, feedback, kind)


def _split_answers(answers: _Text, markers: str) -> list[tuple[str, _Text]]:
    """Each answer with the marker that starts it; text before the first marker counts as an
    answer without marker when it is not blank (as Moodle reads it)."""
    pieces: list[tuple[str, _Text]] = []
    marker = ""
    begin = 0
    for at, char in enumerate(answers.chars):
        if char in markers and not answers.escaped[at]:
            pieces.append((marker, answers[begin:at]))
            marker = char
            begin = at + 1
    pieces.append((marker, answers[begin:]))
    if not pieces[0][1].chars.strip():
        pieces.pop(0)
    return pieces


def _weight(text: _Text) -> tuple[float | None, _Text]:
    """A leading `%50%` weight and the rest of the answer."""
    text = text.strip()
    found = WEIGHT.match(text.chars)
    if found is None:
        return None, text
    return float(found.group(1)), text[found.end() :]


def _choice(block: _Block, fmt: str) -> tuple[str, list[str], Any]:
    options: list[str] = []
    weights: list[float] = []
    single_marks: list[int] = []
    for index, (marker, piece) in enumerate(_split_answers(block.answers, "=~")):
        if marker == "=":
            # After = Moodle reads no weight: the answer is simply right.
            single_marks.append(index)
            weight, text = 100.0, piece.strip()
        else:
            found, text = _weight(piece)
            weight = found or 0.0
        options.append(_plain(text.before("#"), fmt))
        weights.append(weight)
    if single_marks:
        others = [w for i, w in enumerate(weights) if i not in single_marks]
        if len(single_marks) > 1:
            raise _Refused("gift_weights", field="answer", problem="several_right_answers")
        if any(w > 0 for w in others):
            raise _Refused("gift_weights", field="answer", problem="partial_credit")
        return QuestionType.single.value, options, single_marks[0]
    if any(not -100 <= w <= 100 for w in weights):
        raise _Refused("gift_weights", field="answer", problem="weight_out_of_range")
    correct = [i for i, w in enumerate(weights) if w > 0]
    if not correct:
        raise _Refused("answer_required", field="answer")
    if abs(sum(weights[i] for i in correct) - 100) > WEIGHT_TOLERANCE:
        raise _Refused("gift_weights", field="answer", problem="weights_not_100")
    return QuestionType.multiple.value, options, correct


def _accepted_texts(block: _Block, fmt: str) -> list[str]:
    texts: list[str] = []
    for _marker, piece in _split_answers(block.answers, "="):
        weight, text = _weight(piece)
        if weight is not None and weight != 100:
            raise _Refused("gift_weights", field="answer", problem="partial_credit")
        texts.append(_plain(text.before("#"), fmt))
    return texts


# Questions ------------------------------------------------------------------------------------


@dataclass
class _Meta:
    difficulty: int | None = None
    points: int | None = None
    tags: list[str] | None = None


def _meta(comments: list[str]) -> _Meta:
    """Difficulty, points and tags from our `// yingzhi:` comment and Moodle's `[tag:...]`."""
    ours = [c for c in comments if c.startswith(META_PREFIX)]
    moodle_tags = [
        found.replace("\\]", "]").strip()
        for c in comments
        if not c.startswith(META_PREFIX)
        for found in _TAG_COMMENT.findall(c)
    ]
    meta = _Meta(tags=moodle_tags or None)
    if not ours:
        return meta
    if len(ours) > 1:
        raise _Refused("gift_meta_invalid", problem="several_lines")
    try:
        data = json.loads(ours[0][len(META_PREFIX) :])
    except ValueError:
        raise _Refused("gift_meta_invalid", problem="not_json") from None
    if not isinstance(data, dict) or not set(data) <= {"difficulty", "points", "tags"}:
        raise _Refused("gift_meta_invalid", problem="fields")
    for name in ("difficulty", "points"):
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise _Refused("gift_meta_invalid", problem=name)
        setattr(meta, name, value)
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _Refused("gift_meta_invalid", problem="tags")
    meta.tags = [*tags, *moodle_tags]
    return meta


def _stem(text: _Text, blocks: list[_Block], fill: bool, fmt: str) -> str:
    """The text with each answer block replaced by a blank, except a block that ends a choice or
    true/false question (Moodle's rule); a fill-in block that ends the question puts its blank at
    the end unless the text already marks one."""
    pieces = [text[: blocks[0].start].chars]
    blank_at_end = False
    for number, block in enumerate(blocks):
        following = blocks[number + 1].start if number + 1 < len(blocks) else len(text.chars)
        after = text[block.end + 1 : following].chars
        if number < len(blocks) - 1 or after.strip():
            pieces += [BLANK, after]
        elif fill:
            blank_at_end = not (len(blocks) == 1 and _BLANK_RUN.search(pieces[0].replace("＿", "_")))
    stem = "".join(pieces)
    if fmt == "html":
        stem = _html_text(stem)
    return stem + BLANK if blank_at_end else stem


def _draft(body: str, meta: _Meta, area: str, line: int) -> Draft:
    text = _Text.read(body)
    if text.startswith("::"):
        close = text.find("::", 2)
        if close == -1:
            raise _Refused("gift_title_unclosed")
        text = text[close + 2 :]
    text, fmt = _format_marker(text, "moodle")
    blocks = _blocks(text)
    if not blocks:
        raise _Refused("gift_unsupported_type", kind="description", field="type")
    for block in blocks:
        if block.kind in ("essay", "numerical", "matching"):
            raise _Refused("gift_unsupported_type", kind=block.kind, field="type")
    if len(blocks) > 1 and any(block.kind != "shortanswer" for block in blocks):
        raise _Refused("gift_several_blocks")
    kind = blocks[0].kind
    stem = _stem(text, blocks, kind == "shortanswer", fmt)
    options: list[str] = []
    answer: Any
    if kind == "multichoice":
        qtype, options, answer = _choice(blocks[0], fmt)
    elif kind == "truefalse":
        qtype = QuestionType.true_false.value
        answer = TRUE_FALSE[blocks[0].answers.before("#").chars.strip().upper()]
    else:
        qtype = QuestionType.fill_blank.value
        answer = [_accepted_texts(block, fmt) for block in blocks]
    feedback = [_plain(b.feedback, fmt) for b in blocks if b.feedback is not None]
    return Draft(
        type=qtype,
        stem=stem,
        options=options,
        answer=answer,
        answer_is_text=False,
        explanation="\n".join(text for text in feedback if text),
        difficulty=meta.difficulty,
        points=meta.points,
        area=area,
        tags=meta.tags or [],
        line=line,
    )


def _chunks(text: str) -> list[list[tuple[int, str]]]:
    """Blank-line separated groups of (line number, trimmed line)."""
    chunks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if line:
            current.append((number, line))
        elif current:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return chunks


def _read_chunk(chunk: list[tuple[int, str]], area: str, result: ParseResult) -> str:
    """File the chunk's question (if any) in `result`; returns the area for what follows."""
    comments: list[str] = []
    body: list[tuple[int, str]] = []
    for number, line in chunk:
        if line.startswith("//"):
            comments.append(line)
        elif not body and line.startswith(CATEGORY_PREFIX):
            area = _category(line[len(CATEGORY_PREFIX) :])
        else:
            body.append((number, line))
    if not body:
        return area
    start = body[0][0]
    text = "\n".join(content for _number, content in body)
    try:
        result.add(_draft(text, _meta(comments), area, start))
    except _Refused as refused:
        params = dict(refused.params)
        if refused.kind:
            params.update(kind=refused.kind, name=UNSUPPORTED_NAMES[refused.kind])
        result.issues.append(issue(refused.code, line=start, field=refused.field, **params))
        result.rejected.append(Rejected(stem=text[:200], type=refused.kind, line=start))
    return area


def parse_gift(data: bytes) -> ParseResult:
    text, encoding = decode_text(data)
    result = ParseResult(format="gift", encoding=encoding)
    area = ""
    for chunk in _chunks(text):
        area = _read_chunk(chunk, area, result)
    if result.total == 0:
        raise FileRejected("no_questions")
    return result
