"""Word .docx question banks: the paragraphs, in document order, read as numbered text.

Each paragraph (w:p, also inside tables) becomes one or more lines for `parse_text_lines`, all
numbered with the paragraph's 1-based position, so issues say "paragraph 12". Text comes from
w:t, with w:tab as a tab and w:br as a line break. Word's automatic numbering (w:numPr) keeps
the "1." or "A." out of the text; where numbering.xml defines it, the number is rendered back
as Word shows it, and the text parser also starts a question at an unnumbered paragraph with a
type tag or followed by options. XML is read with defusedxml only.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError
from zipfile import BadZipFile, ZipFile
from zlib import error as ZlibError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring, iterparse

from app.imports.common import ParseResult
from app.imports.files import FileRejected, open_zip
from app.imports.parsers.text import parse_text_lines

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P = _W + "p"
_T = _W + "t"
_TAB = _W + "tab"
_BREAKS = (_W + "br", _W + "cr")
_SYM = _W + "sym"
# True/false marks inserted as symbols (Insert > Symbol) are a font and a character code, not
# text: the check and cross of Wingdings and Wingdings 2, the usual ones in Chinese documents.
_SYMBOLS = {
    ("wingdings", "fc"): "√",
    ("wingdings", "fe"): "√",
    ("wingdings", "fb"): "×",
    ("wingdings", "fd"): "×",
    ("wingdings 2", "50"): "√",
    ("wingdings 2", "52"): "√",
    ("wingdings 2", "4f"): "×",
    ("wingdings 2", "53"): "×",
    ("wingdings 2", "54"): "×",
}
_VAL = _W + "val"
# Property blocks hold w:tab tab-stop definitions, not text; a Fallback repeats its Choice.
_SKIPPED = (
    _W + "pPr",
    _W + "rPr",
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
)

DOCUMENT = "word/document.xml"
NUMBERING = "word/numbering.xml"
# numbering.xml is read whole; real ones are a few kilobytes. document.xml is streamed.
MAX_PART_BYTES = 5 * 1024 * 1024
_READ_ERRORS = (BadZipFile, ZlibError, OSError, EOFError, NotImplementedError, RuntimeError)


def _read_xml(archive: ZipFile, name: str) -> Element | None:
    """A small entry's root element, None if the entry is absent; a damaged entry refuses the file."""
    try:
        if archive.getinfo(name).file_size > MAX_PART_BYTES:
            raise FileRejected("corrupt_file", detail=f"{name}: too large")
        raw = archive.read(name)
    except KeyError:
        return None
    except _READ_ERRORS as exc:
        raise FileRejected("corrupt_file", detail=f"{name}: {type(exc).__name__}") from exc
    try:
        root: Element = fromstring(raw)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise FileRejected("corrupt_file", detail=f"{name}: {type(exc).__name__}") from exc
    return root


