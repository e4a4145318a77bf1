"""The lean xlsx reader on workbooks written the way Excel writes them (shared strings, styles,
rich text, gaps), and its refusals (DTDs, entity bombs, missing parts)."""

import io
import zipfile
from datetime import datetime

import pytest

from app.imports.files import FileRejected, read_xlsx

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook {NS} {RNS}><sheets>
<sheet name="填写说明" sheetId="1" r:id="rId1"/><sheet name="题库" sheetId="2" r:id="rId2"/>
</sheets></workbook>"""
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>
<Relationship Id="rId4" Type="{REL}/styles" Target="styles.xml"/>
</Relationships>"""
SHARED = f"""<?xml version="1.0" encoding="UTF-8"?>
<sst {NS} count="4" uniqueCount="4">
<si><t>说明</t></si>
<si><t>题干</t></si>
<si><r><t>逢问</t></r><r><rPr><b/></rPr><t>必录</t></r><rPh sb="0" eb="1"><t>フリガナ</t></rPh></si>
<si><t xml:space="preserve"> 有空格 </t></si>
</sst>"""
STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<styleSheet {NS}><numFmts count="1">
<numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>
<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="176"/><xf numFmtId="2"/>
</cellXfs></styleSheet>"""
SHEET1 = f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
SHEET2 = f"""<worksheet {NS}><dimension ref="A1"/><sheetData>
<row r="1"><c r="A1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>内联</t></is></c></row>
<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3"><v>2</v></c><c r="C3" s="1"><v>46032</v></c>
<c r="D3" s="2"><v>46032</v></c><c r="E3" s="3"><v>1.5</v></c><c r="F3" t="b"><v>1</v></c>
<c r="G3" t="str"><f>A3&amp;"x"</f><v>逢问必录x</v></c><c r="H3" t="e"><v>#N/A</v></c><c r="I3"><f>1+1</f></c>
<c r="J3" t="s"><v>3</v></c></row>
</sheetData></worksheet>"""


def workbook(**replace: str) -> bytes:
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/sharedStrings.xml": SHARED,
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": SHEET1,
        "xl/worksheets/sheet2.xml": SHEET2,
    }
    parts.update(replace)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            if text:
                archive.writestr(name, text)
    return buffer.getvalue()


def test_reads_values_as_excel_shows_them() -> None:
    table = read_xlsx(workbook(), ("题库",))
    assert table.sheet == "题库" and table.header_row == 1
    assert table.headers == ["题干", "", "内联"]
    rows = list(table.rows)
    assert [number for number, _ in rows] == [3]
    values = rows[0][1]
    assert values[0] == "逢问必录"  # rich-text runs joined, the phonetic guide left out
    assert values[1] == "2"
    assert values[2] == values[3] == datetime(2026, 1, 10).isoformat(sep=" ")  # built-in and custom date
    assert values[4] == "1.5" and values[5] == "TRUE"
    assert values[6] == "逢问必录x"  # a formula gives its cached value
    assert values[7] == "#N/A" and values[8] == ""  # an error value; a formula never calculated
    assert values[9] == "有空格"


def test_the_first_sheet_when_none_is_preferred() -> None:
    assert read_xlsx(workbook()).headers == ["说明"]


@pytest.mark.parametrize(
    "part",
    [
        # billion laughs: refused before any entity could be expanded
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        f"<sst {NS}><si><t>&lol2;</t></si></sst>",
        # an external entity
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f"<sst {NS}><si><t>&e;</t></si></sst>",
    ],
)
def test_a_dtd_anywhere_in_the_package_is_refused(part: str) -> None:
    with pytest.raises(FileRejected) as refused:
        read_xlsx(workbook(**{"xl/sharedStrings.xml": part}))
    assert refused.value.code == "corrupt_file" and "DTD" in str(refused.value.params["detail"])


def test_broken_xml_and_missing_parts_are_refused() -> None:
    for replace in ({"xl/worksheets/sheet2.xml": "<worksheet><sheetData><row>"}, {"xl/workbook.xml": ""}):
        with pytest.raises(FileRejected) as refused:
            table = read_xlsx(workbook(**replace), ("题库",))
            list(table.rows)
        assert refused.value.code in ("corrupt_file", "no_questions")
