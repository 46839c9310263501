"""What the ledger and the freshly synced mirror say about actions a dead or stopped run left planned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from domain.plan import Action, ActionKind, ActionStatus
from domain.records import ObjectType
from store.claims import claim_key_of
from store.ledger import Ledger
from store.models import MIRROR_ROWS, ActionRow, ClaimRow, RunRow

FIELD_WRITES = (ActionKind.REASSIGN.value, ActionKind.UPDATE.value, ActionKind.CLOSE.value)
SETTLED_FROM_MIRROR = (*FIELD_WRITES, ActionKind.MERGE.value)


def settle_shown_writes(sessions: sessionmaker[Session], connection: str, run_ids: Sequence[str]) -> int:
    """Mark applied the planned field writes and merges of dead runs that the freshly synced mirror shows.

    A merge shows when its master is there and every losing account is gone; its snapshots were saved
    before the merge call, so ``warden dedupe undo`` can take it back once it is marked applied.
    """
    planned = select(ActionRow).where(
        ActionRow.run_id.in_(run_ids), ActionRow.status == ActionStatus.PLANNED.value,
        ActionRow.kind.in_(SETTLED_FROM_MIRROR),
    )
    with sessions() as session:
        shown = [a.id for a in session.scalars(planned) if _shows(session, connection, a)]
    ledger = Ledger(sessions)
    for action_id in shown:
        ledger.mark_applied(action_id)
    return len(shown)


def ready_dependents(sessions: sessionmaker[Session], run_ids: Sequence[str]) -> list[tuple[int, Action]]:
    """The still-planned actions of ``run_ids`` whose prerequisite is now applied, with their ledger ids."""
    prerequisite = aliased(ClaimRow)
    ready = (
        select(ActionRow)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .join(prerequisite, prerequisite.key == claim_key_of(RunRow.connection, ActionRow.requires))
        .where(ActionRow.run_id.in_(run_ids), ActionRow.status == ActionStatus.PLANNED.value,
               prerequisite.status == ActionStatus.APPLIED.value)
    )
    with sessions() as session:
        return [(a.id, _action(a)) for a in session.scalars(ready)]


def _action(row: ActionRow) -> Action:
    return Action(ActionKind(row.kind), ObjectType(row.object), row.record_id, row.key, row.reason, row.rule,
                  dict(row.payload))


def _shows(session: Session, connection: str, action: ActionRow) -> bool:
    row = session.get(MIRROR_ROWS[ObjectType(action.object)], (connection, action.record_id))
    if row is None:
        return False
    if action.kind == ActionKind.MERGE.value:
        losers = MIRROR_ROWS[ObjectType.ACCOUNT]
        return all(session.get(losers, (connection, loser)) is None for loser in action.payload["loser_ids"])
    extra: dict[str, Any] = getattr(row, "extra", None) or {}
    return all(_value(row, extra, name) == value for name, value in action.payload.items())


def _value(row: object, extra: dict[str, Any], name: str) -> Any:
    """The mirror's value in the payload's JSON form (enums by value, dates as ISO text)."""
    value = getattr(row, name) if hasattr(row, name) else extra.get(name)
    if isinstance(value, Enum):
        return value.value
    return value.isoformat() if isinstance(value, date) else value