def _children(element: Element) -> Iterator[Element]:
    """Every descendant in document order, skipping property blocks; iterative, so deeply nested
    XML cannot exhaust the stack."""
    stack = [iter(element)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        if child.tag in _SKIPPED:
            continue
        yield child
        if child.tag != _P:  # a paragraph in a text box inside this one is a paragraph of its own
            stack.append(iter(child))


def _paragraphs_from(element: Element) -> Iterator[Element]:
    """The paragraphs in `element` (itself included), in document order."""
    if element.tag in _SKIPPED:
        return
    if element.tag == _P:
        yield element
    stack = [iter(element)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        if child.tag in _SKIPPED:
            continue
        if child.tag == _P:
            yield child
        stack.append(iter(child))


def _paragraph_text(paragraph: Element) -> str:
    parts: list[str] = []
    for element in _children(paragraph):
        if element.tag == _T:
            parts.append(element.text or "")
        elif element.tag == _TAB:
            parts.append("\t")
        elif element.tag in _BREAKS:
            parts.append("\n")
        elif element.tag == _SYM:
            font = (element.get(_W + "font") or "").strip().casefold()
            code = (element.get(_W + "char") or "")[-2:].casefold()
            parts.append(_SYMBOLS.get((font, code), ""))
    return "".join(parts)


# Automatic numbering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    format: str  # decimal, upperLetter, chineseCounting, bullet ...
    text: str  # "%1." , "（%1）", "%1、"
    start: int


_CHINESE_DIGITS = "零一二三四五六七八九"


def _chinese(number: int) -> str:
    if not 0 < number < 100:
        return str(number)
    tens, ones = divmod(number, 10)
    text = ("" if tens == 1 else _CHINESE_DIGITS[tens]) + "十" if tens else ""
    return text + (_CHINESE_DIGITS[ones] if ones else "")


def _letters(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA, as Word counts."""
    if number < 1:
        return str(number)
    return chr(ord("A") + (number - 1) % 26) * ((number - 1) // 26 + 1)


def _formatted(number: int, fmt: str) -> str:
    if fmt == "upperLetter":
        return _letters(number)
    if fmt == "lowerLetter":
        return _letters(number).lower()
    if fmt.startswith(("chinese", "ideograph", "japanese", "taiwanese")):
        return _chinese(number)
    if fmt == "decimalEnclosedCircle" and 0 < number <= 20:
        return chr(0x2460 + number - 1)
    return str(number)


class _Numbering:
    """Word's list counters, so an automatically numbered paragraph gets back its "1." or "A."."""

    def __init__(self, root: Element | None) -> None:
        self.levels: dict[tuple[str, int], _Level] = {}
        self.counters: dict[str, list[int | None]] = {}
        if root is None:
            return
        abstract: dict[str, dict[int, _Level]] = {}
        for definition in root.iter(_W + "abstractNum"):
            abstract[definition.get(_W + "abstractNumId", "")] = {
                _int(level.get(_W + "ilvl"), 0): _level(level) for level in definition.iter(_W + "lvl")
            }
        for num in root.iter(_W + "num"):
            base = num.find(_W + "abstractNumId")
            levels = dict(abstract.get(base.get(_VAL, "") if base is not None else "", {}))
            for override in num.iter(_W + "lvlOverride"):
                ilvl = _int(override.get(_W + "ilvl"), 0)
                replaced = override.find(_W + "lvl")
                if replaced is not None:
                    levels[ilvl] = _level(replaced)
                start = override.find(_W + "startOverride")
                if start is not None and ilvl in levels:
                    old = levels[ilvl]
                    levels[ilvl] = _Level(old.format, old.text, _int(start.get(_VAL), old.start))
            for ilvl, level in levels.items():
                self.levels[(num.get(_W + "numId", ""), ilvl)] = level

    def prefix(self, paragraph: Element) -> str:
        properties = paragraph.find(_W + "pPr")
        numbered = properties.find(_W + "numPr") if properties is not None else None
        if numbered is None:
            return ""
        num_id_element = numbered.find(_W + "numId")
        ilvl_element = numbered.find(_W + "ilvl")
        num_id = num_id_element.get(_VAL, "") if num_id_element is not None else ""
        ilvl = _int(ilvl_element.get(_VAL) if ilvl_element is not None else None, 0)
        level = self.levels.get((num_id, ilvl))
        if level is None or not 0 <= ilvl < 9:
            return ""
        counters = self.counters.setdefault(num_id, [None] * 9)
        current = counters[ilvl]
        counters[ilvl] = level.start if current is None else current + 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = None
        if level.format in ("bullet", "none"):
            return ""
        text = level.text
        for shown in range(ilvl + 1):
            shown_level = self.levels.get((num_id, shown), level)
            count = counters[shown]
            text = text.replace(f"%{shown + 1}", _formatted(count or shown_level.start, shown_level.format))
        return text + " " if text else ""


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _level(element: Element) -> _Level:
    def value(tag: str) -> str | None:
        found = element.find(_W + tag)
        return found.get(_VAL) if found is not None else None

    return _Level(value("numFmt") or "decimal", value("lvlText") or "", _int(value("start"), 1))


# Entry point -----------------------------------------------------------------------------------


def _document_lines(archive: ZipFile, numbering: _Numbering) -> list[tuple[int, str]]:
    """The document's lines, streamed: each child of w:body (a paragraph, a table ...) is read
    whole, turned into lines and dropped, so memory stays bounded by the largest table."""
    lines: list[tuple[int, str]] = []
    number = 0
    depth = 0  # elements open: the document is 1, the body 2, its children 3
    body: Element | None = None
    found_body = False
    try:
        with archive.open(DOCUMENT) as stream:
            for event, element in iterparse(stream, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if depth == 1 and element.tag != _W + "document":
                        raise FileRejected("corrupt_file", detail=f"{DOCUMENT}: not a Word document")
                    if depth == 2 and element.tag == _W + "body":
                        body = element
                        found_body = True
                    continue
                depth -= 1
                if depth == 1:
                    body = None
                if depth != 2 or body is None:
                    continue
                for paragraph in _paragraphs_from(element):
                    number += 1
                    text = numbering.prefix(paragraph) + _paragraph_text(paragraph)
                    lines.extend((number, part) for part in text.split("\n"))
                body.remove(element)
    except KeyError as exc:
        raise FileRejected("corrupt_file", detail=f"no {DOCUMENT}") from exc
    except (ParseError, DefusedXmlException, *_READ_ERRORS) as exc:
        raise FileRejected("corrupt_file", detail=f"{DOCUMENT}: {type(exc).__name__}") from exc
    if not found_body:
        raise FileRejected("corrupt_file", detail=f"{DOCUMENT}: no document body")
    return lines


def parse_docx(data: bytes) -> ParseResult:
    archive = open_zip(data, ".docx")
    numbering = _Numbering(_read_xml(archive, NUMBERING))
    return parse_text_lines(_document_lines(archive, numbering), "docx")
