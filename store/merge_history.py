"""What dedupe merged, read back from the ledger so ``dedupe.undo`` can put it back."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Snapshot
from connectors.records import ObjectType
from enforcement.findings import ActionKind, ActionStatus
from store.models import ActionRow, RunRow, SnapshotRow

MERGE_RULE = "dedupe.merge"


@dataclass(frozen=True, slots=True)
class AppliedMerge:
    run_id: str
    connection: str
    key: str
    master_id: str
    reason: str


def applied_merges(sessions: sessionmaker[Session], run_or_key: str) -> list[AppliedMerge]:
    """The applied merges of a dedupe run (by run id) or the one merge with this idempotency key."""
    stmt = (
        select(ActionRow.run_id, RunRow.connection, ActionRow.key, ActionRow.record_id, ActionRow.reason)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(ActionRow.rule == MERGE_RULE, ActionRow.kind == ActionKind.MERGE.value)
        .where(ActionRow.status == ActionStatus.APPLIED.value)
        .where((ActionRow.run_id == run_or_key) | (ActionRow.key == run_or_key))
        .order_by(ActionRow.id.desc())
    )
    with sessions() as session:
        return [AppliedMerge(*row) for row in session.execute(stmt)]


def merge_snapshots(sessions: sessionmaker[Session], merge: AppliedMerge) -> list[Snapshot]:
    """The snapshots taken just before ``merge`` ran (master first), not those of earlier failed attempts."""
    stmt = (
        select(SnapshotRow)
        .where(SnapshotRow.run_id == merge.run_id, SnapshotRow.action_key == merge.key)
        .order_by(SnapshotRow.id)
    )
    with sessions() as session:
        return [Snapshot(ObjectType(s.object), s.record_id, s.data, s.children) for s in session.scalars(stmt)]
