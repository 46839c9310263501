"""What the ledger says about each job's runs: the latest one, and runs left behind by a dead worker."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from store.models import RunRow
from store.run_report import RunInfo

INTERRUPTED = (
    "interrupted: the process running it died; the next run settled from the CRM what it had started "
    "and planned the rest again"
)

def latest_runs(sessions: sessionmaker[Session]) -> dict[tuple[str, str], RunInfo]:
    """The most recent run of each (connection, job)."""
    newest = (
        select(RunRow.connection, RunRow.job, func.max(RunRow.started_at).label("started_at"))
        .group_by(RunRow.connection, RunRow.job)
        .subquery()
    )
    stmt = select(RunRow).join(
        newest,
        (RunRow.connection == newest.c.connection) & (RunRow.job == newest.c.job)
        & (RunRow.started_at == newest.c.started_at),
    )
    with sessions() as session:
        return {(r.connection, r.job): _info(r) for r in session.scalars(stmt)}


def close_abandoned_runs(
    sessions: sessionmaker[Session], jobs: Collection[str], connection: str, now: datetime
) -> list[str]:
    """Mark ``running`` runs of these jobs and connection as failed; call only while holding a lock each holds.

    A live run holds its job's locks (every rule job's, for ``all``), so holding one of them proves
    such a run's process died (SIGKILL, power loss). Once closed, its claims are settled from the
    CRM (``jobs.apply.settle``). Returns the ids of the runs closed.
    """
    abandoned = RunRow.job.in_(list(jobs)) & (RunRow.connection == connection) & (RunRow.status == "running")
    with sessions.begin() as session:
        run_ids = list(session.scalars(select(RunRow.id).where(abandoned).with_for_update()))
        if run_ids:
            session.execute(
                update(RunRow).where(RunRow.id.in_(run_ids)).values(status="failed", error=INTERRUPTED, finished_at=now)
            )
    return run_ids


def _info(row: RunRow) -> RunInfo:
    return RunInfo(
        id=row.id, job=row.job, connection=row.connection, dry_run=row.dry_run, now=row.now,
        started_at=row.started_at, finished_at=row.finished_at, status=row.status, summary=row.summary,
        error=row.error,
    )
