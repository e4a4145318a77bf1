"""The Excel template for question banks: the question sheet (first, so Excel opens on it) with
drop-downs and one example per question type, and an instruction sheet in Chinese.

It is written by the same code as the xlsx export (`app.imports.writers.xlsx`) with the columns
the parser reads (`BANK_COLUMNS`); a test fills it in and imports it, so they cannot drift.
"""

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app.bank.validation import BLANK
from app.imports.common import (
    DEFAULT_DIFFICULTY,
    DEFAULT_POINTS,
    MAX_AREA,
    MAX_AREA_SEGMENT,
    MAX_EXPLANATION,
    MAX_OPTION,
    MAX_POINTS,
    MAX_STEM,
    MAX_TAG,
    MAX_TAGS,
    ParsedQuestion,
)
from app.imports.files import MAX_ROWS, MAX_UPLOAD_BYTES
from app.imports.parsers.tabular import BANK_SHEET, INSTRUCTIONS_SHEET, TYPE_WORDS
from app.imports.writers.xlsx import add_bank_sheet, append_question, text_cell

# One example per type, written from the sample bank's facts; each imports as it stands.
EXAMPLES: tuple[ParsedQuestion, ...] = (
    ParsedQuestion(
        type="single",
        stem="防止干预司法“三个规定”的核心要求是什么？",
        options=["逢问必录", "只记录领导干部过问", "事后择要补记", "口头报告即可"],
        answer=0,
        explanation="“三个规定”的核心是逢问必录：凡过问案件的情况，一律记录在案。",
        difficulty=2,
        points=1,
        area="警示教育/三个规定",
        tags=["三个规定", "逢问必录"],
    ),
    ParsedQuestion(
        type="multiple",
        stem="政法队伍教育整顿的四项任务包括（ ）。",
        options=["筑牢政治忠诚", "清除害群之马", "整治顽瘴痼疾", "弘扬英模精神", "加强装备建设"],
        answer=[0, 1, 2, 3],
        explanation="四项任务是筑牢政治忠诚、清除害群之马、整治顽瘴痼疾、弘扬英模精神。",
        difficulty=2,
        points=2,
        area="教育整顿基本知识/任务",
        tags=["四项任务"],
    ),
    ParsedQuestion(
        type="true_false",
        stem="12337 是政法干警违纪违法问题的举报平台。",
        options=[],
        answer=True,
        explanation="12337 是受理政法干警违纪违法问题举报的平台。",
        difficulty=1,
        points=1,
        area="教育整顿基本知识",
        tags=[],
    ),
    ParsedQuestion(
        type="fill_blank",
        stem=f"中国人民警察节是每年的{BLANK}，首个中国人民警察节在{BLANK}年。",
        options=[],
        answer=[["1月10日", "一月十日"], ["2021"]],
        explanation="中国人民警察节为每年 1 月 10 日，2021 年首次举行。",
        difficulty=2,
        points=2,
        area="政治教育",
        tags=["人民警察节"],
    ),
)

_POINTS_TEXT = "，".join(f"{word} {DEFAULT_POINTS[kind]} 分" for kind, word in TYPE_WORDS.items())

_GENERAL = (
    f"请在“{BANK_SHEET}”工作表中填写，每行一道题；第一行是表头，请勿修改表头文字或列的含义。",
    "示例行可以直接覆盖或删除；保留的示例会作为题目导入。完全空白的行会被跳过。",
    "单元格请填写内容本身，不要用公式（公式按其计算结果读取，没有计算结果的公式视为空）。",
    "导入时先预览：逐行列出问题（行号、列名、原因和改法），确认后再提交；提交要么全部导入，"
    "要么明确选择只导入无误的题目，不会导入半个文件。",
    "题干和选项都相同的题目视为重复：同一文件重复导入不会产生重复题目。",
    f"文件不超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，最多 {MAX_ROWS} 行；"
    "也可另存为 CSV（UTF-8 或 GBK/GB18030 编码，逗号或制表符分隔）导入，列与本模板相同。",
)

