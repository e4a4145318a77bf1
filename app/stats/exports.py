"""Report tables as xlsx and CSV: pure functions of the report objects.

Formula-safe: a text cell is always stored as text in xlsx (never a formula), and in CSV any
cell starting with = + - @ or a tab/CR gets a leading apostrophe, as OWASP advises, so Excel shows
it as the text it is instead of running it. CSV is UTF-8 with a BOM so Excel opens it right.
"""

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

from app.imports.writers.xlsx import text_cell
from app.stats.schemas import BAND_NAMES, ItemAnalysisOut, UnitFigures, UnitReport

Cell = str | int | float | None
Table = tuple[str, list[str], list[list[Cell]]]  # (sheet name, headers, rows)

_RISKY_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_RISKY_START):
        return "'" + value
    return value


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("达标" if value else "未达标")


def unit_rows(report: UnitReport) -> Table:
    headers = [
        "单位",
        "应参加人数",
        "参加人数",
        "参与率%",
        "计分人次",
        "平均分%",
        "中位数%",
        "及格率%",
        *[f"{band}分" for band in BAND_NAMES],
        "样本过小",
        "是否达标",
    ]

    def row(label: str, f: UnitFigures) -> list[Cell]:
        return [
            label,
            f.roster,
            f.participants,
            f.participation_percent,
            f.scored,
            f.mean_percent,
            f.median_percent,
            f.pass_rate_percent,
            *[f.bands.get(band, 0) for band in BAND_NAMES],
            "是" if f.small_sample else "",
            _yes_no(f.targets.met if f.targets else None),
        ]

    rows = [row(f"{report.unit.name}（合计）", report.summary)]
    if report.own is not None:
        rows.append(row(f"{report.unit.name}（本级）", report.own))
    rows.extend(row(child.name, child) for child in report.children)
    return "单位", headers, rows


def area_rows(report: UnitReport) -> Table:
    headers = ["知识点", "得分", "满分", "掌握率%"]
    rows: list[list[Cell]] = [[a.full_name, a.awarded, a.possible, a.mastery_percent] for a in report.areas]
    return "知识点", headers, rows


def question_rows(report: UnitReport) -> Table:
    headers = ["题目编号", "题干", "题型", "知识点", "作答人次", "得分率%"]
    rows: list[list[Cell]] = [
        [q.question_id, q.stem, q.type, q.knowledge_area, q.answered, q.facility_percent]
        for q in report.weakest_questions
    ]
    return "薄弱题目", headers, rows


def non_participant_rows(report: UnitReport) -> Table:
    headers = ["姓名", "警号", "单位"]
    rows: list[list[Cell]] = [[p.name, p.police_number, p.unit_name] for p in report.non_participants.items]
    return "未参加人员", headers, rows


REPORT_TABLES = {
    "units": unit_rows,
    "areas": area_rows,
    "questions": question_rows,
    "non_participants": non_participant_rows,
}


def item_rows(analysis: ItemAnalysisOut) -> Table:
    headers = [
        "题目编号",
        "题干",
        "题型",
        "知识点",
        "作答人次",
        "难度系数(得分率)%",
        "标准差%",
        "区分度",
        "区分效率",
        "提示",
    ]
    rows: list[list[Cell]] = [
        [
            q.question_id,
            q.stem,
            q.type,
            q.knowledge_area,
            q.count,
            q.facility,
            q.sd,
            q.discrimination_index,
            q.discriminative_efficiency,
            "、".join(q.flags),
        ]
        for q in analysis.questions
    ]
    return "题目分析", headers, rows


def test_rows(analysis: ItemAnalysisOut) -> Table:
    t = analysis.test
    rows: list[list[Cell]] = [
        ["计分人次", analysis.attempts],
        ["平均分%", t.mean],
        ["中位数%", t.median],
        ["标准差%", t.sd],
        ["偏度", t.skewness],
        ["峰度", t.kurtosis],
        ["内部一致性系数(CIC)%", t.cic],
        ["误差率%", t.error_ratio],
        ["标准误%", t.standard_error],
    ]
    return "整卷统计", ["指标", "数值"], rows


def to_xlsx(tables: Sequence[Table]) -> bytes:
    book = Workbook(write_only=True)
    for name, headers, rows in tables:
        sheet = book.create_sheet(name)
        sheet.append([text_cell(sheet, h, bold=True) for h in headers])
        for row in rows:
            sheet.append([text_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(table: Table) -> bytes:
    _, headers, rows = table
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_safe(h) for h in headers])
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
