"""What the speed-to-lead and pipeline reports read from the mirror and the ledger."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.plan import ActionKind
from domain.records import Lead, ObjectType, Opportunity, TaskStatus
from store.mirror import iter_records
from store.models import ActionRow, FindingRow, LeadRow, OpportunityRow, RunRow, TaskRow, applied_actions
from store.recorded import open_at


def created_since(session: Session, connection: str, obj: ObjectType, since: datetime) -> list[Lead | Opportunity]:
    """The leads or opportunities created at or after ``since``."""
    row = LeadRow if obj is ObjectType.LEAD else OpportunityRow
    return [r for r in iter_records(session, connection, obj, where=row.created_at >= since)
            if isinstance(r, Lead | Opportunity)]


def all_of(session: Session, connection: str, obj: ObjectType) -> Iterator[Lead | Opportunity]:
    """Every mirrored lead or opportunity."""
    return (r for r in iter_records(session, connection, obj) if isinstance(r, Lead | Opportunity))


def first_completed_activity(
    session: Session, connection: str, obj: ObjectType, since: datetime
) -> dict[str, datetime]:
    """Record id -> its first activity completed after the record was created, for records created since ``since``."""
    row = LeadRow if obj is ObjectType.LEAD else OpportunityRow
    about = TaskRow.who_id if obj is ObjectType.LEAD else TaskRow.what_id
    stmt = (
        select(row.id, func.min(TaskRow.completed_at))
        .join(TaskRow, (TaskRow.connection == row.connection) & (about == row.id))
        .where(row.connection == connection, row.created_at >= since, TaskRow.status == TaskStatus.COMPLETED,
               TaskRow.completed_at > row.created_at)
        .group_by(row.id)
    )
    return {record_id: at for record_id, at in session.execute(stmt) if at is not None}


def sla_reassignments(
    session: Session, connection: str, rules: Collection[str]
) -> list[tuple[str, str, str | None, datetime]]:
    """(object, record id, owner it was taken from, when) of each reassignment the SLA ``rules`` applied."""
    stmt = (
        select(ActionRow.object, ActionRow.record_id, FindingRow.owner_id, ActionRow.updated_at)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .join(FindingRow, (FindingRow.connection == RunRow.connection) & (FindingRow.rule == ActionRow.rule)
              & (FindingRow.record_id == ActionRow.record_id) & open_at(FindingRow, RunRow.recorded))
        .where(RunRow.connection == connection, ActionRow.kind == ActionKind.REASSIGN.value,
               applied_actions(), ActionRow.rule.in_(list(rules)))
        .order_by(ActionRow.updated_at)
    )
    return [(obj, record_id, owner_id, at) for obj, record_id, owner_id, at in session.execute(stmt)]
