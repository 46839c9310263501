"""Where the next incremental read of each object starts, and what a connector keeps between syncs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.records import ObjectType
from store.models import ReaderStateRow, WatermarkRow
from store.upsert import conflict_insert


def get_watermark(session: Session, connection: str, object_type: ObjectType) -> datetime | None:
    """The newest ``updated_at`` already mirrored, or None before the first sync."""
    return session.scalar(
        select(WatermarkRow.value).where(
            WatermarkRow.connection == connection, WatermarkRow.object == object_type.value
        )
    )


def set_watermark(
    session: Session, connection: str, object_type: ObjectType, value: datetime, now: datetime
) -> None:
    """Move the watermark to ``value`` in the caller's transaction (so it commits with the data)."""
    row = session.get(WatermarkRow, (connection, object_type.value))
    if row is None:
        session.add(WatermarkRow(connection=connection, object=object_type.value, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now


def reader_state(session: Session, connection: str) -> dict[str, Any]:
    """What the connection's connector kept after its last complete sync (empty before the first)."""
    row = session.get(ReaderStateRow, connection)
    return dict(row.state) if row is not None else {}


def keep_reader_state(session: Session, connection: str, state: dict[str, Any], now: datetime) -> None:
    """Replace what the connector keeps; syncs of one connection running side by side (Celery) may race here."""
    insert = conflict_insert(session, ReaderStateRow).values(connection=connection, state=state, updated_at=now)
    session.execute(insert.on_conflict_do_update(index_elements=["connection"],
                                                 set_={"state": insert.excluded.state, "updated_at": now}))
