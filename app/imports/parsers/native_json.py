"""Our lossless native JSON format (what `app.imports.writers.native_json` writes):

    {"format": "yingzhi-bank", "version": 1, "bank": "政法队伍教育整顿应知应会",
     "questions": [{"type": "single", "stem": "…", "options": ["…", "…"], "answer": "B",
                    "explanation": "…", "difficulty": 2, "points": 1, "area": "警示教育/三个规定",
                    "tags": ["三个规定"]}]}

or just the list of questions. Answers as in question_bank/README.md: option letters ("B",
"ABD") for choice questions, true/false for true_false, and for fill_blank a list of blanks,
each a list of accepted texts. Lossless means nothing is dropped silently: unknown or repeated
fields are errors. JSON has no useful line numbers per question, so a question's `line` is its
number in the file (1-based), and our messages say "第 N 题".
"""

import json
from typing import Any

from app.bank.models import QuestionType
from app.imports.common import Draft, Issue, ParseResult, Rejected, issue, type_from_word
from app.imports.files import FileRejected, decode_text
from app.imports.messages import register

FORMAT = "yingzhi-bank"
VERSION = 1
TOP_FIELDS = ("format", "version", "bank", "questions")
QUESTION_FIELDS = ("type", "stem", "options", "answer", "explanation", "difficulty", "points", "area", "tags")
REQUIRED_FIELDS = ("type", "stem", "answer")

register(
    {
        "json_invalid": "JSON 格式错误：第 {line} 行第 {column} 列附近有语法错误（常见原因：缺少逗号或引号、"
        "多了逗号、引号未转义）。请用 JSON 校验工具检查后再导入。",
        "json_unreadable": "JSON 文件无法读取（{detail}）：嵌套过深或数字过长，请检查文件内容。",
        "json_not_bank": "JSON 文件结构不对（问题在“{field}”）：顶层应为 "
        '{{"format": "yingzhi-bank", "version": 1, "bank": "题库名", "questions": [题目…]}}，'
        "或直接是题目数组；不能有其他字段或重复字段。",
        "json_version": "不支持的题库 JSON：format 为“{format}”、version 为“{version}”；本系统读取 "
        'format 为 "yingzhi-bank"、version 为 1 的文件。',
        "json_question_not_object": "第 {number} 题不是 JSON 对象：每道题应写作 "
        '{{"type": …, "stem": …, "answer": …}}。',
        "json_unknown_field": "第 {number} 题有未知字段“{name}”：为避免内容被悄悄丢弃而拒绝。"
        "请删除或改正字段名（可用字段：{allowed}）。",
        "json_duplicate_field": "第 {number} 题的字段“{name}”写了两次：请只保留一个。",
        "json_missing_field": "第 {number} 题缺少字段“{name}”（type、stem、answer 必填）：请补上。",
        "json_field_type": "第 {number} 题的字段“{name}”类型不对：应为 {expected_zh}。",
    },
    {
        "json_invalid": "JSON syntax error near line {line}, column {column} ({detail}): check it with a "
        "JSON validator.",
        "json_unreadable": "The JSON file cannot be read ({detail}): too deeply nested or a number too long.",
        "json_not_bank": "The JSON file's layout is wrong (at “{field}”): the top level is "
        '{{"format": "yingzhi-bank", "version": 1, "bank": "name", "questions": [...]}} or just the '
        "list of questions, with no other or repeated fields.",
        "json_version": "Unsupported bank JSON: format “{format}”, version “{version}”; we read format "
        '"yingzhi-bank" version 1.',
        "json_question_not_object": 'Question {number} is not a JSON object: write {{"type": …, "stem": …, '
        '"answer": …}}.',
        "json_unknown_field": "Question {number} has an unknown field “{name}”, refused so that nothing is "
        "dropped silently: remove or rename it (fields: {allowed}).",
        "json_duplicate_field": "Question {number} has the field “{name}” twice: keep one.",
        "json_missing_field": "Question {number} lacks the field “{name}” (type, stem and answer are "
        "required).",
        "json_field_type": "Question {number}: field “{name}” should be {expected}.",
    },
)

# What each field holds, for json_field_type: (English, zh-CN).
_STRING = ("a string", "字符串")
_STRINGS = ("a list of strings", '字符串数组，如 ["甲", "乙"]')
_WHOLE = ("a whole number", "整数")
_LETTERS = ('option letters as a string, e.g. "B" or "ABD"', '选项字母字符串，如 "B" 或 "ABD"')
_BOOLEAN = ("true or false", "true 或 false（不加引号）")
_BLANKS = (
    'a list of blanks, each a list of accepted texts, e.g. [["answer", "synonym"], ["second blank"]]',
    '每空一个数组，如 [["答案", "同义答案"], ["第二空"]]',
)


