"""Carry out the approved clusters of a merge plan through a connector, exactly once, undoably.

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

from connectors.base import Connector, RecordUpdate
from connectors.errors import BudgetExhausted, ConnectorError
from connectors.records import ObjectType
from dedupe.plan import ClusterPlan
from enforcement.findings import Action, ActionKind, ActionStatus
from store.ledger import Ledger
from store.merge_history import MERGE_RULE

log = structlog.get_logger(__name__)
JOB = "dedupe-merge"
"""Not "dedupe": the digest reads the latest run of the scheduled "dedupe" rule job, which this must not shadow."""


def merge_key(connection: str, master_id: str, loser_ids: Sequence[str]) -> str:
    """The idempotency key of one merge: the same cluster on the same connection merges once."""
    return f"merge:{connection}:{master_id}:{','.join(sorted(loser_ids))}"


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


def merge_action(connection: str, cluster: ClusterPlan) -> Action:
    """The ledger action that records one cluster's merge."""
    return Action(
        kind=ActionKind.MERGE, object=ObjectType.ACCOUNT, record_id=cluster.master_id,
        key=merge_key(connection, cluster.master_id, cluster.loser_ids), reason=cluster.reason, rule=MERGE_RULE,
        payload={"cluster_id": cluster.cluster_id, "loser_ids": list(cluster.loser_ids), "fields": cluster.fields},
    )


def apply_plan(
    clusters: Sequence[ClusterPlan],
    connector: Connector,
    ledger: Ledger,
    connection: str,
    now: datetime,
    on_cluster: Callable[[ClusterOutcome], None] = lambda outcome: None,
) -> MergeRun:
    """Merge each cluster (approved ones only: pass ``plan.approved()``), recorded as one ledger run."""
    run = MergeRun(ledger.start_run(JOB, connection, dry_run=False, now=now))
    actions = [merge_action(connection, c) for c in clusters]
    ids = ledger.record_actions(run.run_id, actions)
    try:
        for action_id, action, cluster in zip(ids, actions, clusters, strict=True):
            outcome = _merge_one(connector, ledger, run.run_id, action_id, action, cluster)
            run.outcomes.append(outcome)
            on_cluster(outcome)
    except BudgetExhausted as exc:
        run.stopped = f"stopped, the rest stays planned: {exc}"
    summary = {s.value: run.count(s) for s in ActionStatus} | {"api_calls": connector.usage.as_dict()}
    ledger.finish_run(run.run_id, "stopped" if run.stopped else "finished", summary, error=run.stopped)
    return run


def _merge_one(connector: Connector, ledger: Ledger, run_id: str, action_id: int, action: Action,
               cluster: ClusterPlan) -> ClusterOutcome:
    claim = ledger.claim(action_id)
    if not claim.proceed:
        return ClusterOutcome(cluster, action.key, ActionStatus.SKIPPED, claim.reason)
    try:
        survivor, error = _snapshot_update_merge(connector, ledger, run_id, action, cluster)
    except BudgetExhausted as exc:
        ledger.mark_failed(action_id, f"API budget spent before this merge finished: {exc}")
        raise
    except ConnectorError as exc:
        survivor, error = None, str(exc)
    if survivor is not None:
        ledger.mark_applied(action_id, survivor)
        return ClusterOutcome(cluster, action.key, ActionStatus.APPLIED)
    error = error or "the CRM refused the merge without saying why"
    ledger.mark_failed(action_id, error)
    log.warning("dedupe.merge_failed", key=action.key, error=error)
    return ClusterOutcome(cluster, action.key, ActionStatus.FAILED, error)


def _snapshot_update_merge(connector: Connector, ledger: Ledger, run_id: str, action: Action,
                           cluster: ClusterPlan) -> tuple[str | None, str | None]:
    """Do the merge: the survivor's id (HubSpot may give it a new one), or the CRM's reason for refusing."""
    snapshots = connector.snapshot(ObjectType.ACCOUNT, [cluster.master_id, *cluster.loser_ids])
    ledger.save_snapshots(run_id, action.key, snapshots)
    if cluster.fields:
        update = RecordUpdate(action.key, ObjectType.ACCOUNT, cluster.master_id, dict(cluster.fields))
        (written,) = connector.update([update])
        if not written.ok:
            return None, f"the master's new values were refused: {written.error}"
    result = connector.merge(ObjectType.ACCOUNT, cluster.master_id, cluster.loser_ids)
    if result.ok:
        return result.master_id, None
    if cluster.fields:
        connector.restore(snapshots[:1])
        return None, f"{result.error} (the master's values were put back)"
    return None, result.error
