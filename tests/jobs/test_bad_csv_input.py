"""`warden dedupe plan --from-csv` on exports that are not what they seem: one line naming the row, exit 2.

A spreadsheet saved in the wrong encoding, a broken quote or a repeated row would otherwise plan
merges on the wrong data without a word.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.jobs.probe_support import warden

HEADER = "Account ID,Account Name,Website,Billing City\n"
ROWS = ("001A,Acme Corp,acme.com,Boston\n"
        "001B,Acme Corporation,acme.com,Boston\n"
        "001C,Globex,globex.com,Denver\n")


def export(env: Path, content: str | bytes) -> str:
    path = env / "export.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def plan(env: Path, content: str | bytes, *options: str, code: int = 2) -> str:
    """`dedupe plan --from-csv` on ``content``: its one line on stderr (``code`` 2), or its stdout."""
    outcome = warden("dedupe", "plan", "--from-csv", export(env, content), "--workers", "1", *options, code=code)
    return outcome.line


def planned(env: Path, content: str | bytes, *options: str) -> str:
    from typer.testing import CliRunner

    from jobs.cli import app

    result = CliRunner().invoke(app, ["dedupe", "plan", "--from-csv", export(env, content), "--workers", "1",
                                      *options])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_latin_1_is_refused_naming_the_line_and_read_with_encoding(probe_env: Path) -> None:
    """Excel's "CSV" on Windows is cp1252: refused with its line and the option, then read with --encoding."""
    content = (HEADER + ROWS + "001D,Société Générale,sg.fr,Paris\n001E,Société Générale SA,sg.fr,Paris\n").encode(
        "latin-1")
    line = plan(probe_env, content)
    assert "line 5" in line and "UTF-8" in line and "--encoding" in line
    assert "Société Générale" in planned(probe_env, content, "--encoding", "latin-1")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_a_byte_order_mark_tells_the_encoding(probe_env: Path, encoding: str) -> None:
    """UTF-16 (Excel's "Unicode text"), UTF-8 with BOM and UTF-32 files are read without being told."""
    assert "1 clusters" in planned(probe_env, (HEADER + ROWS).encode(encoding))


def test_excel_unicode_text_is_tab_separated(probe_env: Path) -> None:
    """Excel's "Unicode text" is UTF-16 with tabs between the values; the header tells the separator."""
    content = (HEADER + ROWS).replace(",", "\t").encode("utf-16")
    assert "1 clusters" in planned(probe_env, content)


def test_semicolons_separate_values_in_european_excel(probe_env: Path) -> None:
    """Excel in a locale whose decimal mark is a comma writes semicolons."""
    assert "1 clusters" in planned(probe_env, (HEADER + ROWS).replace(",", ";"))


@pytest.mark.parametrize(("content", "says"), [
    (os.urandom(3000) + b"\x00", "NUL"),
    ("Account ID,Account Name\n001A,Acme\x00\n", "line 2"),
    ((HEADER + ROWS).encode("utf-16-le"), "UTF-16"),
])
def test_a_binary_file_is_refused(probe_env: Path, content: bytes, says: str) -> None:
    """NUL bytes mean a binary file (or UTF-16 without its byte-order mark): refused, with the hint."""
    line = plan(probe_env, content)
    assert "not a text file" in line and says in line


def test_an_unknown_encoding_is_refused(probe_env: Path) -> None:
    """--encoding names a codec Python knows, or the command stops before reading."""
    assert plan(probe_env, HEADER + ROWS, "--encoding", "klingon").startswith("--encoding: ")


def test_a_file_that_does_not_decode_with_the_given_encoding_names_the_line(probe_env: Path) -> None:
    """--encoding ascii on a file with an accent names the line of the first byte it cannot read."""
    line = plan(probe_env, HEADER + "001D,Société,sg.fr,Paris\n", "--encoding", "ascii")
    assert "line 2" in line and "ascii" in line


def test_duplicate_ids_are_refused_with_their_rows(probe_env: Path) -> None:
    """One account listed twice would be merged with itself: refused naming the id and both rows."""
    line = plan(probe_env, HEADER + ROWS + "001A,Acme Inc,acme.com,Boston\n")
    assert "001A" in line and "rows 2 and 5" in line


@pytest.mark.parametrize(("rows", "row"), [
    ('001A,"Acme Corp,acme.com,Boston\n001B,Acme Corporation,acme.com,Boston\n', 2),
    ('001A,Acme Corp,acme.com,Boston\n001B,"Acme Corporation,acme.com,Boston\n001C,"Globex",globex.com,Denver\n', 3),
    ('001A,"Acme Corp\n001B,Acme Corporation,acme.com,Boston\n001C,Globex",globex.com,Denver\n', 2),
])
def test_an_unclosed_quote_is_refused_with_its_row(probe_env: Path, rows: str, row: int) -> None:
    """A quote that is never closed (or closes rows later) would swallow the rows after it."""
    line = plan(probe_env, HEADER + rows)
    assert f"row {row}" in line and "quote" in line


def test_a_value_over_two_lines_is_kept(probe_env: Path) -> None:
    """A quoted street address over two lines is one value, as Salesforce exports it."""
    content = ("Account ID,Account Name,Billing Street,Billing City\n"
               '001A,Acme Corp,"1 Main St\nSuite 4",Boston\n001B,Acme Corporation,"1 Main St\nSuite 4",Boston\n')
    assert "1 clusters" in planned(probe_env, content)


def test_a_row_with_more_values_than_columns_is_refused(probe_env: Path) -> None:
    """An unquoted comma in a name shifts every value after it: refused with the row."""
    line = plan(probe_env, HEADER + "001A,Acme, Inc.,acme.com,Boston\n")
    assert "row 2" in line and "5 values" in line and "4 columns" in line


def test_a_duplicated_header_is_refused_naming_the_column(probe_env: Path) -> None:
    """Two 'Account Name' columns: which one is the name? Refused instead of silently taking the last."""
    line = plan(probe_env, HEADER.strip() + ",Account Name\n" + ROWS.replace("\n", ",x\n"))
    assert "'Account Name'" in line and "twice" in line


def test_a_repeated_column_that_is_not_read_is_no_matter(probe_env: Path) -> None:
    """Report exports may repeat a label (two 'Last Modified Date' columns); only the columns read must be unique."""
    content = HEADER.strip() + ",Notes,Notes\n" + ROWS.replace("\n", ",a,b\n")
    assert "1 clusters" in planned(probe_env, content)


@pytest.mark.parametrize(("content", "says"), [
    (HEADER + "001A,,acme.com,Boston\n001B,  ,acme.com,Boston\n", "no account"),
    (HEADER, "no rows"),
    ("", "empty"),
])
def test_an_export_without_accounts_says_so(probe_env: Path, content: str, says: str) -> None:
    """Blank names (or no rows at all) are not "0 accounts, 0 clusters": the command says why."""
    line = plan(probe_env, content)
    assert says in line and ("'Account Name'" in line or not content)


def test_rows_skipped_for_a_blank_name_are_counted(probe_env: Path) -> None:
    """A row without a name is left out of the plan, and the output says which rows."""
    out = planned(probe_env, HEADER + ROWS + "001D,,x.com,Paris\n")
    assert "1 row without an id or a name left out: row 5" in out


def test_a_bad_created_date_names_its_row(probe_env: Path) -> None:
    """A date in no known format stops the command with its row."""
    line = plan(probe_env, "Account ID,Account Name,Created Date\n001A,Acme,yesterday\n")
    assert "row 2" in line and "yesterday" in line
