"""The Excel template for roster (花名册) imports: the roster sheet first (Excel opens on it) with
drop-downs and two example rows, and an instruction sheet in Chinese.

Headers, role and status words come from `app.imports.roster`, the module that reads the sheet;
a test fills the template in and imports it, so the two cannot drift.
"""

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.imports.files import MAX_ROWS, MAX_UPLOAD_BYTES
from app.imports.roster import (
    ACTIVE_WORDS,
    INACTIVE_WORDS,
    MAX_NAME,
    MAX_POLICE_NUMBER,
    MIN_POLICE_NUMBER,
    PHONE,
    POLICE_NUMBER,
    REQUIRED_COLUMNS,
    ROLE,
    ROLE_LABELS,
    ROLE_WORDS,
    ROSTER_COLUMNS,
    STATUS,
)
from app.units.models import Role

ROSTER_SHEET = "花名册"
INSTRUCTIONS_SHEET = "填写说明"
# Rows that get the drop-downs and the text format; more rows can be added by copying.
_FORMATTED_ROWS = 2000

ROLE_CHOICES = tuple(ROLE_LABELS[role] for role in (Role.officer, Role.unit_admin, Role.inspector))
STATUS_CHOICES = ("在职", "离职", "调离", "退休", "停用")
assert all(word in ACTIVE_WORDS + INACTIVE_WORDS for word in STATUS_CHOICES)
assert all(any(label in words for words in ROLE_WORDS.values()) for label in ROLE_CHOICES)

# The examples use the demo city's names; both import as they stand.
EXAMPLES = (
    ("公安局", "江川市/东山县", "035127", "张明", "138 0000 1234", "干警", "在职"),
    ("城关派出所", "江川市/东山县/公安局", "035128", "李华", "", "", "离职"),
)

_WIDTHS = {"单位": 24, "上级单位": 28, "警号": 14, "姓名": 12, "手机号": 16, "角色": 14, "状态": 10}

_INSTRUCTIONS: tuple[tuple[str, str], ...] = (
    ("怎么填", f"在“{ROSTER_SHEET}”工作表中每人填一行，第一行是表头，请勿修改表头。"),
    ("", "两行示例（灰色斜体）请删除或直接覆盖：保留的示例会被当作真实人员导入。完全空白的行会被跳过。"),
    ("", "带 * 的列必须填写：" + "、".join(REQUIRED_COLUMNS) + "。"),
    (
        "单位",
        "人员所在的单位。可写单位名称（如 城关派出所）、从市级开始的完整路径（如 江川市/东山县/公安局，"
        "各级用 / 分隔），或单位代码。同名单位不止一个时（如各县都有公安局），请写完整路径或单位代码，"
        "或在“上级单位”列注明上级。",
    ),
    (
        "上级单位",
        "选填。单位已存在时可不填，填了用于区分同名单位。单位不存在时必须填写上级单位，导入时将在其下"
        "新建该单位；上级单位也可以是本文件中另一行新建的单位。预览会列出所有将新建的单位，请核对。",
    ),
    (
        "警号",
        f"必填，{MIN_POLICE_NUMBER} 到 {MAX_POLICE_NUMBER} 位数字或字母，每人唯一，同一文件中不能重复。"
        "新人员以警号作为登录名。警号列已设为文本格式，以 0 开头的警号不会丢失开头的 0；"
        "从其他表格粘贴时请使用“选择性粘贴—数值”。",
    ),
    ("姓名", f"必填，不超过 {MAX_NAME} 字。"),
    (
        "手机号",
        "选填，11 位手机号，可带空格或短横线。已在系统中的人员留空时保留原手机号。",
    ),
    (
        "角色",
        "选填，下拉选择："
        + "、".join(ROLE_CHOICES)
        + "。留空时新人员为干警，已有人员保持原角色。"
        + "也可写 "
        + "、".join(w for w in ROLE_WORDS[Role.officer] if w != "officer")
        + "（均为干警）、评估验收组（即检查组）。"
        + "管理员不能通过花名册设置。单位管理员导入时只能导入干警。",
    ),
    (
        "状态",
        "选填，下拉选择："
        + "、".join(STATUS_CHOICES)
        + "。留空即为在职。离职、调离、退休、停用的人员会被停用（不删除，历史成绩和参与率统计保留，"
        "其登录立即失效）；在职的已停用人员会被重新启用。",
    ),
    (
        "再次导入",
        "按警号识别人员：已有人员的姓名、手机号、单位、角色、状态与文件不同时会更新，预览中逐项列出"
        "“原值→新值”；相同的不做改动，同一文件重复导入不会产生重复人员。",
    ),
    (
        "停用未列出人员",
        "上传时可勾选“停用文件中未列出的干警”：文件中出现的各单位里，在职但不在文件中的干警将被停用"
        "（只看文件中写到的单位本身，不含其下级单位）。预览会列出这些人员，请核对后再提交。",
    ),
    (
        "初始密码",
        "新人员的初始密码随机生成，只在提交成功时显示一次，请当场导出或抄录并分发；"
        "人员首次登录后必须修改密码。",
    ),
    (
        "预览与提交",
        "导入时先预览：逐行列出问题（行号、列名、原因和改法），确认无误后再提交；提交要么全部导入，"
        "要么明确选择只导入无误的行，不会导入半个文件。",
    ),
    (
        "文件",
        f"文件不超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，最多 {MAX_ROWS} 行。"
        "也可另存为 CSV（UTF-8 或 GBK/GB18030 编码）导入，列与本模板相同。",
    ),
)


def _header(column: str) -> str:
    return f"{column}*" if column in REQUIRED_COLUMNS else column


def roster_template() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = ROSTER_SHEET
    sheet.append([_header(column) for column in ROSTER_COLUMNS])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
    sheet.freeze_panes = "A2"

    example_font = Font(italic=True, color="808080")
    for example in EXAMPLES:
        sheet.append(list(example))
        for cell in sheet[sheet.max_row]:
            cell.font = example_font

    for index, column in enumerate(ROSTER_COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _WIDTHS.get(column, 14)
        if column in (POLICE_NUMBER, PHONE):
            # Text, so Excel keeps leading zeros and does not show long numbers as 1.38E+10.
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, 2 + len(EXAMPLES)):
                sheet.cell(row=row, column=index).number_format = "@"

    for column, choices in ((ROLE, ROLE_CHOICES), (STATUS, STATUS_CHOICES)):
        letter = get_column_letter(ROSTER_COLUMNS.index(column) + 1)
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(choices) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=f"{column}无效",
            error="请从下拉列表中选择：" + "、".join(choices),
        )
        validation.add(f"{letter}2:{letter}{_FORMATTED_ROWS}")
        sheet.add_data_validation(validation)

    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    notes.append(["项目", "说明"])
    for cell in notes[1]:
        cell.font = bold
        cell.fill = fill
    for topic, text in _INSTRUCTIONS:
        notes.append([topic, text])
        notes.cell(row=notes.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        notes.cell(row=notes.max_row, column=1).alignment = Alignment(vertical="top")
        notes.cell(row=notes.max_row, column=1).font = bold
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 100
    notes.freeze_panes = "A2"

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
