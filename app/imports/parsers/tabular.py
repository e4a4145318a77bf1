"""Question banks from sheets: our Excel template (.xlsx) and CSV with the same columns.

One row per question. The columns are defined once, here (`BANK_COLUMNS`), and shared by the
template (`app.imports.templates`) and the xlsx export (`app.imports.writers.xlsx`), so the three
cannot drift. Headers are matched leniently (spaces, full-width forms, `*` required markers,
common synonyms and English names); every issue points at the row as Excel numbers it and at the
column by its template header ("答案", "选项C").
"""

import dataclasses
import re
import unicodedata
from collections.abc import Iterator

from app.imports.common import (
    LETTERS,
    Draft,
    Issue,
    ParsedQuestion,
    ParseResult,
    Rejected,
    check_draft,
    issue,
)
from app.imports.files import FileRejected, Table, read_table
from app.imports.messages import register

BANK_SHEET = "题库"
INSTRUCTIONS_SHEET = "填写说明"
OPTION_HEADERS = tuple(f"选项{letter}" for letter in LETTERS)
# The template's columns, in order: the one definition the template, the parser and the export share.
BANK_COLUMNS: tuple[str, ...] = (
    "题型",
    "题干",
    *OPTION_HEADERS,
    "答案",
    "解析",
    "分值",
    "难度",
    "知识点",
    "标签",
)
REQUIRED_COLUMNS = ("题干", "答案")  # 题型 may be left out: then it is inferred from each answer
TYPE_WORDS = {"single": "单选题", "multiple": "多选题", "true_false": "判断题", "fill_blank": "填空题"}

# Issue codes that do not stop a question from importing: the preview shows them as warnings.

# check_draft's field names -> the template header the admin sees.
HEADER_BY_FIELD: dict[str, str] = {
    "type": "题型",
    "stem": "题干",
    **{f"option_{letter}": header for letter, header in zip(LETTERS, OPTION_HEADERS, strict=True)},
    "answer": "答案",
    "explanation": "解析",
    "points": "分值",
    "difficulty": "难度",
    "area": "知识点",
    "tags": "标签",
}

# Header variants people write, as keys after `_header_key` (lower case, no spaces, `_` or `-`).
_ALIASES: dict[str, tuple[str, ...]] = {
    "题型": ("题型", "题目类型", "试题类型", "类型", "type", "questiontype", "qtype"),
    "题干": (
        "题干",
        "题目",
        "题目内容",
        "试题",
        "试题内容",
        "题干内容",
        "问题",
        "stem",
        "question",
        "questiontext",
    ),
    **{
        header: (header.lower(), letter.lower(), f"option{letter.lower()}", f"{letter.lower()}选项")
        for letter, header in zip(LETTERS, OPTION_HEADERS, strict=True)
    },
    "答案": ("答案", "正确答案", "标准答案", "参考答案", "answer", "correctanswer"),
    "解析": ("解析", "试题解析", "答案解析", "题目解析", "explanation", "analysis"),
    "分值": ("分值", "分数", "points", "score"),
    "难度": ("难度", "难度等级", "难易程度", "难易度", "difficulty", "level"),
    "知识点": ("知识点", "类别", "知识点分类", "分类", "所属知识点", "area", "knowledgearea", "category"),
    "标签": ("标签", "tags", "tag"),
}
_HEADER_BY_KEY = {key: header for header, keys in _ALIASES.items() for key in keys}
assert set(_ALIASES) == set(BANK_COLUMNS)

# "题干（必填）", "答案(选填)": a note in brackets after the name.
_HEADER_NOTE = re.compile(r"[(\[【][^)\]】]*(必填|选填|可选|可不填|required|optional)[^)\]】]*[)\]】]", re.I)
_HEADER_NOISE = re.compile(r"[\s_\-*※:]+")
_SPACES = re.compile(r"\s+")
# How a date cell reads (files.cell_text): Excel turns "1月10日" typed in a General cell into a date.
_EXCEL_DATE = re.compile(r"\d{4}-\d{2}-\d{2} 00:00:00")
_NUMBER_COLUMNS = ("分值", "难度")

register(
    {
        "option_gap": "选项不连续：{column} 为空，但后面的选项有内容。选项须从 选项A 起连续填写："
        "请补全 {column}，或把后面的选项前移（同时改正答案字母）。",
        "unlabeled_column": "第 {column} 列没有表头却有内容：该列将被忽略；如需导入，请对照模板补上表头。",
        "date_cell": "该单元格被 Excel 当成了日期（读出为 {value}）：如果本意是文字（如 1月10日），"
        "请把该列设置为“文本”格式后重新输入，或在内容前加英文单引号 '。",
    },
    {
        "option_gap": "Options are not consecutive: {column} is empty but a later option is filled. Fill "
        "options from 选项A on without gaps: fill {column} or move the later options up (and fix the "
        "answer letters).",
        "unlabeled_column": "Column {column} has no header but has content: it is ignored; add the header "
        "from the template if it is needed.",
        "date_cell": "Excel stored this cell as a date (it reads {value}): if you meant text (such as "
        "1月10日), format the column as Text and type it again, or start it with an apostrophe '.",
    },
)


def parse_xlsx(data: bytes) -> ParseResult:
    table = read_table(data, "xlsx", preferred_sheets=(BANK_SHEET, "questions"))
    return _parse_table(table, "xlsx", table.rows)


def parse_csv(data: bytes) -> ParseResult:
    table = read_table(data, "csv")
    # The csv module numbers physical lines; a cell with line breaks spans several. Excel shows
    # records, one per row, so number them ourselves (every record is yielded, empty ones too).
    records = ((number, values) for number, (_, values) in enumerate(table.rows, start=table.header_row + 1))
    return _parse_table(table, "csv", records)


