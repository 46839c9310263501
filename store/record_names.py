"""The names of mirrored records, for the words people read (a digest links 'Acme - 50 seats', not an id)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.records import ObjectType
from store.aggregates import id_chunks
from store.models import AccountRow, ContactRow, LeadRow, OpportunityRow, TaskRow

_NAMES = {
    ObjectType.ACCOUNT: (AccountRow, AccountRow.name),
    ObjectType.CONTACT: (ContactRow, ContactRow.name),
    ObjectType.LEAD: (LeadRow, LeadRow.name),
    ObjectType.OPPORTUNITY: (OpportunityRow, OpportunityRow.name),
    ObjectType.TASK: (TaskRow, TaskRow.subject),
}


def names_of(
    session: Session, connection: str, refs: Iterable[tuple[ObjectType, str]]
) -> dict[tuple[ObjectType, str], str]:
    """(object, id) -> the record's name (a task's subject); records gone from the mirror are left out."""
    wanted: dict[ObjectType, set[str]] = defaultdict(set)
    for object_type, record_id in refs:
        if object_type in _NAMES:
            wanted[object_type].add(record_id)
    names: dict[tuple[ObjectType, str], str] = {}
    for object_type, ids in wanted.items():
        row, name = _NAMES[object_type]
        for chunk in id_chunks(ids):
            stmt = select(row.id, name).where(row.connection == connection, row.id.in_(chunk))
            names.update({(object_type, i): n for i, n in session.execute(stmt) if n})
    return names
