"""After a crash mid-apply: recognise the writes that reached the CRM but not the ledger.

A worker killed between a CRM write and its ledger entry leaves that action ``planned`` under a
claim of a dead run. Once the mirror is synced again, an update whose fields the CRM already shows
is marked applied, so nothing it did is lost from the ledger and the next run does not redo it
(possibly choosing a different owner). Task creation needs no help: connectors find a task by its
key and return it instead of creating a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.records import ObjectType
from enforcement.findings import ActionKind, ActionStatus
from store.ledger import Ledger
from store.models import MIRROR_ROWS, ActionRow

FIELD_WRITES = (ActionKind.REASSIGN.value, ActionKind.UPDATE.value, ActionKind.CLOSE.value)


def recover_interrupted(sessions: sessionmaker[Session], connection: str, run_ids: Sequence[str]) -> int:
    """Mark applied the planned field writes of ``run_ids`` that the synced mirror already shows."""
    pending = select(ActionRow).where(
        ActionRow.run_id.in_(run_ids), ActionRow.status == ActionStatus.PLANNED.value, ActionRow.kind.in_(FIELD_WRITES)
    )
    with sessions() as session:
        done = [a.id for a in session.scalars(pending) if _shows(session, connection, a)]
    ledger = Ledger(sessions)
    for action_id in done:
        ledger.mark_applied(action_id)
    return len(done)


def _shows(session: Session, connection: str, action: ActionRow) -> bool:
    row = session.get(MIRROR_ROWS[ObjectType(action.object)], (connection, action.record_id))
    if row is None:
        return False
    extra: dict[str, Any] = getattr(row, "extra", None) or {}
    return all(_value(row, extra, name) == value for name, value in action.payload.items())


def _value(row: object, extra: dict[str, Any], name: str) -> Any:
    """The mirror's value in the payload's JSON form (enums by value, dates as ISO text)."""
    value = getattr(row, name) if hasattr(row, name) else extra.get(name)
    if isinstance(value, Enum):
        return value.value
    return value.isoformat() if isinstance(value, date) else value