def _header_key(text: str) -> str:
    key = unicodedata.normalize("NFKC", text)
    key = _HEADER_NOTE.sub("", key)
    return _HEADER_NOISE.sub("", key).casefold()


def template_header(text: str) -> str | None:
    """The template header a written header stands for ("选项 a" → "选项A"), or None."""
    return _HEADER_BY_KEY.get(_header_key(text))


def column_letter(index: int) -> str:
    """0 → "A", 26 → "AA": how Excel names a column."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _next_nonempty(rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]] | None:
    for number, values in rows:
        if any(values):
            return number, values
    return None


def _columns(
    table: Table, rows: Iterator[tuple[int, list[str]]]
) -> tuple[list[str], dict[str, int], list[Issue]]:
    """The headers as written, the column index of each template header, and warnings."""
    header_row, headers = table.header_row, table.headers
    known = [template_header(text) for text in headers]
    # A title row above the header ("2021年应知应会题库"), common in sheets passed around.
    if "题干" not in known and sum(1 for text in headers if text) <= 1:
        following = _next_nonempty(rows)
        if following is not None:
            header_row, headers = following
            known = [template_header(text) for text in headers]
    index_of: dict[str, int] = {}
    warnings: list[Issue] = []
    for index, (text, header) in enumerate(zip(headers, known, strict=True)):
        if not text:
            continue
        if header is None:
            warnings.append(issue("unknown_column", row=header_row, field=text, column=text))
            continue
        if header in index_of:
            first = headers[index_of[header]]
            raise FileRejected("duplicate_column", column=text if text == first else f"{first}、{text}")
        index_of[header] = index
    for header in REQUIRED_COLUMNS:
        if header not in index_of:
            raise FileRejected("missing_column", column=header)
    return headers, index_of, warnings


def _parse_table(table: Table, fmt: str, rows: Iterator[tuple[int, list[str]]]) -> ParseResult:
    result = ParseResult(format=fmt, encoding=table.encoding)
    headers, index_of, warnings = _columns(table, rows)
    result.issues.extend(warnings)
    labelled = {index for index, text in enumerate(headers) if text}
    reported_unlabelled: set[int] = set()
    for number, values in rows:
        if not any(values):
            continue  # an empty row is not a question

        for index, text in enumerate(values):
            if text and index not in labelled and index not in reported_unlabelled:
                reported_unlabelled.add(index)
                result.issues.append(issue("unlabeled_column", row=number, column=column_letter(index)))
        cells = {header: _cell(values, index) for header, index in index_of.items()}
        written = [cells.get(header, "") for header in OPTION_HEADERS]
        last = max((i for i, text in enumerate(written) if text), default=-1)
        draft = Draft(
            type=cells.get("题型", ""),
            stem=cells.get("题干", ""),
            options=written[: last + 1],
            answer=cells.get("答案", ""),
            explanation=cells.get("解析", ""),
            points=cells.get("分值", ""),
            difficulty=cells.get("难度", ""),
            area=cells.get("知识点", ""),
            tags=cells.get("标签", ""),
            row=number,
        )
        dates = [
            issue("date_cell", row=number, field=header, value=text)
            for header, text in cells.items()
            if fmt == "xlsx" and header not in _NUMBER_COLUMNS and _EXCEL_DATE.fullmatch(text)
        ]
        _file(result, draft, dates)
    return result


def _cell(values: list[str], index: int | None) -> str:
    return values[index] if index is not None and index < len(values) else ""


def _file(result: ParseResult, draft: Draft, found: list[Issue]) -> None:
    """Check a row's draft and file it, with the problems already `found` in its cells; every
    issue names a template column."""
    gaps = [index for index, text in enumerate(draft.options) if not text]
    checked = check_draft(draft)
    if isinstance(checked, ParsedQuestion) and not gaps and not found:
        result.questions.append(checked)
        return
    problems = [*found, *([] if isinstance(checked, ParsedQuestion) else checked)]
    if gaps:
        # check_draft sees the gap as an empty option; say what it really is, at its column.
        problems = [problem for problem in problems if problem.code != "empty_option"]
        problems += [
            issue("option_gap", row=draft.row, field=OPTION_HEADERS[index], column=OPTION_HEADERS[index])
            for index in gaps
        ]
    result.rejected.append(
        Rejected(stem=str(draft.stem).strip()[:200], type=str(draft.type), line=None, row=draft.row)
    )
    result.issues.extend(
        dataclasses.replace(problem, field=_header_for(problem, draft.options)) for problem in problems
    )


def _same_text_key(text: str) -> str:
    # As app.bank.validation compares options: NFKC, spaces collapsed, case folded.
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _header_for(problem: Issue, options: list[str]) -> str | None:
    if problem.field is None or problem.field in BANK_COLUMNS:
        return problem.field
    if problem.field != "options":
        return HEADER_BY_FIELD.get(problem.field, problem.field)
    # Point at the option column that needs the fix.
    if problem.code == "too_few_options":
        return OPTION_HEADERS[min(len(options), len(OPTION_HEADERS) - 1)]
    if problem.code == "duplicate_option":
        seen: set[str] = set()
        for index, text in enumerate(options):
            key = _same_text_key(text)
            if key in seen:
                return OPTION_HEADERS[index]
            seen.add(key)
    if problem.code == "empty_option":
        for index, text in enumerate(options):
            if not text.strip():
                return OPTION_HEADERS[index]
    return OPTION_HEADERS[0]
