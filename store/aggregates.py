"""Per-run aggregates over the mirrored tasks, each one SQL query, so no rule re-scans tasks per record."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.records import Task, TaskStatus, TaskType
from store.models import TaskRow

_TASK_COLUMNS = tuple(getattr(TaskRow, f.name) for f in dataclasses.fields(Task) if f.name != "deleted")
_YIELD_PER = 2000


def last_call(session: Session, connection: str) -> dict[str, datetime]:
    """Latest completion of a completed call per record it is about (``what_id``)."""
    stmt = (
        select(TaskRow.what_id, func.max(TaskRow.completed_at))
        .where(TaskRow.connection == connection, TaskRow.status == TaskStatus.COMPLETED)
        .where(TaskRow.task_type == TaskType.CALL, TaskRow.what_id.is_not(None), TaskRow.completed_at.is_not(None))
        .group_by(TaskRow.what_id)
    )
    return {about: done for about, done in session.execute(stmt) if about and done}


def open_calls(session: Session, connection: str) -> set[str]:
    """Ids of the records (``what_id``) with at least one open call task."""
    stmt = (
        select(TaskRow.what_id)
        .where(TaskRow.connection == connection, TaskRow.status == TaskStatus.OPEN)
        .where(TaskRow.task_type == TaskType.CALL, TaskRow.what_id.is_not(None))
        .distinct()
    )
    return {about for about in session.scalars(stmt) if about}


def open_tasks(session: Session, connection: str) -> Iterator[Task]:
    """Stream the open tasks (the status index keeps completed ones out of the read)."""
    stmt = select(*_TASK_COLUMNS).where(TaskRow.connection == connection, TaskRow.status == TaskStatus.OPEN)
    for row in session.execute(stmt.execution_options(yield_per=_YIELD_PER)):
        yield Task(*row)
