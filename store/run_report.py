"""Read back what runs found and did, as plain values for the CLI, digests and scripts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.plan import ActionKind, ActionStatus, Finding, Skip
from domain.records import ObjectType
from store.models import ActionRow, FindingRow, RunRow, SkipRow
from store.recorded import own_rows, planned_by, recorded_by


class UnknownRunError(LookupError):
    """A run id the ledger does not hold."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: str
    job: str
    connection: str
    dry_run: bool
    now: datetime
    started_at: datetime
    finished_at: datetime | None
    status: str
    summary: dict[str, Any]
    error: str | None


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """A planned action as the ledger holds it, with what became of it."""

    id: int
    key: str
    kind: ActionKind
    object: ObjectType
    record_id: str
    rule: str
    reason: str
    payload: dict[str, Any]
    status: ActionStatus
    error: str | None
    result_id: str | None
    created_at: datetime
    updated_at: datetime
    shared: bool
    """A row of the plan that runs share, not the run's own: an applying run keeps no row of its own for an action
    whose key a run had already applied, so its status here is not what became of it."""


@dataclass(frozen=True, slots=True)
class RunReport:
    run: RunInfo
    findings: list[Finding]
    actions: list[ActionEntry]
    skips: list[Skip]


def load_run_report(session: Session, run_id: str) -> RunReport:
    """Everything one run recorded, in the order the ledger first recorded it (shared rows by the runs before)."""
    run = session.get(RunRow, run_id)
    if run is None:
        raise UnknownRunError(f"no run with id {run_id!r} in the ledger: list recent runs to find the id")
    findings = session.scalars(select(FindingRow).where(recorded_by(FindingRow, run)).order_by(FindingRow.id))
    actions = session.scalars(select(ActionRow).where(planned_by(run)).order_by(ActionRow.id))
    skips = session.scalars(select(SkipRow).where(or_(own_rows(SkipRow, run), recorded_by(SkipRow, run)))
                            .order_by(SkipRow.id))
    return RunReport(
        run=run_info(run),
        findings=[
            Finding(f.rule, ObjectType(f.object), f.record_id, f.owner_id, f.reason, f.evidence) for f in findings
        ],
        actions=[_action_entry(a) for a in actions],
        skips=[Skip(s.rule, ObjectType(s.object), s.record_id, s.reason) for s in skips],
    )


def load_latest_runs(session: Session, limit: int) -> list[RunInfo]:
    """The most recently started runs, newest first."""
    rows = session.scalars(select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id).limit(limit))
    return [run_info(r) for r in rows]


def run_info(row: RunRow) -> RunInfo:
    return RunInfo(
        row.id, row.job, row.connection, row.dry_run, row.now, row.started_at, row.finished_at,
        row.status, row.summary, row.error,
    )


def _action_entry(row: ActionRow) -> ActionEntry:
    return ActionEntry(
        row.id, row.key, ActionKind(row.kind), ObjectType(row.object), row.record_id, row.rule, row.reason,
        row.payload, ActionStatus(row.status), row.error, row.result_id, row.created_at, row.updated_at,
        row.opened is not None,
    )
