"""Reading uploaded files safely: size limits, zip-bomb checks, encodings, sheets as rows.

Everything here refuses bad input with `FileRejected` (a stable code and a zh-CN message) before
any parsing of content starts, and reads with bounded memory: a file over the upload limit is
never read whole, a zip's declared sizes are checked before any entry is inflated (and
`zipfile` never inflates past a declared size), and XML goes through defusedxml.
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from app.core.errors import Unprocessable
from app.imports.messages import message

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# Deflate tops out near 1,000:1; real sheets and documents stay well under 100:1.
MAX_ZIP_RATIO = 200
MAX_ROWS = 50_000

FORMATS = ("xlsx", "csv", "docx", "text", "json", "gift", "aiken", "yaml")
_BY_EXTENSION = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".csv": "csv",
    ".docx": "docx",
    ".txt": "text",
    ".json": "json",
    ".gift": "gift",
    ".aiken": "aiken",
    ".yaml": "yaml",
    ".yml": "yaml",
}


class FileRejected(Unprocessable):
    """The whole file is refused; nothing was read into the bank."""

    code = "file_rejected"

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(message(code, **params), code=code)
        self.params = params
        self.message_en = message(code, "en", **params)
        self.extra = {"message_en": self.message_en, "params": params}


def check_size(size: int, limit: int = MAX_UPLOAD_BYTES) -> None:
    if size > limit:
        raise FileRejected(
            "file_too_large", size_mb=round(size / 1024 / 1024, 1), limit_mb=round(limit / 1024 / 1024, 1)
        )
    if size == 0:
        raise FileRejected("empty_file")


def detect_format(filename: str, data: bytes) -> str:
    """The format from the extension, checked against the content; text files are sniffed."""
    check_size(len(data))
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xls":
        raise FileRejected("old_excel_format")
    if suffix == ".doc":
        raise FileRejected("old_word_format")
    fmt = _BY_EXTENSION.get(suffix)
    is_zip = data[:4] == b"PK\x03\x04"
    if fmt in ("xlsx", "docx"):
        if not is_zip:
            raise FileRejected("not_a_zip", ext=suffix)
        return fmt
    if fmt is None and is_zip:
        names = set(open_zip(data, suffix or "zip").namelist())
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            return "docx"
        raise FileRejected("unknown_format", name=filename)
    if fmt is None:
        if suffix not in ("", ".text"):
            raise FileRejected("unknown_format", name=filename)
        return sniff_text_format(decode_text(data)[0])
    if fmt == "text":
        return sniff_text_format(decode_text(data)[0])
    return fmt


def sniff_text_format(text: str) -> str:
    """Plain text that is really GIFT or Aiken (Moodle exports are often saved as .txt)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(line.startswith("ANSWER:") for line in lines) and not any("答案" in line for line in lines):
        return "aiken"
    if any(line.startswith("::") for line in lines) or (
        any(line.endswith("{") or ("{" in line and "}" in line) for line in lines)
        and any(line.startswith(("=", "~")) or "{T}" in line or "{F}" in line for line in lines)
    ):
        return "gift"
    return "text"


