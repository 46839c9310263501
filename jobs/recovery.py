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
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from domain.connector import Connector
from jobs.apply.actions import apply_actions
from store import mirror
from store.ledger import Ledger
from store.recovery import ready_dependents, settle_shown_writes
from store.runs import close_abandoned_runs


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


def finish_dependents(sessions: sessionmaker[Session], connector: Connector, run_ids: Sequence[str]) -> int:
    """Apply the still-planned actions of stopped or dead runs whose prerequisite is now applied.

    A rerun of the rule would not plan them again (the reassignment a task explains is done), so
    without this the new owner would never learn why the record landed on their desk. Returns how
    many were applied.
    """
    actions = ready_dependents(sessions, run_ids)
    return apply_actions(connector, Ledger(sessions), actions).applied if actions else 0