_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (
        "题型",
        "选填",
        "单选题、多选题、判断题、填空题（也可写 单选、多选、判断、填空）。"
        "不填时按答案推断：有选项且答案是一个字母为单选题，多个字母为多选题；"
        "没有选项且答案是 正确/错误 等为判断题；题干中有 ____ 为填空题；无法唯一判断时报错。"
        "简答题、论述题等其他题型不支持，导入时逐题报错。",
    ),
    (
        "题干",
        "必填",
        f"题目内容，不超过 {MAX_STEM} 字。填空题用 ____（至少三个下划线）标出每个空。",
    ),
    (
        "选项A～选项H",
        "选择题必填",
        "单选题、多选题至少 2 个选项，最多 8 个（A 到 H）；须从 选项A 起连续填写，中间不能留空；"
        f"同一题的选项不能相同；每个选项不超过 {MAX_OPTION} 字。判断题和填空题不填选项。",
    ),
    (
        "答案",
        "必填",
        "单选题写一个字母，如 B。多选题写两个及以上字母，如 ABD，也可写 A,B,D、A、B、D 或 A;B;D。"
        "判断题写 正确/错误，也可写 对/错、√/×、是/否、T/F。"
        "填空题按空的顺序填写：多个空用 | 分隔，同一个空有多个可接受的答案用 ; 分隔，"
        "如 1月10日;一月十日|2021（第一空接受“1月10日”或“一月十日”，第二空为“2021”）。",
    ),
    ("解析", "选填", f"答案的依据，建议写明所考查的知识，不超过 {MAX_EXPLANATION} 字。"),
    ("分值", "选填", f"1 到 {MAX_POINTS} 的整数；不填时{_POINTS_TEXT}。"),
    (
        "难度",
        "选填",
        f"1 到 5 的整数（1 最易，5 最难），也可写 易、较易、中、较难、难；不填为 {DEFAULT_DIFFICULTY}。",
    ),
    (
        "知识点",
        "选填",
        "知识点的完整路径，各级用 / 分隔，如 警示教育/三个规定；不存在的知识点在导入时新建（预览中列出）；"
        f"不填则归入导入时选择的默认知识点。每级不超过 {MAX_AREA_SEGMENT} 字，全长不超过 {MAX_AREA} 字。",
    ),
    (
        "标签",
        "选填",
        f"多个标签用逗号、顿号、分号或空格分隔，每题最多 {MAX_TAGS} 个，每个不超过 {MAX_TAG} 字。",
    ),
)


def _add_instructions(book: Workbook) -> None:
    sheet = book.create_sheet(INSTRUCTIONS_SHEET)
    assert isinstance(sheet, WriteOnlyWorksheet)
    wrap = Alignment(wrap_text=True, vertical="top")
    layout: Any = sheet  # write-only sheets have column_dimensions at run time; the stubs omit it
    for letter, width in (("A", 16), ("B", 12), ("C", 90)):
        layout.column_dimensions[letter].width = width
    sheet.append([text_cell(sheet, "题库导入模板填写说明", bold=True)])
    sheet.append([])
    for number, text in enumerate(_GENERAL, start=1):
        sheet.append([f"{number}. {text}"])
    sheet.append([])
    sheet.append([text_cell(sheet, header, bold=True) for header in ("列名", "是否必填", "填写方法")])
    for column, required, how in _COLUMNS:
        wrapped = WriteOnlyCell(sheet, value=how)
        wrapped.alignment = wrap
        sheet.append([column, required, wrapped])


def bank_template() -> bytes:
    """The question-bank template as xlsx bytes (what `yingzhi bank-template` writes)."""
    book = Workbook(write_only=True)
    sheet = add_bank_sheet(book, len(EXAMPLES))
    for example in EXAMPLES:
        append_question(sheet, example)
    _add_instructions(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
