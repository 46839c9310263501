"""What dedupe merged and undid, read back from the ledger for ``jobs.apply.undo``, re-merges and the scheduler."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.connector import Snapshot
from domain.plan import ActionKind, ActionStatus
from domain.records import ObjectType
from store.models import ActionRow, RunRow, SnapshotRow
from store.recorded import OWN_ACTIONS

MERGE_RULE = "dedupe.merge"
"""The rule of merges an admin applied with ``warden dedupe apply`` (scheduled merges carry their rule's id)."""
UNDO_RULE = "jobs.apply.undo"
BATCH = 1000


@dataclass(frozen=True, slots=True)
class AppliedMerge:
    run_id: str
    connection: str
    key: str
    cluster_key: str
    """The key of the cluster's first merge: every later merge of the same cluster counts against it."""
    master_id: str
    loser_ids: tuple[str, ...]
    reason: str
    object: ObjectType = ObjectType.ACCOUNT
    """What was merged: accounts, contacts or leads."""


def applied_merges(sessions: sessionmaker[Session], run_or_key: str) -> list[AppliedMerge]:
    """The applied merges of a run (by run id) or the one merge with this idempotency key, newest first."""
    stmt = (
        select(ActionRow.run_id, RunRow.connection, ActionRow.key, ActionRow.record_id, ActionRow.payload,
               ActionRow.reason, ActionRow.object)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(ActionRow.kind == ActionKind.MERGE.value, ActionRow.key.startswith("merge:"))
        .where(ActionRow.status == ActionStatus.APPLIED.value, OWN_ACTIONS)  # applied: a run's own (its key indexed)
        .where((ActionRow.run_id == run_or_key) | (ActionRow.key == run_or_key))
        .order_by(ActionRow.id.desc())
    )
    with sessions() as session:
        return [
            AppliedMerge(run_id, connection, key, payload.get("cluster_key", key), master_id,
                         tuple(payload.get("loser_ids", ())), reason, ObjectType(object_type))
            for run_id, connection, key, master_id, payload, reason, object_type in session.execute(stmt)
        ]


def merge_snapshots(sessions: sessionmaker[Session], merge: AppliedMerge) -> list[Snapshot]:
    """The snapshots taken just before ``merge`` ran (master first), not those of earlier failed attempts."""
    stmt = (
        select(SnapshotRow)
        .where(SnapshotRow.run_id == merge.run_id, SnapshotRow.action_key == merge.key)
        .order_by(SnapshotRow.id)
    )
    with sessions() as session:
        return [Snapshot(ObjectType(s.object), s.record_id, s.data, s.children) for s in session.scalars(stmt)]


def after_merge(sessions: sessionmaker[Session], merge: AppliedMerge) -> dict[str, Any] | None:
    """The master's fields just after ``merge`` (kept since migration 0006), or None when not recorded."""
    stmt = select(SnapshotRow.after_merge).where(
        SnapshotRow.run_id == merge.run_id, SnapshotRow.action_key == merge.key,
        SnapshotRow.record_id == merge.master_id)
    with sessions() as session:
        return session.scalars(stmt).first()


def times_undone(sessions: sessionmaker[Session], master_ids: Collection[str]) -> Counter[str]:
    """Cluster key -> how many of its merges into these masters an applied undo took back.

    Only applied undos count: after an interrupted or failed undo the merge still stands, so
    planning it again must land on the key it already holds (and be skipped), never a new one.
    """
    undone: Counter[str] = Counter()
    with sessions() as session:
        masters = sorted(set(master_ids))
        for start in range(0, len(masters), BATCH):
            batch = masters[start : start + BATCH]
            stmt = select(ActionRow.payload).where(
                ActionRow.rule == UNDO_RULE, ActionRow.record_id.in_(batch),
                ActionRow.status == ActionStatus.APPLIED.value, OWN_ACTIONS,
            )
            undone.update(payload["cluster_key"] for payload in session.scalars(stmt))
    return undone


def taken_apart(sessions: sessionmaker[Session], connection: str) -> frozenset[str]:
    """Accounts of every merge an admin asked to undo on this connection (whether or not the undo finished)."""
    stmt = (
        select(ActionRow.payload)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, ActionRow.rule == UNDO_RULE, OWN_ACTIONS)  # undos: applying runs' own
    )
    with sessions() as session:
        return frozenset(account for payload in session.scalars(stmt) for account in payload["accounts"])
