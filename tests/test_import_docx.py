"""Word .docx question banks: paragraphs in document order read as numbered text, automatic
numbering, tables, runs, tabs and breaks; damaged or disguised files refused. The .docx files are
built here with zipfile and a minimal document.xml (no python-docx)."""

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings

from app.imports.common import ParseResult
from app.imports.files import FileRejected
from app.imports.parsers.docx import parse_docx
from app.imports.parsers.text import parse_text
from tests.test_import_text import Content, documents

FIXTURES = Path(__file__).parent / "fixtures" / "imports" / "text"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)


def runs(text: str) -> str:
    """Text as w:r runs: tabs as w:tab, line breaks as w:br."""
    parts: list[str] = []
    for number, line in enumerate(text.split("\n")):
        if number:
            parts.append("<w:r><w:br/></w:r>")
        for index, piece in enumerate(line.split("\t")):
            if index:
                parts.append("<w:r><w:tab/></w:r>")
            if piece:
                parts.append(f'<w:r><w:t xml:space="preserve">{escape(piece)}</w:t></w:r>')
    return "".join(parts)


def para(text: str = "", num: tuple[int, int] | None = None, inner: str = "") -> str:
    """A paragraph; `num` = (numId, ilvl) for Word's automatic numbering."""
    properties = ""
    if num is not None:
        properties = (
            f'<w:pPr><w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr></w:pPr>'
        )
    return f"<w:p>{properties}{runs(text)}{inner}</w:p>"


def document_xml(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}" xmlns:mc="{MC_NS}"><w:body>{body}'
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>'
    )


