"""Activities from a CSV file (a webinar's attendees, a website's visits, a download list), checked row by row.

Columns are found by name, ignoring case: ``email``, ``type`` (or ``activity``, ``activity type``) and
``date`` (or ``occurred at``, ``timestamp``) are required; ``name`` (or ``first name`` and ``last name``),
``company`` and ``detail`` (or ``subject``, ``page``, ``asset``, ``event``) are read when present. A
row without an email, a type or a date that can be read stops the import naming its row, so nothing
half-imported is scored. Each row gets an id from its content: importing a file twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from config.policy import looks_like_email
from dedupe.export_text import ExportError, Row, read_table, refuse_repeated
from dedupe.exports import parse_created
from domain.activities import Activity

COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "email address", "e-mail"),
    "type": ("type", "activity", "activity type"),
    "date": ("date", "occurred at", "timestamp", "when"),
    "name": ("name", "full name"),
    "first": ("first name", "firstname"),
    "last": ("last name", "lastname"),
    "company": ("company", "company name", "organization"),
    "detail": ("detail", "subject", "page", "asset", "event"),
}
REQUIRED = ("email", "type", "date")


def read_activity_csv(path: Path, encoding: str | None, now: datetime) -> list[Activity]:
    """Every row of the file as an activity (``updated_at`` is ``now``).

    Raises:
        ExportError: the file cannot be read as a table (see ``dedupe.export_text``), a required column
            is missing, or a row lacks an email, a type or a readable date (its row number said).
    """
    table = read_table(path, encoding)
    refuse_repeated(path, table.header, {n for names in COLUMNS.values() for n in names})
    columns = {field: _column(table.header, names) for field, names in COLUMNS.items()}
    missing = [f"{field!r}" for field in REQUIRED if columns[field] is None]
    if missing:
        raise ExportError(f"{path}: no {' or '.join(missing)} column: an activity file needs email, type and date "
                          f"columns; its columns are: {', '.join(table.header)}")
    if not table.rows:
        raise ExportError(f"{path}: no rows below the header: nothing to import")
    return [_activity(path, row, columns, now) for row in table.rows]


def _column(header: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n] for n in names if n in lowered), None)


def _activity(path: Path, row: Row, columns: dict[str, str | None], now: datetime) -> Activity:
    cell = {field: (row.values.get(column) or "").strip() if column else "" for field, column in columns.items()}
    where = f"{path}: row {row.number}"
    if not looks_like_email(cell["email"]):
        shown = f"{cell['email']!r} is not an email address" if cell["email"] else "no email"
        raise ExportError(f"{where}: {shown}: every activity needs the person's email")
    if not cell["type"]:
        raise ExportError(f"{where}: no activity type: say what the person did (web visit, download...)")
    if not cell["date"]:
        raise ExportError(f"{where}: no date: say when the person did it (YYYY-MM-DD or MM/DD/YYYY)")
    try:
        occurred = parse_created(cell["date"]).astimezone(UTC)
    except ExportError as exc:
        raise ExportError(f"{where}: {exc}".replace("created date", "date")) from None
    name = cell["name"] or " ".join(p for p in (cell["first"], cell["last"]) if p)
    content = "|".join((cell["email"].lower(), cell["type"].lower(), occurred.isoformat(), cell["detail"]))
    return Activity(f"csv:{hashlib.sha256(content.encode()).hexdigest()[:20]}", cell["type"], occurred, now,
                    email=cell["email"], name=name or None, company=cell["company"] or None,
                    detail=cell["detail"] or None, source=path.name)