def open_zip(data: bytes, ext: str) -> zipfile.ZipFile:
    """A zip whose declared sizes, entry count and compression ratios are within limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRejected("not_a_zip", ext=ext) from exc
    if len(entries) > MAX_ZIP_ENTRIES:
        raise FileRejected("zip_too_many_entries", count=len(entries), limit=MAX_ZIP_ENTRIES)
    total = 0
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise FileRejected("zip_encrypted")
        total += entry.file_size
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1):
            raise FileRejected(
                "zip_ratio", name=entry.filename[:100], ratio=entry.file_size // max(entry.compress_size, 1)
            )
    if total > MAX_UNPACKED_BYTES:
        raise FileRejected(
            "zip_too_large",
            size_mb=round(total / 1024 / 1024, 1),
            limit_mb=MAX_UNPACKED_BYTES // 1024 // 1024,
        )
    return archive


# Text -----------------------------------------------------------------------------------------


def _plausible(char: str) -> bool:
    code = ord(char)
    return (
        char.isprintable()
        or char in "\t\r\n"
        # CJK, punctuation and full-width forms all count as printable; these are the usual
        # invisible ones a Chinese Office document carries.
        or code in (0x3000, 0xFEFF, 0x200B)
    ) and not 0xE000 <= code <= 0xF8FF


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and its encoding: a BOM's, else strict UTF-8, else GB18030 (which covers GBK), and
    only if the result reads as text. Never a silent guess: anything else is `unknown_encoding`."""
    check_size(len(data))
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = [("utf-8-sig", data)]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = [("utf-16", data)]
    else:
        if b"\x00" in data[:8192]:
            raise FileRejected("binary_file")
        candidates = [("utf-8", data), ("gb18030", data)]
    for encoding, raw in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:200_000]
        odd = sum(1 for ch in sample if not _plausible(ch))
        if odd > max(2, len(sample) // 1000):
            if encoding.startswith("utf"):
                raise FileRejected("binary_file")
            continue
        return text.replace("\r\n", "\n").replace(
            "\r", "\n"
        ), "gb18030" if encoding == "gb18030" else encoding
    raise FileRejected("unknown_encoding")


# Sheets ---------------------------------------------------------------------------------------


@dataclass
class Table:
    """A sheet as text: the header row and then each row with its number as Excel shows it."""

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    header_row: int = 1
    encoding: str | None = None
    sheet: str | None = None


def cell_text(value: Any) -> str:
    """A cell value as the text a person sees: 2.0 → "2", dates as ISO, None → ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def _first_nonempty(rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]] | None:
    for number, values in rows:
        if any(values):
            return number, values
    return None


def read_xlsx(data: bytes, preferred_sheets: tuple[str, ...] = ()) -> Table:
    """The first sheet (or the first of `preferred_sheets` that exists), values not formulas."""
    from app.imports.xlsx_reader import XlsxUnreadable, read_sheet_rows

    archive = open_zip(data, ".xlsx")
    try:
        chosen, sheet_rows = read_sheet_rows(archive, preferred_sheets)
    except (XlsxUnreadable, zipfile.BadZipFile, ValueError) as exc:
        raise FileRejected("corrupt_file", detail=str(exc)[:200]) from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in sheet_rows:
                if number > MAX_ROWS + 1:
                    raise FileRejected("too_many_rows", count=f">{MAX_ROWS}", limit=MAX_ROWS)
                yield number, [cell_text(v) for v in values]
        except (XlsxUnreadable, zipfile.BadZipFile, ValueError) as exc:
            raise FileRejected("corrupt_file", detail=str(exc)[:200]) from exc
        finally:
            archive.close()

    iterator = rows()
    first = _first_nonempty(iterator)
    if first is None:
        raise FileRejected("no_questions")
    number, headers = first
    return Table(headers=headers, rows=iterator, header_row=number, sheet=chosen)


def read_csv(data: bytes) -> Table:
    text, encoding = decode_text(data)
    sample = text[:10_000]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for values in reader:
                if reader.line_num > MAX_ROWS + 1:
                    raise FileRejected("too_many_rows", count=f">{MAX_ROWS}", limit=MAX_ROWS)
                yield reader.line_num, [v.strip() for v in values]
        except csv.Error as exc:
            raise FileRejected("corrupt_file", detail=f"CSV {reader.line_num}: {exc}") from exc

    iterator = rows()
    first = _first_nonempty(iterator)
    if first is None:
        raise FileRejected("no_questions")
    number, headers = first
    return Table(headers=headers, rows=iterator, header_row=number, encoding=encoding)


def read_table(data: bytes, fmt: str, preferred_sheets: tuple[str, ...] = ()) -> Table:
    if fmt == "xlsx":
        return read_xlsx(data, preferred_sheets)
    if fmt == "csv":
        return read_csv(data)
    raise FileRejected("unknown_format", name=fmt)
