"""Account exports from Salesforce and HubSpot (CSV), read as accounts so an admin can plan before connecting.

Each CRM names its export columns its own way (and the report builder and the data export differ): its
package lists them, and the first column present from each list is used. Which CRM wrote the file is
told by its id column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors.kinds import ACCOUNT_EXPORTS
from dedupe.export_text import ExportError, Row, read_table, refuse_repeated
from domain.records import Account

__all__ = ["EPOCH", "Export", "ExportError", "describe_skipped", "parse_created", "read_account_export"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Created date of an account whose export has none: such accounts tie on "oldest"."""
DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%d/%m/%Y", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
SHOWN = 5
"""Rows named in a message before "and N more"."""


@dataclass(frozen=True)
class Export:
    accounts: list[Account]
    skipped: list[int]
    """Rows left out for a blank id or name."""


def _column(header: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


READ = frozenset(name.lower() for layout in ACCOUNT_EXPORTS.values() for names in layout.values() for name in names)
"""Every column an account is read from, in lower case: one of these given twice is ambiguous."""


def _layout(path: Path, header: list[str]) -> dict[str, str | None]:
    refuse_repeated(path, header, READ)
    for layout in ACCOUNT_EXPORTS.values():
        columns = {field: _column(header, names) for field, names in layout.items()}
        if columns["id"] and columns["name"]:
            return columns
    raise ExportError(
        f"{path}: neither a Salesforce export (needs 'Account ID' or 'Id', and 'Account Name' or 'Name') nor a "
        f"HubSpot export (needs 'Record ID' and 'Company name'); its columns are: {', '.join(header)}"
    )


def _strptime_any(text: str) -> datetime:
    for layout in DATE_FORMATS:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ExportError(f"created date {text!r} is in no known format; use YYYY-MM-DD or MM/DD/YYYY")


def parse_created(value: str | None) -> datetime:
    """An export's created date (ISO or the US/EU formats the exports use), UTC; ``EPOCH`` when blank."""
    text = (value or "").strip()
    if not text:
        return EPOCH
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = _strptime_any(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_account_export(path: Path, encoding: str | None = None) -> Export:
    """Accounts from a Salesforce or HubSpot account export; rows without an id or a name are left out.

    Raises:
        ExportError: the file cannot be read as one (see ``dedupe.export_text``), an id is listed
            twice, a created date is in no known format, or no row has both an id and a name.
    """
    table = read_table(path, encoding)
    columns = _layout(path, table.header)
    accounts: list[Account] = []
    skipped: list[int] = []
    rows_of: dict[str, list[int]] = {}
    for row in table.rows:
        cells = _cells(row, columns)
        record_id, name = cells.get("id"), cells.get("name")
        if record_id is None or name is None:
            skipped.append(row.number)
            continue
        rows_of.setdefault(record_id, []).append(row.number)
        accounts.append(_account(path, row.number, cells, record_id, name))
    _once_each(path, rows_of)
    if not accounts:
        raise ExportError(f"{path}: no account to plan: " + (
            f"none of its {len(table.rows)} rows has both an id ({columns['id']!r}) and a name ({columns['name']!r})"
            if table.rows else f"no rows below the header (columns {columns['id']!r}, {columns['name']!r}, ...)"))
    return Export(accounts, skipped)


def _cells(row: Row, columns: dict[str, str | None]) -> dict[str, str]:
    """The row's non-blank values by field."""
    values = ((field, (row.values.get(column) or "").strip()) for field, column in columns.items() if column)
    return {field: value for field, value in values if value}


def _account(path: Path, number: int, cells: dict[str, str], record_id: str, name: str) -> Account:
    cell = cells.get
    try:
        created = parse_created(cell("created"))
    except ExportError as exc:
        raise ExportError(f"{path}: row {number}: {exc}") from None
    street = cell("street")
    return Account(
        id=record_id, name=name, owner_id=cell("owner"), created_at=created, updated_at=created,
        website=cell("website"), phone=cell("phone"), billing_city=cell("city"), billing_postcode=cell("postcode"),
        billing_country=cell("country"), account_type=cell("type"), extra={"billing_street": street} if street else {},
    )


def _once_each(path: Path, rows_of: dict[str, list[int]]) -> None:
    repeated = [(record_id, rows) for record_id, rows in rows_of.items() if len(rows) > 1]
    if repeated:
        record_id, rows = repeated[0]
        more = f" (and {len(repeated) - 1} more ids listed twice)" if len(repeated) > 1 else ""
        raise ExportError(f"{path}: the id {record_id!r} is on rows {_rows(rows)}{more}: an export lists each "
                          "account once; remove the repeated rows")


def _rows(numbers: list[int]) -> str:
    shown = [str(n) for n in numbers[:SHOWN]]
    if len(numbers) > SHOWN:
        return ", ".join(shown) + f" and {len(numbers) - SHOWN} more"
    return ", ".join(shown[:-1]) + f" and {shown[-1]}" if len(shown) > 1 else shown[0]


def describe_skipped(skipped: list[int]) -> str:
    """One line for the rows an export left out, e.g. ``2 rows without an id or a name left out: rows 5 and 9``."""
    noun = "row" if len(skipped) == 1 else "rows"
    return f"{len(skipped)} {noun} without an id or a name left out: {noun} {_rows(skipped)}"
