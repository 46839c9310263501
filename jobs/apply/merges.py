"""Carry out merges exactly once, undoably: the approved clusters of a plan, or the scheduled job's auto merges.

Per cluster: claim the merge's idempotency key in the ledger, snapshot every record of the cluster
with its children and save the snapshots, set the master's survivorship values, merge (the connector
chains: Salesforce two losers per call, HubSpot one), and record the CRM's answer. A refused cluster
fails alone; if its master was already updated, the master is put back from its snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from dedupe.plan import ClusterPlan, merge_action, merge_key
from domain.connector import Connector, RecordUpdate
from domain.errors import BudgetExhausted, ConnectorError
from domain.plan import Action, ActionStatus
from domain.records import ObjectType
from store.ledger import Ledger
from store.merge_history import MERGE_RULE, times_undone

log = structlog.get_logger(__name__)
JOB = "dedupe-merge"
"""Not "dedupe": the digest reads the latest run of the scheduled "dedupe" rule job, which this must not shadow."""


@dataclass(frozen=True, slots=True)
class ClusterOutcome:
    cluster: ClusterPlan
    key: str
    status: ActionStatus
    error: str | None = None


@dataclass
class MergeRun:
    run_id: str
    outcomes: list[ClusterOutcome] = field(default_factory=list)
    stopped: str | None = None

    def count(self, status: ActionStatus) -> int:
        return sum(o.status is status for o in self.outcomes)


def apply_plan(
    clusters: Sequence[ClusterPlan],
    connector: Connector,
    sessions: sessionmaker[Session],
    connection: str,
    now: datetime,
    on_cluster: Callable[[ClusterOutcome], None] = lambda outcome: None,
) -> MergeRun:
    """Merge each cluster (approved ones only: pass ``plan.approved()``), recorded as one ledger run.

    A cluster whose earlier merge was undone merges again under its next generation's key.
    """
    ledger = Ledger(sessions)
    run = MergeRun(ledger.start_run(JOB, connection, dry_run=False, now=now))
    undone = times_undone(sessions, [c.master_id for c in clusters])
    actions = [
        merge_action(connection, c, MERGE_RULE, undone[merge_key(connection, c.master_id, c.loser_ids)])
        for c in clusters
    ]
    ids = ledger.record_actions(run.run_id, actions)
    try:
        for action_id, action, cluster in zip(ids, actions, clusters, strict=True):
            outcome = _merge_one(connector, ledger, action_id, action, cluster)
            run.outcomes.append(outcome)
            on_cluster(outcome)
    except BudgetExhausted as exc:
        run.stopped = f"stopped, the rest stays planned: {exc}"
    summary = {s.value: run.count(s) for s in ActionStatus} | {"api_calls": connector.usage.as_dict()}
    ledger.finish_run(run.run_id, "stopped" if run.stopped else "finished", summary, error=run.stopped)
    return run


def _merge_one(connector: Connector, ledger: Ledger, action_id: int, action: Action,
               cluster: ClusterPlan) -> ClusterOutcome:
    claim = ledger.claim(action_id)
    if not claim.proceed:
        return ClusterOutcome(cluster, action.key, ActionStatus.SKIPPED, claim.reason)
    status, error = merge_claimed(connector, ledger, action_id, action)
    return ClusterOutcome(cluster, action.key, status, error)


def merge_claimed(connector: Connector, ledger: Ledger, action_id: int,
                  action: Action) -> tuple[ActionStatus, str | None]:
    """Carry out a merge action whose claim this process holds; applied or failed, with the CRM's reason."""
    try:
        survivor, error = _snapshot_update_merge(connector, ledger, action_id, action)
    except BudgetExhausted as exc:
        ledger.mark_failed(action_id, f"API budget spent before this merge finished: {exc}")
        raise
    except ConnectorError as exc:
        survivor, error = None, str(exc)
    if survivor is not None:
        ledger.mark_applied(action_id, survivor)
        return ActionStatus.APPLIED, None
    error = error or "the CRM refused the merge without saying why"
    ledger.mark_failed(action_id, error)
    log.warning("dedupe.merge_failed", key=action.key, error=error)
    return ActionStatus.FAILED, error


def _snapshot_update_merge(connector: Connector, ledger: Ledger, action_id: int,
                           action: Action) -> tuple[str | None, str | None]:
    """Do the merge: the survivor's id (HubSpot may give it a new one), or the CRM's reason for refusing."""
    master_id, loser_ids, fields = action.record_id, action.payload["loser_ids"], action.payload["fields"]
    snapshots = connector.snapshot(ObjectType.ACCOUNT, [master_id, *loser_ids])
    ledger.save_snapshots(action_id, snapshots)
    if fields:
        (written,) = connector.update([RecordUpdate(action.key, ObjectType.ACCOUNT, master_id, dict(fields))])
        if not written.ok:
            return None, f"the master's new values were refused: {written.error}"
    result = connector.merge(ObjectType.ACCOUNT, master_id, loser_ids)
    if result.ok:
        return result.master_id, None
    if fields:
        connector.restore(snapshots[:1])
        return None, f"{result.error} (the master's values were put back)"
    return None, result.error
