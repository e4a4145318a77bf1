"""Questions to xlsx in our template's layout: what the bank export writes and the parser reads back.

Text cells are always written as text, never as formulas: a stem such as "=1+1", "@SUM(A1)" or
"#N/A" stays that text (openpyxl would otherwise store a str starting with "=" as a formula and
an error code as an error). The sheet is streamed (write-only), so memory stays flat.
"""

import io
import re
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation

from app.imports.common import LETTERS, MAX_POINTS, ParsedQuestion, answer_text
from app.imports.files import MAX_ROWS
from app.imports.parsers.tabular import BANK_COLUMNS, BANK_SHEET, TYPE_WORDS, column_letter

CellValue = str | int | float | None

COLUMN_WIDTHS: dict[str, int] = {
    "题型": 10,
    "题干": 50,
    **{f"选项{letter}": 18 for letter in LETTERS},
    "答案": 12,
    "解析": 40,
    "分值": 8,
    "难度": 8,
    "知识点": 24,
    "标签": 16,
}
assert set(COLUMN_WIDTHS) == set(BANK_COLUMNS)
TAG_SEPARATOR = "、"
NUMBER_COLUMNS = ("题型", "分值", "难度")  # the others are text columns

# Characters XML 1.0 cannot carry (openpyxl refuses them); a lone CR would come back as LF.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HEADER_FONT = Font(bold=True, size=11)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def text_cell(sheet: WriteOnlyWorksheet, value: CellValue, *, bold: bool = False) -> Cell | CellValue:
    """What to append for `value`: a str always ends up stored as that text.

    openpyxl stores a str as text unless it starts with "=" (then a formula) or is an error code
    such as "#N/A"; those, and styled cells, get a cell typed as a string explicitly. Everything
    else goes in as a plain value, which write-only sheets write fastest (and skip when None).
    """
    if isinstance(value, str):
        value = _ILLEGAL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    formula_like = isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES)
    if not (formula_like or bold):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if bold:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    return cell


def _column(header: str) -> str:
    return column_letter(BANK_COLUMNS.index(header))


def add_bank_sheet(book: Workbook, questions: int) -> WriteOnlyWorksheet:
    """The question sheet with its header row: widths, frozen header, drop-downs. `questions` is
    the number of rows that will follow, for the sheet's size record."""
    sheet = book.create_sheet(BANK_SHEET)
    assert isinstance(sheet, WriteOnlyWorksheet)
    # Write-only sheets have these at run time (set up like a normal sheet's); the stubs omit them.
    layout: Any = sheet
    # A streamed sheet has no <dimension> unless told its size; without one, openpyxl's read-only
    # mode parses the whole sheet once just to find it (about a quarter of an import's time).
    size = f"A1:{column_letter(len(BANK_COLUMNS) - 1)}{questions + 1}"
    layout.calculate_dimension = lambda: size
    for header, width in COLUMN_WIDTHS.items():
        dimension = layout.column_dimensions[_column(header)]
        dimension.width = width
        if header not in NUMBER_COLUMNS:
            # Text format, so Excel keeps what is typed: "1月10日" stays text, not a date.
            dimension.number_format = "@"
    sheet.freeze_panes = "A2"
    last_row = MAX_ROWS + 1
    type_list = DataValidation(
        type="list",
        formula1='"{}"'.format(",".join(TYPE_WORDS.values())),
        allow_blank=True,
        errorStyle="warning",
        errorTitle="题型",
        error="请选择 单选题、多选题、判断题 或 填空题。",
        promptTitle="题型",
        prompt="单选题、多选题、判断题、填空题；不填则按答案推断。",
    )
    difficulty_list = DataValidation(
        type="list",
        formula1='"1,2,3,4,5"',
        allow_blank=True,
        errorStyle="warning",
        errorTitle="难度",
        error="难度为 1 到 5 的整数（1 最易，5 最难）。",
    )
    points_range = DataValidation(
        type="whole",
        operator="between",
        formula1="1",
        formula2=str(MAX_POINTS),
        allow_blank=True,
        errorStyle="warning",
        errorTitle="分值",
        error=f"分值为 1 到 {MAX_POINTS} 的整数。",
    )
    for validation, header in ((type_list, "题型"), (difficulty_list, "难度"), (points_range, "分值")):
        letter = _column(header)
        validation.add(f"{letter}2:{letter}{last_row}")
        layout.data_validations.append(validation)
    sheet.append([text_cell(sheet, header, bold=True) for header in BANK_COLUMNS])
    return sheet


def question_row(question: ParsedQuestion) -> list[CellValue]:
    """A question as the template's cells, in `BANK_COLUMNS` order."""
    options: list[CellValue] = [*question.options, *[None] * (len(LETTERS) - len(question.options))]
    return [
        TYPE_WORDS[question.type],
        question.stem,
        *options,
        answer_text(question),
        question.explanation or None,
        question.points,
        question.difficulty,
        question.area or None,
        TAG_SEPARATOR.join(question.tags) or None,
    ]


def append_question(sheet: WriteOnlyWorksheet, question: ParsedQuestion) -> None:
    sheet.append([text_cell(sheet, value) for value in question_row(question)])


def write_xlsx(questions: Sequence[ParsedQuestion]) -> bytes:
    book = Workbook(write_only=True)
    sheet = add_bank_sheet(book, len(questions))
    for question in questions:
        append_question(sheet, question)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
