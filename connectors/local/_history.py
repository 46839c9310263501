"""The embedded CRM's own stage history, as Salesforce keeps ``OpportunityHistory``: a row per change."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from connectors.local._schema import utc_text
from domain.records import ObjectType, StageChange

HISTORY_DDL = (
    "CREATE TABLE IF NOT EXISTS stage_history (object TEXT NOT NULL, record_id TEXT NOT NULL, "
    "entered_at TEXT NOT NULL, stage TEXT, amount REAL, close_date TEXT)",
    "CREATE INDEX IF NOT EXISTS stage_history_entered ON stage_history (object, entered_at)",
)
TRACKED_FIELDS = {"stage", "status", "amount", "close_date"}


def insert_history(conn: sqlite3.Connection, changes: Iterable[StageChange]) -> None:
    rows = [(c.object_type.value, c.record_id, utc_text(c.entered_at), c.stage, c.amount,
             c.close_date.isoformat() if c.close_date else None) for c in changes]
    conn.executemany("INSERT INTO stage_history VALUES (?, ?, ?, ?, ?, ?)", rows)


def record_current(conn: sqlite3.Connection, object_type: ObjectType, record_id: str, at: datetime) -> None:
    """Append the record's stage (status) and forecast as they are now, as a CRM does on every change."""
    if object_type is ObjectType.LEAD:
        row = conn.execute("SELECT status, NULL, NULL FROM leads WHERE id = ?", (record_id,)).fetchone()
    else:
        row = conn.execute("SELECT stage, amount, close_date FROM opportunities WHERE id = ?", (record_id,)).fetchone()
    if row is not None:
        conn.execute("INSERT INTO stage_history VALUES (?, ?, ?, ?, ?, ?)",
                     (object_type.value, record_id, utc_text(at), *row))


def read_history(conn: sqlite3.Connection, object_type: ObjectType, since: datetime | None) -> Iterator[StageChange]:
    query = "SELECT record_id, entered_at, stage, amount, close_date FROM stage_history WHERE object = ?"
    args: tuple[str, ...] = (object_type.value,)
    if since is not None:
        query, args = query + " AND entered_at >= ?", (*args, utc_text(since))
    for record_id, entered, stage, amount, close in conn.execute(query + " ORDER BY entered_at, record_id", args):
        yield StageChange(object_type, record_id, datetime.fromisoformat(entered), stage, amount,
                          date.fromisoformat(close) if close else None, from_crm=True)
