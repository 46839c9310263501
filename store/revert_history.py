"""What one run changed in its CRM, read back from the ledger for ``warden revert``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.invocation import warden_command
from domain.plan import ActionKind, ActionStatus
from domain.records import ObjectType
from store.before_images import FIELD_WRITES
from store.models import ActionRow, RunRow, SnapshotRow
from store.run_report import RunInfo, UnknownRunError, run_info


@dataclass(frozen=True, slots=True)
class AppliedChange:
    """One action a run applied, with what its record held before (field writes)."""

    key: str
    kind: ActionKind
    object: ObjectType
    record_id: str
    rule: str
    payload: dict[str, Any]
    result_id: str | None
    """The CRM id of what it created (a task)."""
    before: dict[str, Any] | None
    """Field -> value before the write (None: no image was saved, e.g. applied by an older version)."""


def run_changes(sessions: sessionmaker[Session], run_id: str) -> tuple[RunInfo, list[AppliedChange]]:
    """The run and every action it applied, in the order it planned them."""
    with sessions() as session:
        run = session.get(RunRow, run_id)
        if run is None:
            raise UnknownRunError(f"no run {run_id!r} in the ledger: `{warden_command()} ledger show latest` "
                                  "shows the latest")
        actions = list(session.scalars(select(ActionRow).where(
            ActionRow.run_id == run_id, ActionRow.status == ActionStatus.APPLIED.value).order_by(ActionRow.id)))
        images = {s.action_key: s.data for s in session.scalars(select(SnapshotRow).where(
            SnapshotRow.run_id == run_id, SnapshotRow.action_key.in_(
                [a.key for a in actions if a.kind in FIELD_WRITES])))}
        return run_info(run), [
            AppliedChange(a.key, ActionKind(a.kind), ObjectType(a.object), a.record_id, a.rule, a.payload,
                          a.result_id, images.get(a.key)) for a in actions]
