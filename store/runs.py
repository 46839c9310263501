"""What the ledger says about each job's runs: the latest one, and runs left behind by a dead worker."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from store.models import RunRow
from store.run_report import RunInfo

INTERRUPTED = (
    "interrupted: the process running it died; the next run settled from the CRM what it had started "
    "and planned the rest again"
)


@dataclass(frozen=True)
class JobRuns:
    last: RunInfo
    last_success: RunInfo | None
    """The latest run that finished (``last`` itself when it did)."""


def latest_runs(sessions: sessionmaker[Session], *, finished: bool = False) -> dict[tuple[str, str], RunInfo]:
    """The most recent run of each (connection, job); with ``finished``, the most recent that finished."""
    newest_of = select(RunRow.connection, RunRow.job, func.max(RunRow.started_at).label("started_at"))
    if finished:
        newest_of = newest_of.where(RunRow.status == "finished")
    newest = newest_of.group_by(RunRow.connection, RunRow.job).subquery()
    stmt = select(RunRow).join(
        newest,
        (RunRow.connection == newest.c.connection) & (RunRow.job == newest.c.job)
        & (RunRow.started_at == newest.c.started_at),
    )
    if finished:
        stmt = stmt.where(RunRow.status == "finished")
    with sessions() as session:
        return {(r.connection, r.job): _info(r) for r in session.scalars(stmt)}


def runs_per_job(sessions: sessionmaker[Session],
                 runs_for: Mapping[str, Collection[str]]) -> dict[tuple[str, str], JobRuns]:
    """The latest run and latest finished run of each (connection, job).

    A run of a job in ``runs_for`` (``all``) counts as a run of each job it names, so a job run
    only inside ``warden run all`` still shows when it last ran.
    """
    found: dict[tuple[str, str], JobRuns] = {}
    last, success = latest_runs(sessions), latest_runs(sessions, finished=True)
    for (connection, job), run in last.items():
        for each in runs_for.get(job, (job,)):
            newest = _newer(found.get((connection, each)), JobRuns(run, success.get((connection, job))))
            found[(connection, each)] = newest
    return found


def _newer(known: JobRuns | None, other: JobRuns) -> JobRuns:
    if known is None:
        return other
    last = max(known.last, other.last, key=lambda r: r.started_at)
    successes = [r for r in (known.last_success, other.last_success) if r is not None]
    return JobRuns(last, max(successes, key=lambda r: r.started_at) if successes else None)


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
