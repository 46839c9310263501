"""An export file's text, cut into rows, refusing what a spreadsheet would show differently from what we read.

Spreadsheets save CSV in many shapes: UTF-8 (with or without a byte-order mark), UTF-16 tab-separated
("Unicode text"), cp1252, semicolons where the decimal mark is a comma. A byte-order mark tells the
encoding, the header line the separator; anything else is UTF-8 unless ``encoding`` says otherwise.
A quote never closed, a row with more values than columns or a repeated column would silently move
values between rows or columns, so each stops the read naming its row (header: row 1), or the column.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
"""UTF-32 LE first: its mark begins with UTF-16 LE's."""
SEPARATORS = (",", "\t", ";")


class ExportError(ValueError):
    """An export file that cannot be read as accounts; the message names the row, line or column."""


@dataclass(frozen=True)
class Row:
    number: int
    """The row a spreadsheet shows it on (the header is row 1)."""
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[Row]


def decode(path: Path, encoding: str | None) -> str:
    """The text of ``path``: in ``encoding``, else in the one its byte-order mark tells, else UTF-8."""
    data = path.read_bytes()
    marked = next((name for bom, name in BOMS if data.startswith(bom)), None)
    if encoding is None and marked is None and b"\x00" in data:
        raise ExportError(f"{path}: not a text file: a NUL byte on line {_line(data, data.index(0))} "
                          "(UTF-16 without a byte-order mark? give --encoding utf-16-le)")
    chosen = encoding or marked or "utf-8"
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        line = _line(data, exc.start)
        hint = "give its encoding, e.g. --encoding cp1252" if encoding is None else "give the right --encoding"
        raise ExportError(f"{path}: byte 0x{data[exc.start]:02X} on line {line} is not {encoding or 'UTF-8'}: save "
                          f"the export as CSV UTF-8, or {hint}") from None
    if "\x00" in text:
        raise ExportError(f"{path}: not a text file: a NUL character on line {_line(text, text.index(chr(0)))}")
    return text.removeprefix("\ufeff")


def _line(content: str | bytes, offset: int) -> int:
    newline = b"\n" if isinstance(content, bytes) else "\n"
    return content.count(newline, 0, offset) + 1  # type: ignore[arg-type]


def read_table(path: Path, encoding: str | None = None) -> Table:
    """The header and rows of the export at ``path`` (blank rows left out)."""
    text = decode(path, encoding)
    first = text.split("\n", 1)[0]
    separator = max(SEPARATORS, key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    rows, number = [], 0
    try:
        header = next(reader, None)
        if not header:
            raise ExportError(f"{path}: the file is empty: export the accounts with their header row")
        number = 1
        for values in reader:
            number += 1
            if any(values):
                rows.append(Row(number, _values(path, header, values, number, separator)))
    except csv.Error as exc:
        raise _broken(path, number + 1, exc) from None
    return Table(header, rows)


def _broken(path: Path, number: int, exc: csv.Error) -> ExportError:
    why = str(exc)
    if "end of data" in why or "expected after" in why:
        why = "a quote opened here is not closed where its value ends; it would swallow the rows after it"
    return ExportError(f"{path}: row {number}: {why}")


def refuse_repeated(path: Path, header: list[str], read: Collection[str]) -> None:
    """Refuse a column given twice among those ``read`` (lower case): which of the two holds the value?"""
    seen: dict[str, int] = {}
    for column, name in enumerate(header, 1):
        key = name.strip().lower()
        if key not in read:
            continue
        if key in seen:
            raise ExportError(f"{path}: the column {name.strip()!r} is there twice (columns {seen[key]} and {column}): "
                              "keep one")
        seen[key] = column


def _values(path: Path, header: list[str], values: list[str], number: int, separator: str) -> dict[str, str]:
    if len(values) > len(header) and any(v.strip() for v in values[len(header):]):
        raise ExportError(f"{path}: row {number} has {len(values)} values for the {len(header)} columns of the "
                          "header (a value with an unquoted separator?)")
    row = dict(zip(header, values, strict=False))
    if "\n" not in "\x00".join(values):
        return row
    for column in (c for c, value in row.items() if "\n" in value):
        swallowed = [line for line in row[column].split("\n")[1:] if line.count(separator) >= len(header) - 1 > 0]
        if swallowed:
            raise ExportError(f"{path}: row {number}: the quoted {column.strip()!r} runs over lines that look like "
                              f"rows of their own ({swallowed[0][:40]!r}): a quote is not closed where it should be")
    return row
