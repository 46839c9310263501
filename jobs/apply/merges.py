"""Carry out merges exactly once, undoably: the approved clusters of a plan, or the scheduled job's auto merges.

Per cluster: claim the merge's idempotency key in the ledger, snapshot every record of the cluster
with its children and save the snapshots, set the master's survivorship values, merge (the connector
chains: Salesforce two losers per call, HubSpot one), record the CRM's answer, and keep the master's
fields as they are just after the merge (so undo can tell what a user changed since). A refused
cluster fails alone; if its master was already updated, the master is put back from its snapshot.

Snapshots are taken once per merge action, before its first write: a merge resumed after a crash
(``jobs.apply.settle``) reuses them rather than snapshot a master it already changed. A merge the
CRM may have carried out in part (an error after a write, a chain cut short, the API budget spent
half-way) stays ``planned`` in the ledger, and the next run settles it from the CRM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from dedupe.plan import ClusterPlan, cluster_key, merge_action
from domain.connector import Connector, Fetcher, MergeResult, RecordUpdate
from domain.errors import BudgetExhausted, ConnectorError
from domain.plan import Action, ActionStatus
from domain.progress import NO_PROGRESS, Progress
from domain.records import ObjectType
from jobs.apply.fields import field_values
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
    progress: Progress = NO_PROGRESS,
) -> MergeRun:
    """Merge each cluster (approved ones only: pass ``plan.approved()``), recorded as one ledger run.

    A cluster whose earlier merge was undone merges again under its next generation's key.
    ``progress`` hears of each cluster done with.
    """
    ledger = Ledger(sessions)
    run = MergeRun(ledger.start_run(JOB, connection, dry_run=False, now=now))
    undone = times_undone(sessions, [c.master_id for c in clusters])
    actions = [
        merge_action(connection, c, MERGE_RULE, undone[cluster_key(connection, c)])
        for c in clusters
    ]
    ids = ledger.record_actions(run.run_id, actions)
    try:
        with progress.phase("merge", total=len(clusters), unit="clusters") as phase:
            statuses: Counter[str] = Counter()
            for action_id, action, cluster in zip(ids, actions, clusters, strict=True):
                run.outcomes.append(outcome := _merge_one(connector, ledger, action_id, action, cluster))
                statuses[outcome.status.value] += 1
                phase.update(len(run.outcomes), **statuses)
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
    """Carry out a merge action whose claim this process holds.

    Returns applied, failed with the CRM's reason (nothing changed, or the master put back), or
    planned when the CRM may have done part of it: the claim stays held for the next run to settle.
    """
    snapshots = ledger.saved_snapshots(action_id)
    try:
        if not snapshots:
            snapshots = connector.snapshot(action.object, [action.record_id, *action.payload["loser_ids"]])
            ledger.save_snapshots(action_id, snapshots)
    except BudgetExhausted:  # the claim stays planned: the next run settles it
        raise
    except ConnectorError as exc:
        return _failed(ledger, action_id, action, str(exc))
    try:
        result = _update_and_merge(connector, action)
    except BudgetExhausted:
        raise
    except ConnectorError as exc:
        log.warning("dedupe.merge_unsettled", key=action.key, error=str(exc))
        return ActionStatus.PLANNED, f"{exc}; the next run settles this merge from the CRM"
    if result.ok:
        ledger.mark_applied(action_id, result.master_id)
        keep_after_image(connector, ledger, action_id, result.master_id, action.object)
        return ActionStatus.APPLIED, None
    if result.merged_ids:
        return ActionStatus.PLANNED, f"{result.error}; the next run settles this merge from the CRM"
    if action.payload["fields"]:
        connector.restore(snapshots[:1])
        return _failed(ledger, action_id, action, f"{result.error} (the master's values were put back)")
    return _failed(ledger, action_id, action, result.error or "the CRM refused the merge without saying why")


def keep_after_image(connector: Fetcher, ledger: Ledger, action_id: int, survivor_id: str,
                     object_type: ObjectType = ObjectType.ACCOUNT) -> None:
    """Save the survivor's fields as the CRM holds them just after the merge; without it undo cannot check."""
    try:
        survivor = connector.fetch(object_type, [survivor_id]).get(survivor_id)
    except ConnectorError as exc:
        log.warning("dedupe.after_image_missing", survivor=survivor_id, error=str(exc))
        return
    if survivor is not None:
        ledger.save_after_merge(action_id, field_values(survivor))


def _update_and_merge(connector: Connector, action: Action) -> MergeResult:
    master_id, loser_ids, fields = action.record_id, action.payload["loser_ids"], action.payload["fields"]
    if fields:
        (written,) = connector.update([RecordUpdate(action.key, action.object, master_id, dict(fields))])
        if not written.ok:
            return MergeResult(master_id, (), False, f"the master's new values were refused: {written.error}")
    return connector.merge(action.object, master_id, loser_ids)


def _failed(ledger: Ledger, action_id: int, action: Action, error: str) -> tuple[ActionStatus, str]:
    ledger.mark_failed(action_id, error)
    log.warning("dedupe.merge_failed", key=action.key, error=error)
    return ActionStatus.FAILED, error
