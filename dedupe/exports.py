"""Account exports from Salesforce and HubSpot (CSV), read as accounts so an admin can plan before connecting.

Each CRM names its export columns its own way (and the report builder and the data export differ): its
package lists them, and the first column present from each list is used. Which CRM wrote the file is
told by its id column.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from connectors.kinds import ACCOUNT_EXPORTS
from domain.records import Account

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Created date of an account whose export has none: such accounts tie on "oldest"."""
DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%d/%m/%Y", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")

class ExportError(ValueError):
    """An export file that is not a Salesforce or HubSpot account export; the message says what is missing."""


def _column(header: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def _layout(path: Path, header: Sequence[str]) -> dict[str, str | None]:
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


def read_account_export(path: Path) -> list[Account]:
    """Accounts from a Salesforce or HubSpot account export; rows without an id or a name are skipped."""
    with path.open(newline="", encoding="utf-8-sig") as source:
        reader = csv.DictReader(source)
        columns = _layout(path, reader.fieldnames or ())

        def cell(row: dict[str, str], field: str) -> str | None:
            column = columns[field]
            value = (row.get(column) or "").strip() if column else ""
            return value or None

        accounts = []
        for row in reader:
            record_id, name = cell(row, "id"), cell(row, "name")
            if record_id is None or name is None:
                continue
            created = parse_created(cell(row, "created"))
            street = cell(row, "street")
            accounts.append(Account(
                id=record_id, name=name, owner_id=cell(row, "owner"), created_at=created, updated_at=created,
                website=cell(row, "website"), phone=cell(row, "phone"), billing_city=cell(row, "city"),
                billing_postcode=cell(row, "postcode"), billing_country=cell(row, "country"),
                account_type=cell(row, "type"), extra={"billing_street": street} if street else {},
            ))
    return accounts