def docx(body: str | None, numbering: str | None = None, document: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        if document is not None:
            archive.writestr("word/document.xml", document)
        elif body is not None:
            archive.writestr("word/document.xml", document_xml(body))
        if numbering is not None:
            archive.writestr("word/numbering.xml", numbering)
    return buffer.getvalue()


def paragraphs(*texts: str) -> str:
    return "".join(para(text) for text in texts)


def codes(result: ParseResult) -> list[tuple[int | None, str]]:
    return [(found.line, found.code) for found in result.issues]


def test_good_fixture_as_paragraphs_reads_like_the_text() -> None:
    text = (FIXTURES / "good.txt").read_text("utf-8")
    from_text = parse_text(text.encode())
    result = parse_docx(docx(paragraphs(*text.split("\n"))))
    assert result.format == "docx"
    assert result.issues == []
    assert len(result.questions) == 40
    # one paragraph per line, so paragraph numbers are the text's line numbers
    assert result.questions == from_text.questions


def test_runs_tabs_and_breaks() -> None:
    body = (
        '<w:p><w:r><w:t>1.【单</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">选题】防止'
        "干预司法“三个规定”的核心做法是（ ）。</w:t></w:r></w:p>"
        + para("A.逢问必录\tB.选择性记录")
        + para("答案：A\n解析：全程留痕。")
        + para("难度：3")
    )
    result = parse_docx(docx(body))
    assert result.issues == []
    [question] = result.questions
    assert question.stem == "防止干预司法“三个规定”的核心做法是（ ）。"
    assert question.options == ["逢问必录", "选择性记录"]
    assert (question.answer, question.explanation, question.difficulty) == (0, "全程留痕。", 3)


def test_issue_lines_are_paragraph_numbers() -> None:
    body = paragraphs("测试题", "1.【单选题】题干", "A. 甲", "B. 乙\nB. 丙", "答案：A", "难度：9")
    result = parse_docx(docx(body))
    # the second B is on a line break inside paragraph 4
    assert codes(result) == [(4, "duplicate_option_letter"), (6, "invalid_difficulty")]
    assert result.rejected[0].line == 2


@pytest.mark.parametrize(
    ("font", "char", "expected"),
    [
        ("Wingdings 2", "F050", True),
        ("Wingdings 2", "F04F", False),
        ("Wingdings", "F0FC", True),
        ("Wingdings", "F0FB", False),
    ],
)
def test_true_false_marks_inserted_as_symbols(font: str, char: str, expected: bool) -> None:
    symbol = f'<w:r><w:sym w:font="{font}" w:char="{char}"/></w:r>'
    body = para("1.【判断题】领导干部可以私下过问案件。") + para("答案：", inner=symbol)
    result = parse_docx(docx(body))
    assert result.issues == []
    assert [q.answer for q in result.questions] == [expected]


def test_paragraphs_inside_tables_in_document_order() -> None:
    table = (
        "<w:tbl><w:tblPr/><w:tr><w:tc><w:tcPr/>"
        + para("A. 逢问必录")
        + "</w:tc><w:tc>"
        + para("B. 选择性记录")
        + "</w:tc></w:tr></w:tbl>"
    )
    body = para("1.【单选题】题干") + table + para("答案：B")
    result = parse_docx(docx(body))
    assert result.issues == []
    assert [(q.options, q.answer) for q in result.questions] == [(["逢问必录", "选择性记录"], 1)]


def test_property_blocks_fallbacks_and_deleted_text_add_no_text() -> None:
    tab_stops = '<w:pPr><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr>'
    alternate = (
        "<mc:AlternateContent><mc:Choice><w:r><w:t>（ ）</w:t></w:r></mc:Choice>"
        "<mc:Fallback><w:r><w:t>（ ）</w:t></w:r></mc:Fallback></mc:AlternateContent>"
    )
    deleted = '<w:del w:id="1"><w:r><w:delText>删掉的字</w:delText></w:r></w:del>'
    body = f"<w:p>{tab_stops}{runs('1.【单选题】题干')}{deleted}{alternate}</w:p>" + paragraphs(
        "A. 甲", "B. 乙", "答案：A"
    )
    [question] = parse_docx(docx(body)).questions
    assert question.stem == "题干（ ）"


def test_paragraph_in_a_text_box_comes_after_its_host() -> None:
    box = "<w:r><w:pict><w:txbxContent>" + para("A. 甲") + "</w:txbxContent></w:pict></w:r>"
    body = para("1.【单选题】题干", inner=box) + paragraphs("B. 乙", "答案：B")
    result = parse_docx(docx(body))
    assert result.issues == []
    assert [(q.stem, q.options, q.answer) for q in result.questions] == [("题干", ["甲", "乙"], 1)]


def test_auto_numbered_questions_without_numbering_definitions() -> None:
    # The "1." and "2." are Word's numbering: not in the text, and no numbering.xml to render them.
    body = (
        para("【单选题】防止干预司法“三个规定”的核心做法是（ ）。", num=(1, 0))
        + paragraphs("A. 逢问必录", "B. 选择性记录", "答案：A", "解析：全程留痕。")
        + para("领导干部过问案件，司法人员应当如何处理（ ）。", num=(1, 0))
        + paragraphs("A. 全面如实记录", "B. 选择性记录", "答案：A")
        + para("领导干部可以私下过问案件。", num=(1, 0))
        + paragraphs("答案：错")
    )
    result = parse_docx(docx(body))
    assert result.issues == []
    assert [(q.line, q.type, q.answer) for q in result.questions] == [
        (1, "single", 0),
        (6, "single", 0),
        (10, "true_false", False),
    ]
    assert result.questions[0].explanation == "全程留痕。"


NUMBERING = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering xmlns:w="{W_NS}">
  <w:abstractNum w:abstractNumId="0">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="1">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
    <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="upperLetter"/><w:lvlText w:val="%2."/></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="2">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl>
  </w:abstractNum>
  <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
  <w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
  <w:num w:numId="3"><w:abstractNumId w:val="2"/></w:num>
  <w:num w:numId="4"><w:abstractNumId w:val="1"/>
    <w:lvlOverride w:ilvl="0"><w:startOverride w:val="10"/></w:lvlOverride>
  </w:num>
</w:numbering>"""


def test_auto_numbering_is_rendered_from_numbering_definitions() -> None:
    # Headings 一、二、, questions 1. 2. (level 0) with options A. B. C. (level 1, restarting per
    # question): all from Word's numbering, none of it in the text.
    body = (
        para("单选题", num=(1, 0))
        + para("防止干预司法“三个规定”的核心做法是（ ）。", num=(2, 0))
        + para("逢问必录", num=(2, 1))
        + para("选择性记录", num=(2, 1))
        + para("答案：A")
        + para("司法人员应当（ ）。", num=(2, 0))
        + para("全面如实记录", num=(2, 1))
        + para("选择性记录", num=(2, 1))
        + para("不记录", num=(2, 1))
        + para("答案：A")
        + para("判断题", num=(1, 0))
        + para("领导干部可以私下过问案件。", num=(4, 0))
        + para("答案：错")
        + para("一条说明", num=(3, 0))
    )
    result = parse_docx(docx(body, numbering=NUMBERING))
    assert codes(result) == [(14, "text_unexpected_line")]  # the bulleted note after an answer
    assert [(q.line, q.type, q.options, q.answer) for q in result.questions] == [
        (2, "single", ["逢问必录", "选择性记录"], 0),
        (6, "single", ["全面如实记录", "选择性记录", "不记录"], 0),
        (12, "true_false", [], False),
    ]


def test_numbering_rendered_as_text_matches_word() -> None:
    from app.imports.parsers import docx as module

    assert [module._chinese(n) for n in (1, 9, 10, 11, 20, 21, 99)] == [
        "一",
        "九",
        "十",
        "十一",
        "二十",
        "二十一",
        "九十九",
    ]
    assert [module._letters(n) for n in (1, 8, 26, 27)] == ["A", "H", "Z", "AA"]


def test_unsupported_type_in_a_document() -> None:
    body = paragraphs(
        "1.【案例分析题】某法官接到领导电话……请分析。", "答案：应当记录。", "2.【判断题】题干", "答案：对"
    )
    result = parse_docx(docx(body))
    assert codes(result) == [(1, "unsupported_type")]
    assert len(result.questions) == 1


# Refused files -----------------------------------------------------------------------------------


def refused(data: bytes) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        parse_docx(data)
    return caught.value


def test_not_a_zip() -> None:
    error = refused("1.【单选题】这是改了扩展名的文本".encode())
    assert error.code == "not_a_zip"
    assert error.params == {"ext": ".docx"}


def test_old_word_binary_renamed() -> None:
    assert refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)).code == "not_a_zip"


def test_zip_without_document_xml() -> None:
    error = refused(docx(None))
    assert error.code == "corrupt_file"
    assert "word/document.xml" in error.params["detail"]


def test_document_xml_not_well_formed() -> None:
    assert refused(docx(None, document="<w:document><w:body><w:p>")).code == "corrupt_file"


def test_document_without_body() -> None:
    assert refused(docx(None, document=f'<w:document xmlns:w="{W_NS}"/>')).code == "corrupt_file"


def test_xml_that_is_not_a_word_document() -> None:
    sheet = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    assert refused(docx(None, document=sheet)).code == "corrupt_file"


def test_zip_bomb_is_refused_before_reading() -> None:
    padding = " " * (4 * 1024 * 1024)  # compresses more than 1000:1
    document = document_xml(paragraphs("1.【判断题】题干", "答案：对") + f"<!--{padding}-->")
    assert refused(docx(None, document=document)).code == "zip_ratio"


def test_xml_entity_expansion_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>'
    )
    assert refused(docx(None, document=bomb)).code == "corrupt_file"


def test_damaged_numbering_is_refused() -> None:
    assert (
        refused(docx(paragraphs("1.【判断题】题干", "答案：对"), numbering="<w:numbering>")).code
        == "corrupt_file"
    )


def test_document_without_questions() -> None:
    assert refused(docx(paragraphs("应知应会测试题", ""))).code == "no_questions"


def test_deeply_nested_xml_does_not_exhaust_the_stack() -> None:
    depth = 5000
    body = "<w:sdt>" * depth + paragraphs("1.【判断题】题干", "答案：对") + "</w:sdt>" * depth
    result = parse_docx(docx(body))
    assert [q.answer for q in result.questions] == [True]


# Round trip through Word paragraphs --------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(documents())
def test_rendered_content_in_paragraphs_parses_back_the_same(document: tuple[list[Content], str]) -> None:
    questions, text = document
    result = parse_docx(docx(paragraphs(*text.split("\n"))))
    assert result.issues == [], text
    assert [q.content() for q in result.questions] == [vars(q) for q in questions], text
