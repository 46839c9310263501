"""Resume what a stopped or killed run left half done, before the job runs again.

A worker killed between a CRM write and its ledger entry leaves that action ``planned`` under a
claim of a dead run. Once the mirror is synced again, an update whose fields the CRM already shows
is marked applied, so nothing it did is lost from the ledger and the next run does not redo it
(possibly choosing a different owner). Actions waiting on a prerequisite that is now applied (the
task explaining a reassignment) are applied; connectors find a task by its key rather than create
a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from domain.connector import Connector
from domain.plan import Action, ActionKind, ActionStatus
from domain.records import ObjectType
from jobs.apply import apply_actions
from jobs.run_state import close_abandoned_runs
from store import mirror
from store.claims import claim_key_of
from store.ledger import Ledger
from store.models import MIRROR_ROWS, ActionRow, ClaimRow, RunRow

FIELD_WRITES = (ActionKind.REASSIGN.value, ActionKind.UPDATE.value, ActionKind.CLOSE.value)
SETTLED_FROM_MIRROR = (*FIELD_WRITES, ActionKind.MERGE.value)


def settle_abandoned_runs(
    sessions: sessionmaker[Session], connector: Connector, job: str, connection: str, now: datetime
) -> tuple[list[str], int]:
    """Close the runs of this job a dead process left open and mark applied what the CRM shows they did.

    Call only while holding the job's lock (see ``close_abandoned_runs``). The mirror is synced first
    when there is such a run. Returns the runs closed and how many of their writes were found done.
    """
    abandoned = close_abandoned_runs(sessions, job, connection, now)
    if not abandoned:
        return [], 0
    mirror.sync(connector, sessions, connection)
    return abandoned, settle_shown_writes(sessions, connection, abandoned)


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


def finish_dependents(sessions: sessionmaker[Session], connector: Connector, run_ids: Sequence[str]) -> int:
    """Apply the still-planned actions of stopped or dead runs whose prerequisite is now applied.

    A rerun of the rule would not plan them again (the reassignment a task explains is done), so
    without this the new owner would never learn why the record landed on their desk. Returns how
    many were applied.
    """
    prerequisite = aliased(ClaimRow)
    ready = (
        select(ActionRow)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .join(prerequisite, prerequisite.key == claim_key_of(RunRow.connection, ActionRow.requires))
        .where(ActionRow.run_id.in_(run_ids), ActionRow.status == ActionStatus.PLANNED.value,
               prerequisite.status == ActionStatus.APPLIED.value)
    )
    with sessions() as session:
        actions = [(a.id, _action(a)) for a in session.scalars(ready)]
    return apply_actions(connector, Ledger(sessions), actions).applied if actions else 0


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
