"""The activities the ``activity_score`` rule scores: kept per connection, from the CRM or a CSV import.

``sync_activities`` reads what the CRM added or changed since the last read (its own watermark,
``activities``) and upserts it, a transaction per chunk, so a read that stops half-way resumes where it
stopped; ``save_activities`` stores imported ones in the caller's transaction (an import is all or nothing).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.activities import Activity, ActivityReader
from store.models import ActivityRow, WatermarkRow
from store.upsert import conflict_insert

WATERMARK = "activities"
"""The watermark row of a connection's activities (beside those of its record types)."""
CHUNK = 1000
_COLUMNS = tuple(c.name for c in ActivityRow.__table__.columns if c.name != "connection")


def save_activities(session: Session, connection: str, activities: Sequence[Activity]) -> int:
    """Insert or replace activities by id, in the caller's transaction; returns how many."""
    rows = [{"connection": connection, **asdict(a)} for a in {a.id: a for a in activities}.values()]
    for start in range(0, len(rows), CHUNK):  # a statement's bound values stay under SQLite's limit
        insert = conflict_insert(session, ActivityRow).values(rows[start:start + CHUNK])
        changed = {name: insert.excluded[name] for name in _COLUMNS if name != "id"}
        session.execute(insert.on_conflict_do_update(index_elements=["connection", "id"], set_=changed))
    return len(rows)


def sync_activities(reader: ActivityReader, sessions: sessionmaker[Session], connection: str) -> int:
    """Read the CRM's activities added or changed since the last read; returns how many were stored."""
    with sessions() as session:
        since = session.scalar(select(WatermarkRow.value).where(WatermarkRow.connection == connection,
                                                                WatermarkRow.object == WATERMARK))
    stored = 0
    read = reader.iter_activities(since)
    while chunk := list(islice(read, CHUNK)):
        with sessions.begin() as session:
            stored += save_activities(session, connection, chunk)
            _advance(session, connection, max(a.updated_at for a in chunk))
    return stored


def _advance(session: Session, connection: str, newest: datetime) -> None:
    row = session.get(WatermarkRow, (connection, WATERMARK))
    now = datetime.now(UTC)
    if row is None:
        session.add(WatermarkRow(connection=connection, object=WATERMARK, value=newest, updated_at=now))
    elif newest > row.value:
        row.value, row.updated_at = newest, now


def activities_since(session: Session, connection: str, since: datetime) -> Iterator[Activity]:
    """The connection's activities that occurred at or after ``since``, oldest first."""
    stmt = (select(*(ActivityRow.__table__.c[n] for n in _COLUMNS))
            .where(ActivityRow.connection == connection, ActivityRow.occurred_at >= since)
            .order_by(ActivityRow.occurred_at, ActivityRow.id))
    for row in session.execute(stmt):
        yield Activity(**dict(zip(_COLUMNS, row, strict=True)))

