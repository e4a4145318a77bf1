"""The reviewable YAML bank format of question_bank/ (question_bank/README.md) as an import format,
so the shipped sample bank goes through the same checks as any admin's file."""

from typing import Any

import yaml

from app.imports.common import Draft, ParseResult, Rejected, issue
from app.imports.files import decode_text
from app.imports.messages import register

register(
    {
        "yaml_invalid": "YAML 格式错误（第 {line} 行）：{detail}",
        "yaml_layout": "YAML 文件应包含 bank（题库名称）和 questions（题目列表）两项。",
        "yaml_not_mapping": "第 {number} 题不是“键: 值”形式的题目：请对照 question_bank/README.md 的格式。",
    },
    {
        "yaml_invalid": "YAML syntax error (line {line}): {detail}",
        "yaml_layout": "A YAML bank has `bank` (the bank's name) and `questions` (a list).",
        "yaml_not_mapping": "Question {number} is not a mapping: see question_bank/README.md.",
    },
)


def _question_lines(text: str) -> list[int]:
    """The 1-based line where each item of `questions` starts (yaml.safe_load forgets them)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "questions" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_yaml(data: bytes) -> ParseResult:
    text, encoding = decode_text(data)
    result = ParseResult(format="yaml", encoding=encoding)
    try:
        loaded: Any = yaml.safe_load(text)
        lines = _question_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        result.issues.append(issue("yaml_invalid", line=line, detail=str(getattr(exc, "problem", exc))))
        return result
    if not isinstance(loaded, dict) or not isinstance(loaded.get("questions"), list):
        result.issues.append(issue("yaml_layout"))
        return result
    if isinstance(loaded.get("bank"), str):
        result.bank_name = loaded["bank"].strip() or None
    for number, raw in enumerate(loaded["questions"], start=1):
        line = lines[number - 1] if number <= len(lines) else None
        if not isinstance(raw, dict):
            result.issues.append(issue("yaml_not_mapping", line=line, number=number))
            result.rejected.append(Rejected(stem=str(raw)[:200], type="", line=line))
            continue
        answer = raw.get("answer", "")
        result.add(
            Draft(
                type=str(raw.get("type") or ""),
                stem=str(raw.get("stem") or ""),
                options=[str(o) for o in raw.get("options") or []],
                # Fill-in answers are already structured (blanks of accepted texts).
                answer=answer if isinstance(answer, list) else ("" if answer is None else str(answer)),
                answer_is_text=not isinstance(answer, list),
                explanation=str(raw.get("explanation") or ""),
                difficulty=raw.get("difficulty"),
                points=raw.get("points"),
                area=str(raw.get("area") or ""),
                tags=[str(t) for t in raw.get("tags") or []],
                line=line,
            )
        )
    return result
