"""When each object type of a connection last synced completely, and which types a sync may skip.

A sync that started at or after a moment saw every change made before it. Jobs that run together
name that moment (the start of a worker pass, the minute a Celery flow was sent) and sync only the
types no sync has covered since: the first job of a pass syncs, the others read its mirror.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.records import ObjectType
from store.models import SyncMarkRow
from store.upsert import conflict_insert


def mark_synced(session: Session, connection: str, obj: ObjectType, started_at: datetime) -> None:
    """Record that a sync of ``obj`` which started at ``started_at`` finished (a later mark never moves back)."""
    insert = conflict_insert(session, SyncMarkRow).values(connection=connection, object=obj.value,
                                                          started_at=started_at)
    session.execute(insert.on_conflict_do_update(
        index_elements=["connection", "object"], set_={"started_at": insert.excluded.started_at},
        where=SyncMarkRow.started_at < insert.excluded.started_at,
    ))


def not_synced_since(session: Session, connection: str, objects: Sequence[ObjectType],
                     since: datetime) -> list[ObjectType]:
    """The types among ``objects`` whose latest complete sync started before ``since`` (or never ran)."""
    fresh = set(session.scalars(select(SyncMarkRow.object).where(
        SyncMarkRow.connection == connection, SyncMarkRow.started_at >= since)))
    return [obj for obj in objects if obj.value not in fresh]
