"""Per-connection, per-object sync watermarks: where the next incremental read starts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.records import ObjectType
from store.models import WatermarkRow


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