class _Object(dict[str, Any]):
    """A JSON object that remembers keys written twice (json.loads would keep only the last)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object()
    found.duplicates = []
    for key, value in pairs:
        if key in found:
            found.duplicates.append(key)
        found[key] = value
    return found


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _answer_shape(kind: QuestionType) -> tuple[tuple[str, str], Any]:
    """What the answer of a `kind` question looks like: its description and a check."""
    if kind in (QuestionType.single, QuestionType.multiple):
        return _LETTERS, lambda value: isinstance(value, str)
    if kind == QuestionType.true_false:
        return _BOOLEAN, lambda value: isinstance(value, bool)
    return _BLANKS, lambda value: isinstance(value, list) and all(_is_strings(blank) for blank in value)


def _field_problems(number: int, raw: _Object) -> list[Issue]:
    at: dict[str, Any] = {"line": number, "number": number}
    problems = [
        issue("json_duplicate_field", field=key, name=key, **at) for key in dict.fromkeys(raw.duplicates)
    ]
    allowed = ", ".join(QUESTION_FIELDS)
    problems += [
        issue("json_unknown_field", field=key, name=key, allowed=allowed, **at)
        for key in raw
        if key not in QUESTION_FIELDS
    ]
    for name in REQUIRED_FIELDS:
        if name not in raw or (name == "type" and raw[name] == ""):
            problems.append(issue("json_missing_field", field=name, name=name, **at))
    shapes: dict[str, tuple[tuple[str, str], Any]] = {
        "type": (_STRING, lambda value: isinstance(value, str)),
        "stem": (_STRING, lambda value: isinstance(value, str)),
        "options": (_STRINGS, _is_strings),
        "explanation": (_STRING, lambda value: isinstance(value, str)),
        "difficulty": (_WHOLE, _is_whole),
        "points": (_WHOLE, _is_whole),
        "area": (_STRING, lambda value: isinstance(value, str)),
        "tags": (_STRINGS, _is_strings),
    }
    kind = type_from_word(raw["type"]) if isinstance(raw.get("type"), str) and raw["type"] else None
    if isinstance(kind, QuestionType):
        shapes["answer"] = _answer_shape(kind)
    for name, ((expected, expected_zh), fits) in shapes.items():
        value = raw.get(name)
        # null stands for "not given" in the optional fields.
        if name not in raw or (value is None and name not in REQUIRED_FIELDS):
            continue
        if not fits(value):
            problems.append(
                issue(
                    "json_field_type", field=name, name=name, expected=expected, expected_zh=expected_zh, **at
                )
            )
    return problems


def _read_question(number: int, raw: Any, result: ParseResult) -> None:
    if not isinstance(raw, _Object):
        result.issues.append(issue("json_question_not_object", line=number, number=number))
        result.rejected.append(Rejected(stem=json.dumps(raw, ensure_ascii=False)[:200], type="", line=number))
        return
    problems = _field_problems(number, raw)
    if problems:
        stem, kind = raw.get("stem"), raw.get("type")
        result.issues.extend(problems)
        result.rejected.append(
            Rejected(
                stem=stem.strip()[:200] if isinstance(stem, str) else "",
                type=kind if isinstance(kind, str) else "",
                line=number,
            )
        )
        return
    answer = raw["answer"]
    result.add(
        Draft(
            type=raw["type"],
            stem=raw["stem"],
            options=raw.get("options") or [],
            answer=answer,
            # Letters go through the shared answer checks; true/false and blanks are structured.
            answer_is_text=isinstance(answer, str),
            explanation=raw.get("explanation") or "",
            difficulty=raw.get("difficulty"),
            points=raw.get("points"),
            area=raw.get("area") or "",
            tags=raw.get("tags") or [],
            line=number,
        )
    )


def _questions(loaded: Any, result: ParseResult) -> list[Any]:
    """The list of questions, from the bare list or our envelope (whose layout is checked)."""
    if isinstance(loaded, list):
        return loaded
    if not isinstance(loaded, _Object):
        raise FileRejected("json_not_bank", field="questions")
    unexpected = [*loaded.duplicates, *(key for key in loaded if key not in TOP_FIELDS)]
    if unexpected:
        raise FileRejected("json_not_bank", field=unexpected[0])
    fmt, version = loaded.get("format", FORMAT), loaded.get("version", VERSION)
    if fmt != FORMAT or not _is_whole(version) or version != VERSION:
        raise FileRejected("json_version", format=str(fmt), version=str(version))
    bank = loaded.get("bank")
    if bank is not None and not isinstance(bank, str):
        raise FileRejected("json_not_bank", field="bank")
    result.bank_name = bank.strip() or None if isinstance(bank, str) else None
    questions = loaded.get("questions")
    if not isinstance(questions, list):
        raise FileRejected("json_not_bank", field="questions")
    return questions


def parse_json(data: bytes) -> ParseResult:
    text, encoding = decode_text(data)
    try:
        loaded = json.loads(text, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise FileRejected("json_invalid", line=exc.lineno, column=exc.colno, detail=exc.msg) from exc
    except (RecursionError, ValueError) as exc:
        raise FileRejected("json_unreadable", detail=type(exc).__name__) from exc
    result = ParseResult(format="json", encoding=encoding)
    for number, raw in enumerate(_questions(loaded, result), start=1):
        _read_question(number, raw, result)
    if result.total == 0:
        raise FileRejected("no_questions")
    return result
