"""Before a job runs: finish what earlier runs left half done, for every job this process can lock.

A run whose process died stays ``running`` in the ledger, and a run whose ledger write failed
after a CRM call holds a claim it never settled. Whoever starts a job next (``warden run``, the
worker, a Celery task, ``warden dedupe apply``) first closes the dead runs and settles the claims
from the CRM (``jobs.apply.settle``), under the locks of the runs' jobs: its own, which it holds,
and any other's it can take at once (a run of ``all`` needs every rule job's lock). A job whose
lock another process holds is left to that process. Without ``--apply`` nothing is written to the
CRM: dead runs are closed and the rest waits for an applying run.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import ExitStack
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from domain.connector import Connector
from enforcement.registry import JOBS
from jobs.apply.merges import JOB as MERGE_JOB
from jobs.apply.settle import Settled, settle_runs
from store.locks import JobLocks
from store.recovery import claimed_runs, jobs_to_settle
from store.runs import close_abandoned_runs

log = structlog.get_logger(__name__)
SETTLED_HERE = frozenset({*JOBS, "all", MERGE_JOB})
"""Jobs whose runs write to a CRM through the apply stage (the digest job settles its own runs)."""


def locks_of(job: str) -> tuple[str, ...]:
    """The job locks a run of ``job`` holds: every rule job's for ``all``."""
    return JOBS if job == "all" else (job,)


def settle_interrupted(locks: JobLocks, sessions: sessionmaker[Session], connector: Connector, connection: str,
                       held: Collection[str], now: datetime, *, apply: bool) -> tuple[list[str], Settled]:
    """Close the dead runs and settle the unsettled claims of every job of ``connection`` this process can lock.

    ``held`` names the job locks the caller already holds. Returns the runs closed as interrupted
    and what settling did (nothing when not ``apply``).
    """
    due = jobs_to_settle(sessions, connection) & SETTLED_HERE
    if not due:
        return [], Settled([])
    with ExitStack() as stack:
        owned = set(held)
        mine = [job for job in sorted(due) if _lock_all(stack, locks, connection, set(locks_of(job)) - owned, owned)]
        closed = close_abandoned_runs(sessions, mine, connection, now)
        if closed:
            log.warning("job.interrupted_runs_closed", connection=connection, runs=closed)
        if not apply:
            return closed, Settled([])
        runs = sorted({*closed, *claimed_runs(sessions, mine, connection)})
        return closed, settle_runs(connector, sessions, runs, now)


def _lock_all(stack: ExitStack, locks: JobLocks, connection: str, jobs: set[str], owned: set[str]) -> bool:
    """Take each of ``jobs``' locks without waiting; True when this process now holds them all."""
    for job in sorted(jobs):
        if not stack.enter_context(locks.hold(job, connection)):
            return False
        owned.add(job)
    return True
