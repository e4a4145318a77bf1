"""Question banks from sheets (app/imports/parsers/tabular.py), the Excel template
(app/imports/templates.py) and the xlsx export (app/imports/writers/xlsx.py): pure functions, no I/O
beyond reading the small fixtures in tests/fixtures/imports/tabular/."""

import csv
import dataclasses
import io
import random
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.bank.validation import BLANK
from app.imports.common import MAX_OPTION, MAX_STEM, WARNING_CODES, ParsedQuestion, ParseResult
from app.imports.files import FileRejected, detect_format
from app.imports.parsers.tabular import (
    BANK_COLUMNS,
    BANK_SHEET,
    INSTRUCTIONS_SHEET,
    parse_csv,
    parse_xlsx,
    template_header,
)
from app.imports.templates import EXAMPLES, bank_template
from app.imports.writers.xlsx import write_xlsx

FIXTURES = Path(__file__).parent / "fixtures" / "imports" / "tabular"

Cell = str | int | datetime | None
Row = Sequence[Cell]


def make_xlsx(rows: Sequence[Row], headers: Row = BANK_COLUMNS, sheet: str = BANK_SHEET) -> bytes:
    """A workbook written the plain openpyxl way (not with our writer), header in row 1."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def make_csv(rows: Sequence[Row], headers: Row = BANK_COLUMNS, encoding: str = "utf-8") -> bytes:
    lines = [headers, *rows]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(["" if v is None else v for v in line] for line in lines)
    return out.getvalue().encode(encoding)


def row(**cells: Cell) -> list[Cell]:
    """A row in template column order from header=value pairs (选项A is written A=...)."""
    named = {(f"选项{key}" if len(key) == 1 else key): value for key, value in cells.items()}
    assert set(named) <= set(BANK_COLUMNS), set(named) - set(BANK_COLUMNS)
    return [named.get(header) for header in BANK_COLUMNS]


def codes(result: ParseResult) -> list[tuple[str, int | None, str | None]]:
    return [(i.code, i.row, i.field) for i in result.issues]


PARSERS = {"xlsx": (make_xlsx, parse_xlsx), "csv": (make_csv, parse_csv)}


# ------------------------------------------------------------------ template ↔ parser


def test_template_filled_with_sample_rows_imports_with_zero_issues_and_exact_content() -> None:
    book = openpyxl.load_workbook(io.BytesIO(bank_template()))
    assert book.sheetnames == [BANK_SHEET, INSTRUCTIONS_SHEET]  # Excel opens on the question sheet
    sheet = book[BANK_SHEET]
    assert [c.value for c in sheet[1]] == list(BANK_COLUMNS)
    assert sheet.max_row == 1 + len(EXAMPLES)
    # What an admin types, in the conventions the instruction sheet teaches.
    filled = [
        row(
            题型="单选题", 题干="国家宪法日是每年的哪一天？", A="12月4日", B="3月15日", C="10月1日", 答案="a"
        ),
        row(
            题型="多选题",
            题干="“四个自信”包括（ ）。",
            A="道路自信",
            B="理论自信",
            C="制度自信",
            D="文化自信",
            E="历史自信",
            答案="A、B、C、D",
            解析="四个自信：道路自信、理论自信、制度自信、文化自信。",
            分值=4,
            难度=3,
            知识点="政治教育/四个自信",
            标签="四个自信，政治教育",
        ),
        row(题型="判断题", 题干="《民法典》自2021年1月1日起施行。", 答案="√", 难度="易"),
        row(题型="判断题", 题干="国家宪法日是每年的3月15日。", 答案="×"),
        row(
            题型="填空题",
            题干="“四个意识”是政治意识、______、核心意识、看齐意识。",
            答案="大局意识",
            知识点="政治教育 / 四个意识",
        ),
        row(题型="填空题", 题干="党史学习教育于____年____月启动。", 答案="2021|2;二;二月"),
    ]
    for values in filled:
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)

    result = parse_xlsx(buffer.getvalue())

    assert result.issues == []
    assert result.rejected == []
    assert [q.row for q in result.questions] == list(range(2, 2 + len(EXAMPLES) + len(filled)))
    added = [
        ParsedQuestion(
            "single", "国家宪法日是每年的哪一天？", ["12月4日", "3月15日", "10月1日"], 0, "", 2, 1, "", []
        ),
        ParsedQuestion(
            "multiple",
            "“四个自信”包括（ ）。",
            ["道路自信", "理论自信", "制度自信", "文化自信", "历史自信"],
            [0, 1, 2, 3],
            "四个自信：道路自信、理论自信、制度自信、文化自信。",
            3,
            4,
            "政治教育/四个自信",
            ["四个自信", "政治教育"],
        ),
        ParsedQuestion("true_false", "《民法典》自2021年1月1日起施行。", [], True, "", 1, 1, "", []),
        ParsedQuestion("true_false", "国家宪法日是每年的3月15日。", [], False, "", 2, 1, "", []),
        ParsedQuestion(
            "fill_blank",
            f"“四个意识”是政治意识、{BLANK}、核心意识、看齐意识。",
            [],
            [["大局意识"]],
            "",
            2,
            2,
            "政治教育/四个意识",
            [],
        ),
        ParsedQuestion(
            "fill_blank",
            f"党史学习教育于{BLANK}年{BLANK}月启动。",
            [],
            [["2021"], ["2", "二", "二月"]],
            "",
            2,
            2,
            "",
            [],
        ),
    ]
    assert [q.content() for q in result.questions] == [q.content() for q in (*EXAMPLES, *added)]


def test_template_layout_drop_downs_and_instructions() -> None:
    book = openpyxl.load_workbook(io.BytesIO(bank_template()))
    sheet = book[BANK_SHEET]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["B"].width >= 30  # the stem column is wide
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"}
    assert lists["A2:A50001"] == '"单选题,多选题,判断题,填空题"'  # 题型
    assert lists["N2:N50001"] == '"1,2,3,4,5"'  # 难度
    assert {q.type for q in EXAMPLES} == {"single", "multiple", "true_false", "fill_blank"}
    fill = next(q for q in EXAMPLES if q.type == "fill_blank")
    assert BLANK in fill.stem and any(len(blank) > 1 for blank in fill.answer) and len(fill.answer) > 1

    notes = "\n".join(
        str(value) for r in book[INSTRUCTIONS_SHEET].iter_rows(values_only=True) for value in r if value
    )
    for header in ("题型", "题干", "选项A～选项H", "答案", "解析", "分值", "难度", "知识点", "标签"):
        assert re.search(f"^{header}$", notes, re.M), header
    for convention in ("ABD", "A,B,D", "正确/错误", "对/错", "√/×", "是/否", "T/F", "____", "|", ";"):
        assert convention in notes, convention
    assert "警示教育/三个规定" in notes and "最多 8 个" in notes and "5000 字" in notes


def test_the_question_sheet_is_found_when_the_instructions_come_first() -> None:
    book = openpyxl.load_workbook(io.BytesIO(bank_template()))
    book.move_sheet(INSTRUCTIONS_SHEET, offset=-1)
    assert book.sheetnames == [INSTRUCTIONS_SHEET, BANK_SHEET]
    buffer = io.BytesIO()
    book.save(buffer)
    assert [q.content() for q in parse_xlsx(buffer.getvalue()).questions] == [q.content() for q in EXAMPLES]


def test_an_english_sheet_named_questions_is_found() -> None:
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "readme"
    notes.append(["this sheet is not the questions"])
    questions = book.create_sheet("questions")
    questions.append(["type", "stem", "option_a", "option_b", "answer"])
    questions.append(["single", "Which day is National Constitution Day?", "4 December", "1 October", "A"])
    buffer = io.BytesIO()
    book.save(buffer)
    (question,) = parse_xlsx(buffer.getvalue()).questions
    assert (question.stem, question.options, question.answer) == (
        "Which day is National Constitution Day?",
        ["4 December", "1 October"],
        0,
    )


# ------------------------------------------------------------------ headers


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_header_variants_are_recognised(fmt: str) -> None:
    make, parse = PARSERS[fmt]
    headers = [
        " 题型* ",
        "题干＊",
        "选项 A",
        "B",
        "选项c",
        "Ｏｐｔｉｏｎ_Ｄ",
        "正确答案",
        "试题解析",
        "分 值",
        "难度（选填）",
    ]
    headers += ["知识点分类", "标签"]
    data = make(
        [
            [
                "多选题",
                "“两个维护”的内容是（ ）。",
                "甲",
                "乙",
                "丙",
                "丁",
                "A,D",
                "解析文字",
                "3",
                "4",
                "政治教育",
                "x y",
            ]
        ],
        headers,
    )
    result = parse(data)
    assert result.issues == []
    (question,) = result.questions
    assert question.content() == {
        "type": "multiple",
        "stem": "“两个维护”的内容是（ ）。",
        "options": ["甲", "乙", "丙", "丁"],
        "answer": [0, 3],
        "explanation": "解析文字",
        "difficulty": 4,
        "points": 3,
        "area": "政治教育",
        "tags": ["x", "y"],
    }


def test_english_headers_in_csv() -> None:
    headers = ["type", "stem", "option_a", "option_b", "option_c", "answer", "explanation", "points"]
    headers += ["difficulty", "area", "tags"]
    result = parse_csv(
        make_csv([["single", "Q?", "x", "y", "z", "C", "why", "2", "5", "law/basics", "t1,t2"]], headers)
    )
    assert result.issues == []
    assert result.questions[0].content() == {
        "type": "single",
        "stem": "Q?",
        "options": ["x", "y", "z"],
        "answer": 2,
        "explanation": "why",
        "difficulty": 5,
        "points": 2,
        "area": "law/basics",
        "tags": ["t1", "t2"],
    }


@pytest.mark.parametrize(
    ("written", "header"),
    [
        ("答案解析", "解析"),
        ("类别", "知识点"),
        ("选项a", "选项A"),
        ("A", "选项A"),
        ("H", "选项H"),
        ("Ｈ", "选项H"),
        ("参考答案", "答案"),
        ("题干（必填）", "题干"),
        ("备注", None),
        ("I", None),
    ],
)
def test_template_header(written: str, header: str | None) -> None:
    assert template_header(written) == header


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@given(
    header=st.sampled_from(BANK_COLUMNS),
    before=st.sampled_from(["", " ", "\u3000", "*"]),
    after=st.sampled_from(["", " ", "*", "＊", " *", "（必填）"]),
    wide=st.booleans(),
    spaced=st.booleans(),
)
def test_decorated_template_headers_map_back(
    header: str, before: str, after: str, wide: bool, spaced: bool
) -> None:
    text = " ".join(header) if spaced else header
    text = _full_width(text) if wide else text
    assert template_header(before + text + after) == header


def test_the_type_column_may_be_left_out_and_is_then_inferred() -> None:
    headers = [h for h in BANK_COLUMNS if h != "题型"]
    rows = [
        ["题一", "甲", "乙", "", "", "", "", "", "", "B"],
        ["题二", "甲", "乙", "丙", "", "", "", "", "", "AC"],
        ["题三", "", "", "", "", "", "", "", "", "对"],
        ["题____四", "", "", "", "", "", "", "", "", "答"],
        ["题五", "", "", "", "", "", "", "", "", "答"],
    ]
    result = parse_xlsx(make_xlsx(rows, headers))
    assert [(q.row, q.type) for q in result.questions] == [
        (2, "single"),
        (3, "multiple"),
        (4, "true_false"),
        (5, "fill_blank"),
    ]
    assert codes(result) == [("type_ambiguous", 6, "题型")]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("missing", ["题干", "答案"])
def test_a_missing_required_column_refuses_the_file(fmt: str, missing: str) -> None:
    make, parse = PARSERS[fmt]
    headers = [h for h in BANK_COLUMNS if h != missing]
    with pytest.raises(FileRejected) as caught:
        parse(make([["单选题", "题", "甲", "乙"]], headers))
    assert caught.value.code == "missing_column"
    assert caught.value.params == {"column": missing}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize(
    ("second", "column"), [("答案", "答案"), ("正确答案", "答案、正确答案"), ("选项 B", "选项B、选项 B")]
)
def test_a_duplicate_column_refuses_the_file(fmt: str, second: str, column: str) -> None:
    make, parse = PARSERS[fmt]
    with pytest.raises(FileRejected) as caught:
        parse(
            make([["单选题", "题", "甲", "乙", "A", "A"]], ["题型", "题干", "选项A", "选项B", "答案", second])
        )
    assert caught.value.code == "duplicate_column"
    assert caught.value.params == {"column": column}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_unknown_column_is_a_warning_and_the_question_still_imports(fmt: str) -> None:
    make, parse = PARSERS[fmt]
    result = parse(
        make(
            [["单选题", "题", "甲", "乙", "A", "随便写"]], ["题型", "题干", "选项A", "选项B", "答案", "备注"]
        )
    )
    assert codes(result) == [("unknown_column", 1, "备注")]
    assert result.issues[0].params == {"column": "备注"}
    assert {i.code for i in result.issues} <= WARNING_CODES
    assert [q.stem for q in result.questions] == ["题"]


def test_content_under_no_header_is_reported_once_not_dropped_silently() -> None:
    data = make_xlsx(
        [
            ["单选题", "题一", "甲", "乙", "A", "", "多出来的"],
            ["单选题", "题二", "甲", "乙", "A", "", "又一个"],
        ],
        ["题型", "题干", "选项A", "选项B", "答案"],
    )
    result = parse_xlsx(data)
    assert codes(result) == [("unlabeled_column", 2, None)]
    assert result.issues[0].params == {"column": "G"}
    assert "unlabeled_column" in WARNING_CODES
    assert len(result.questions) == 2


def test_a_title_row_above_the_header_is_skipped() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = BANK_SHEET
    ws.append(["2021年应知应会题库"])
    ws.append([])
    ws.append(["题型", "题干", "选项A", "选项B", "答案"])
    ws.append(["单选题", "题", "甲", "乙", "B"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = parse_xlsx(buffer.getvalue())
    assert result.issues == []
    assert [(q.row, q.answer) for q in result.questions] == [(4, 1)]


# ------------------------------------------------------------------ rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_empty_rows_are_skipped_and_rows_keep_their_sheet_numbers(fmt: str) -> None:
    make, parse = PARSERS[fmt]
    rows: list[Row] = [
        row(题型="判断题", 题干="一", 答案="对"),
        [None] * len(BANK_COLUMNS),
        [""] * len(BANK_COLUMNS),
        row(题型="判断题", 题干="二", 答案="错"),
    ]
    result = parse(make(rows))
    assert result.issues == [] and result.rejected == []
    assert [(q.row, q.stem, q.answer) for q in result.questions] == [(2, "一", True), (5, "二", False)]


def test_csv_rows_are_numbered_as_excel_shows_them_even_with_line_breaks_in_cells() -> None:
    data = make_csv(
        [
            row(题型="判断题", 题干="第一行\n第二行\n第三行", 答案="对"),
            row(题型="判断题", 题干="二", 答案="T"),
        ]
    )
    result = parse_csv(data)
    assert [(q.row, q.stem) for q in result.questions] == [(2, "第一行\n第二行\n第三行"), (3, "二")]


# Every malformed case: the row as written -> (code, field). Row 2 is always a good question, the bad
# one is row 3, and the good one must still come through (the parser never stops at a bad row).
MALFORMED = {
    "empty stem": (row(题型="单选题", 题干="", A="甲", B="乙", 答案="A"), "empty_stem", "题干"),
    "blank stem": (row(题型="单选题", 题干="  ", A="甲", B="乙", 答案="A"), "empty_stem", "题干"),
    "duplicate options": (
        row(题型="单选题", 题干="题", A="甲", B="乙", C=" 甲 ", 答案="A"),
        "duplicate_option",
        "选项C",
    ),
    "duplicate options, full-width": (
        row(题型="单选题", 题干="题", A="ABC", B="ａｂｃ", 答案="A"),
        "duplicate_option",
        "选项B",
    ),
    "answer E with 4 options": (
        row(题型="单选题", 题干="题", A="甲", B="乙", C="丙", D="丁", 答案="E"),
        "answer_out_of_range",
        "答案",
    ),
    "AB for single": (
        row(题型="单选题", 题干="题", A="甲", B="乙", 答案="AB"),
        "single_needs_one_answer",
        "答案",
    ),
    "one answer for multiple": (
        row(题型="多选题", 题干="题", A="甲", B="乙", C="丙", 答案="B"),
        "multiple_needs_two_answers",
        "答案",
    ),
    "answer twice": (
        row(题型="多选题", 题干="题", A="甲", B="乙", C="丙", 答案="ABA"),
        "duplicate_answer",
        "答案",
    ),
    "answer not letters": (
        row(题型="单选题", 题干="题", A="甲", B="乙", 答案="甲"),
        "answer_not_letters",
        "答案",
    ),
    "no answer": (row(题型="单选题", 题干="题", A="甲", B="乙"), "answer_required", "答案"),
    "问答题": (row(题型="问答题", 题干="请简述。", 答案="略"), "unsupported_type", "题型"),
    "选择": (row(题型="选择", 题干="题", A="甲", B="乙", 答案="A"), "unknown_type", "题型"),
    "difficulty 7": (
        row(题型="单选题", 题干="题", A="甲", B="乙", 答案="A", 难度="7"),
        "invalid_difficulty",
        "难度",
    ),
    "points 1.5": (
        row(题型="单选题", 题干="题", A="甲", B="乙", 答案="A", 分值="1.5"),
        "invalid_points",
        "分值",
    ),
    "points 0": (row(题型="单选题", 题干="题", A="甲", B="乙", 答案="A", 分值="0"), "invalid_points", "分值"),
    "over-long stem": (row(题型="判断题", 题干="长" * (MAX_STEM + 1), 答案="对"), "too_long", "题干"),
    "over-long option": (
        row(题型="单选题", 题干="题", A="甲", B="乙" * (MAX_OPTION + 1), 答案="A"),
        "too_long",
        "选项B",
    ),
    "option gap": (row(题型="单选题", 题干="题", A="甲", B="乙", D="丁", 答案="A"), "option_gap", "选项C"),
    "one option": (row(题型="单选题", 题干="题", A="甲", 答案="A"), "too_few_options", "选项B"),
    "options on true/false": (
        row(题型="判断题", 题干="题", A="甲", 答案="对"),
        "options_not_allowed",
        "选项A",
    ),
    "true/false answer": (row(题型="判断题", 题干="题", 答案="也许"), "answer_not_true_false", "答案"),
    "blank count": (row(题型="填空题", 题干="____和____", 答案="一"), "blank_count_mismatch", "答案"),
    "area with an empty level": (
        row(题型="判断题", 题干="题", 答案="对", 知识点="警示教育//三个规定"),
        "invalid_area",
        "知识点",
    ),
    "long tag": (row(题型="判断题", 题干="题", 答案="对", 标签="签" * 51), "too_long", "标签"),
}
GOOD_ROW = row(题型="单选题", 题干="好题", A="甲", B="乙", 答案="B")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_row_has_its_specific_code_row_and_column(fmt: str, case: str) -> None:
    values, code, field = MALFORMED[case]
    make, parse = PARSERS[fmt]
    result = parse(make([GOOD_ROW, values]))
    assert codes(result) == [(code, 3, field)]
    assert [(q.row, q.stem) for q in result.questions] == [(2, "好题")]
    assert [r.row for r in result.rejected] == [3]
    (problem,) = result.issues
    assert problem.message and problem.message_en and problem.message != problem.code


def test_each_gap_is_reported_at_its_column_and_not_also_as_an_empty_option() -> None:
    result = parse_xlsx(make_xlsx([row(题型="多选题", 题干="题", A="甲", D="丁", F="己", 答案="AD")]))
    assert codes(result) == [
        ("option_gap", 2, "选项B"),
        ("option_gap", 2, "选项C"),
        ("option_gap", 2, "选项E"),
    ]
    assert result.issues[0].params == {"column": "选项B"}


def test_several_problems_in_one_row_are_all_reported() -> None:
    result = parse_xlsx(
        make_xlsx([row(题型="单选题", 题干="", A="甲", B="乙", 答案="A", 难度="9", 分值="x")])
    )
    assert sorted(codes(result)) == [
        ("empty_stem", 2, "题干"),
        ("invalid_difficulty", 2, "难度"),
        ("invalid_points", 2, "分值"),
    ]


def test_malformed_csv_fixture() -> None:
    result = parse_csv((FIXTURES / "bank_malformed.csv").read_bytes())
    assert [(q.row, q.answer) for q in result.questions] == [(2, 2)]
    assert codes(result) == [
        ("unknown_column", 1, "备注"),
        ("empty_stem", 3, "题干"),
        ("duplicate_option", 4, "选项C"),
        ("answer_out_of_range", 5, "答案"),
        ("single_needs_one_answer", 6, "答案"),
        ("unsupported_type", 7, "题型"),
        ("unknown_type", 8, "题型"),
        ("invalid_difficulty", 9, "难度"),
        ("invalid_points", 10, "分值"),
        ("option_gap", 11, "选项C"),
        ("answer_not_true_false", 13, "答案"),  # row 12 is empty: skipped
    ]
    assert [r.row for r in result.rejected] == [3, 4, 5, 6, 7, 8, 9, 10, 11, 13]


# ------------------------------------------------------------------ CSV encodings and delimiters

GOOD_CSV_CONTENT = [
    {
        "type": "single",
        "stem": "防止干预司法“三个规定”的核心要求是（ ）。",
        "options": ["逢问必录", "只记录领导干部过问", "事后择要补记", "口头报告即可"],
        "answer": 0,
        "explanation": "核心是逢问必录，凡过问案件一律记录在案。",
        "difficulty": 2,
        "points": 1,
        "area": "警示教育/三个规定",
        "tags": ["三个规定"],
    },
    {
        "type": "multiple",
        "stem": "教育整顿的四项任务包括（ ）。",
        "options": ["筑牢政治忠诚", "清除害群之马", "整治顽瘴痼疾", "弘扬英模精神"],
        "answer": [0, 1, 2, 3],
        "explanation": "四项任务：\n筑牢政治忠诚、清除害群之马、整治顽瘴痼疾、弘扬英模精神。",
        "difficulty": 3,
        "points": 2,
        "area": "教育整顿基本知识/任务",
        "tags": ["四项任务", "教育整顿"],
    },
    {
        "type": "true_false",
        "stem": "中国人民警察节是每年的1月10日。",
        "options": [],
        "answer": True,
        "explanation": "中国人民警察节为每年1月10日。",
        "difficulty": 2,
        "points": 1,
        "area": "政治教育",
        "tags": [],
    },
    {
        "type": "fill_blank",
        "stem": f"《民法典》自{BLANK}年1月1日起施行。",
        "options": [],
        "answer": [["2021", "二〇二一"]],
        "explanation": "民法典自2021年1月1日起施行。",
        "difficulty": 1,
        "points": 2,
        "area": "法律法规基础",
        "tags": ["民法典"],
    },
]


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("bank_utf8.csv", "utf-8"),
        ("bank_utf8_bom.csv", "utf-8-sig"),
        ("bank_gb18030.csv", "gb18030"),
        ("bank_tab.csv", "utf-8"),
    ],
)
def test_csv_fixtures_in_every_encoding_and_delimiter_read_the_same(name: str, encoding: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert detect_format(name, data) == "csv"
    result = parse_csv(data)
    assert result.format == "csv"
    assert result.encoding == encoding
    assert result.issues == []
    assert [q.content() for q in result.questions] == GOOD_CSV_CONTENT
    # The multiple-choice row's explanation spans two lines: rows are still numbered as Excel does.
    assert [q.row for q in result.questions] == [2, 3, 4, 5]


def test_gb18030_is_really_decoded_not_guessed() -> None:
    data = (FIXTURES / "bank_gb18030.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert parse_csv(data).questions[0].stem == "防止干预司法“三个规定”的核心要求是（ ）。"


def test_csv_in_gbk_written_at_test_time() -> None:
    data = make_csv([row(题型="判断题", 题干="“枫桥经验”强调矛盾不上交。", 答案="是")], encoding="gbk")
    result = parse_csv(data)
    assert result.encoding == "gb18030"
    assert [(q.stem, q.answer) for q in result.questions] == [("“枫桥经验”强调矛盾不上交。", True)]


def test_csv_in_an_unknown_encoding_is_refused() -> None:
    header = ",".join(BANK_COLUMNS).encode("utf-8") + b"\n"
    # Bytes that are neither UTF-8 nor GB18030 (0x80 and 0xFF never start a GB18030 character).
    with pytest.raises(FileRejected) as caught:
        parse_csv(header + "判断题,".encode() + b"\x80\xff\x80\xff,\xe5\x86\n")
    assert caught.value.code == "unknown_encoding"


def test_random_bytes_as_csv_are_refused() -> None:
    noise = bytes(b or 1 for b in random.Random(3).randbytes(4096))  # no NUL, so not caught as binary
    with pytest.raises(FileRejected) as caught:
        parse_csv(noise)
    assert caught.value.code == "unknown_encoding"


def test_utf16_csv_is_refused_as_binary() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_csv(",".join(BANK_COLUMNS).encode("utf-16-le"))
    assert caught.value.code == "binary_file"


# ------------------------------------------------------------------ xlsx: formulas, garbage, bombs

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="题库" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>'
)


def _text(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def hand_built_xlsx(rows_xml: str, dimension: str | None = None) -> bytes:
    """An xlsx written by hand, as Excel does: formula cells with <f> and their cached value <v>."""
    header = "".join(_text(f"{chr(ord('A') + i)}1", h) for i, h in enumerate(BANK_COLUMNS))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}'
        f'<sheetData><row r="1">{header}</row>{rows_xml}</sheetData></worksheet>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


FORMULA_ROWS = (
    '<row r="2">'
    + _text("A2", "单选题")
    # the stem is a formula joining two cells; Excel stored its result
    + '<c r="B2" t="str"><f>"国家宪法日"&amp;"是哪一天？"</f><v>国家宪法日是哪一天？</v></c>'
    + _text("C2", "12月4日")
    + _text("D2", "1月10日")
    + '<c r="K2" t="str"><f>IF(1=1,"A","B")</f><v>A</v></c>'  # 答案
    + '<c r="M2"><f>1+2</f><v>3</v></c>'  # 分值
    + "</row>"
    # a formula never calculated (no <v>): it reads as empty, so the answer is reported missing
    + '<row r="3">'
    + _text("A3", "判断题")
    + _text("B3", "公式没有计算结果的一题")
    + '<c r="K3" t="str"><f>"对"</f></c>'
    + "</row>"
)


def test_formula_cells_are_read_as_their_cached_values_not_as_formulas() -> None:
    result = parse_xlsx(hand_built_xlsx(FORMULA_ROWS))
    (question,) = result.questions
    assert (question.row, question.stem, question.answer, question.points) == (
        2,
        "国家宪法日是哪一天？",
        0,
        3,
    )
    # Documented limit: a formula without a cached value reads as an empty cell.
    assert codes(result) == [("answer_required", 3, "答案")]


@pytest.mark.parametrize("dimension", ["A1:P3", "A1", "A1:B2"])
def test_a_wrong_dimension_record_does_not_cut_rows_or_columns(dimension: str) -> None:
    # Some generators write <dimension ref="A1"/> whatever the size; read-only openpyxl trusts it
    # unless told not to, which would drop columns and rows without a word.
    result = parse_xlsx(hand_built_xlsx(FORMULA_ROWS, dimension))
    assert [q.stem for q in result.questions] == ["国家宪法日是哪一天？"]
    assert codes(result) == [("answer_required", 3, "答案")]


def test_a_cell_excel_turned_into_a_date_is_reported_not_imported_as_a_date_string() -> None:
    # "1月10日" typed into a General cell is stored by Excel as a date; read back it would be
    # "2021-01-10 00:00:00", a wrong accepted answer nobody asked for.
    data = make_xlsx(
        [
            row(题型="填空题", 题干="中国人民警察节是每年的____。", 答案=datetime(2021, 1, 10)),
            row(题型="判断题", 题干="2021-01-10 10:00 的会议", 答案="对", 解析="时间不是零点的不算"),
        ]
    )
    result = parse_xlsx(data)
    assert codes(result) == [("date_cell", 2, "答案")]
    assert result.issues[0].params == {"value": "2021-01-10 00:00:00"}
    assert [q.row for q in result.questions] == [3]


def test_the_template_keeps_text_columns_as_text_so_excel_does_not_make_dates() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(bank_template()))[BANK_SHEET]
    text_columns = {"B", "C", "J", "K", "L", "O", "P"}  # 题干, 选项A, 选项H, 答案, 解析, 知识点, 标签
    assert {
        letter for letter in text_columns if sheet.column_dimensions[letter].number_format == "@"
    } == text_columns
    assert sheet.column_dimensions["M"].number_format == "General"  # 分值 stays a number


def test_binary_garbage_renamed_xlsx_is_refused() -> None:
    garbage = random.Random(1).randbytes(5000)
    with pytest.raises(FileRejected) as caught:
        parse_xlsx(garbage)
    assert caught.value.code == "not_a_zip"
    with pytest.raises(FileRejected) as caught:
        detect_format("题库.xlsx", garbage)
    assert caught.value.code == "not_a_zip"


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "不是表格")
    with pytest.raises(FileRejected) as caught:
        parse_xlsx(buffer.getvalue())
    assert caught.value.code == "corrupt_file"


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w") as entry,
    ):
        chunk = bytes(1024 * 1024)
        for _ in range(100):  # 100 MB of zeros, about 100 KB packed
            entry.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_from_its_declared_sizes_without_inflating_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = _zip_bomb()
    assert len(bomb) < 1024 * 1024

    def no_inflating(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an entry was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)
    with pytest.raises(FileRejected) as caught:
        parse_xlsx(bomb)
    assert caught.value.code in ("zip_ratio", "zip_too_large")
    assert caught.value.code == "zip_ratio"  # 100 MB is under the total limit; the ratio gives it away


# ------------------------------------------------------------------ export


def test_export_writes_text_never_formulas() -> None:
    risky = ["=1+1", "@SUM(A1)", "+1", "-1", '=HYPERLINK("http://x")', "\t=1", "\r=1", "1.50", "TRUE", "#N/A"]
    questions = [
        ParsedQuestion("single", text, [f"{text}甲", "=A1"], 1, text, 2, 1, "", []) for text in risky
    ]
    data = write_xlsx(questions)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    sheet = openpyxl.load_workbook(io.BytesIO(data))[BANK_SHEET]  # not data_only: formulas would show
    stems = [(c.value, c.data_type) for (c,) in sheet.iter_rows(min_row=2, min_col=2, max_col=2)]
    assert stems == [(text.replace("\r", "\n"), "s") for text in risky]
    assert (sheet["D2"].value, sheet["D2"].data_type) == ("=A1", "s")
    assert (sheet["L2"].value, sheet["L2"].data_type) == ("=1+1", "s")

    # The parser strips cells as check_draft strips texts; nothing else changes on the way back.
    back = parse_xlsx(data)
    assert back.issues == []
    assert [q.content() for q in back.questions] == [
        dataclasses.replace(
            q, stem=q.stem.strip(), options=[o.strip() for o in q.options], explanation=q.explanation.strip()
        ).content()
        for q in questions
    ]


def test_export_layout_is_the_template_layout() -> None:
    question = ParsedQuestion("true_false", "题", [], False, "", 2, 1, "政治教育", ["甲", "乙"])
    sheet = openpyxl.load_workbook(io.BytesIO(write_xlsx([question])))[BANK_SHEET]
    assert [c.value for c in sheet[1]] == list(BANK_COLUMNS)
    assert sheet.freeze_panes == "A2"
    values = dict(zip(BANK_COLUMNS, (c.value for c in sheet[2]), strict=True))
    assert values["题型"] == "判断题" and values["答案"] == "错误" and values["标签"] == "甲、乙"
    assert values["选项A"] is None and values["解析"] is None


def test_export_drops_characters_xml_cannot_carry_and_keeps_line_breaks() -> None:
    question = ParsedQuestion("true_false", "第一行\r\n第二行\x0b\x01", [], True, "a\rb", 2, 1, "", [])
    (back,) = parse_xlsx(write_xlsx([question])).questions
    assert (back.stem, back.explanation) == ("第一行\n第二行", "a\nb")


# Round trip: arbitrary valid questions -> write_xlsx -> parse_xlsx -> the same content.

_SAFE = st.characters(blacklist_categories=("Cc", "Cs", "Cn", "Co"))
_SAFE_OR_NEWLINE = st.characters(blacklist_categories=("Cc", "Cs", "Cn", "Co"), whitelist_characters="\n")


# Texts a spreadsheet could take for something else: formulas and error codes.
_RISKY = st.sampled_from(["=1+1", "=A1", "@SUM(A1)", "+1", "-1", "#N/A", "#REF!", "#DIV/0!", "TRUE", "1.0"])


def _stripped(
    alphabet: st.SearchStrategy[str], min_size: int = 1, max_size: int = 30
) -> st.SearchStrategy[str]:
    text = st.text(alphabet, min_size=min_size, max_size=max_size).map(str.strip)
    return st.one_of(text.filter(lambda t: len(t) >= min_size), _RISKY)


def _option_key(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


_TAG = _stripped(_SAFE, max_size=10).filter(lambda t: re.split(r"[,，;；、|\s]+", t) == [t])
_AREA_LEVEL = _stripped(_SAFE, max_size=10).filter(
    lambda t: unicodedata.normalize("NFKC", t) == t and not set(t) & set("/\\>")
)
_ALTERNATIVE = _stripped(_SAFE, max_size=10).filter(lambda t: not set(t) & set("|;｜；"))
_NO_UNDERSCORE = st.characters(
    blacklist_categories=("Cc", "Cs", "Cn", "Co"), blacklist_characters="_＿", whitelist_characters="\n"
)


@st.composite
def parsed_questions(draw: st.DrawFn) -> ParsedQuestion:
    kind = draw(st.sampled_from(["single", "multiple", "true_false", "fill_blank"]))
    options: list[str] = []
    answer: Any
    if kind in ("single", "multiple"):
        options = draw(st.lists(_stripped(_SAFE), min_size=2, max_size=8, unique_by=_option_key))
        indexes = list(range(len(options)))
        if kind == "single":
            answer = draw(st.sampled_from(indexes))
        else:
            answer = sorted(
                draw(st.lists(st.sampled_from(indexes), min_size=2, max_size=len(options), unique=True))
            )
        stem = draw(_stripped(_SAFE_OR_NEWLINE, max_size=60))
    elif kind == "true_false":
        answer = draw(st.booleans())
        stem = draw(_stripped(_SAFE_OR_NEWLINE, max_size=60))
    else:
        blanks = draw(st.integers(min_value=1, max_value=3))
        # Blanks side by side ("________") read back as one: a text format cannot tell them apart.
        middle = [draw(st.text(_NO_UNDERSCORE, min_size=1, max_size=15)) for _ in range(blanks - 1)]
        ends = [draw(st.text(_NO_UNDERSCORE, max_size=15)) for _ in range(2)]
        pieces = [ends[0], *middle, ends[1]]
        stem = BLANK.join(pieces).strip()
        answer = [draw(st.lists(_ALTERNATIVE, min_size=1, max_size=3)) for _ in range(blanks)]
    area_levels = draw(st.lists(_AREA_LEVEL, max_size=3))
    return ParsedQuestion(
        type=kind,
        stem=stem,
        options=options,
        answer=answer,
        explanation=draw(_stripped(_SAFE_OR_NEWLINE, min_size=0, max_size=40)),
        difficulty=draw(st.integers(1, 5)),
        points=draw(st.integers(1, 100)),
        area="/".join(area_levels),
        tags=draw(st.lists(_TAG, max_size=4, unique=True)),
    )


@settings(max_examples=60, deadline=None)
@given(questions=st.lists(parsed_questions(), max_size=6))
def test_export_then_import_is_lossless(questions: list[ParsedQuestion]) -> None:
    result = parse_xlsx(write_xlsx(questions))
    assert result.issues == []
    assert [q.content() for q in result.questions] == [q.content() for q in questions]
    assert [q.row for q in result.questions] == list(range(2, 2 + len(questions)))
