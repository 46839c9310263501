"""The embedded CRM's activity records: web visits, downloads, events attended, replies, meetings.

Kept in a table of their own, read in pages from a watermark like the records, one read call per page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import astuple, fields
from datetime import datetime

from connectors.local._schema import utc_text
from domain.activities import Activity

COLUMNS = tuple(f.name for f in fields(Activity))
DATETIMES = frozenset({"occurred_at", "updated_at"})
_DEFINITIONS = ", ".join(f"{c} TEXT PRIMARY KEY" if c == "id" else f"{c} TEXT" for c in COLUMNS)
ACTIVITIES_DDL = (
    f"CREATE TABLE IF NOT EXISTS activities ({_DEFINITIONS})",
    "CREATE INDEX IF NOT EXISTS activities_updated ON activities (updated_at, id)",
)


def insert_activities(conn: sqlite3.Connection, activities: Iterable[Activity]) -> int:
    """Add or replace activities by id, in the caller's transaction; returns how many."""
    rows = [tuple(utc_text(v) if c in DATETIMES else v for c, v in zip(COLUMNS, astuple(a), strict=True))
            for a in activities]
    marks = ", ".join("?" * len(COLUMNS))
    conn.executemany(f"INSERT OR REPLACE INTO activities ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
    return len(rows)


def read_pages(conn: sqlite3.Connection, since: datetime | None, page_size: int) -> Iterator[list[Activity]]:
    """Activities changed at or after ``since`` by (updated_at, id), a page at a time."""
    select = f"SELECT {', '.join(COLUMNS)} FROM activities"
    order = f"ORDER BY updated_at, id LIMIT {page_size + 1}"
    if since is None:
        rows = conn.execute(f"{select} {order}").fetchall()
    else:
        rows = conn.execute(f"{select} WHERE updated_at >= ? {order}", (utc_text(since),)).fetchall()
    while True:
        page = rows[:page_size]
        yield [_activity(row) for row in page]
        if len(rows) <= page_size:
            return
        cursor = (page[-1][COLUMNS.index("updated_at")], page[-1][0])
        rows = conn.execute(f"{select} WHERE (updated_at, id) > (?, ?) {order}", cursor).fetchall()


def _activity(row: tuple[str | None, ...]) -> Activity:
    values = {c: datetime.fromisoformat(v) if c in DATETIMES and v else v for c, v in zip(COLUMNS, row, strict=True)}
    return Activity(**values)  # type: ignore[arg-type]
