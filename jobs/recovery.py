"""Before a job runs: finish what earlier runs left half done, in the share this process may settle.

A run whose process died stays ``running`` in the ledger, and a run whose ledger write failed
after a CRM call holds a claim it never settled. Whoever starts a job next (``warden run``, the
worker, a Celery task, ``warden dedupe apply``) first closes the dead runs and settles their
claims from the CRM (``jobs.apply.settle``), under its job locks. Holding one lock a dead run
held proves its process is gone (a live run of ``all`` holds every rule job's lock), so any rule
job closes a dead run of ``all``; but each settles only its own rules' actions (and those of
rules no job plans any more), because only its lock keeps another process from planning the same
keys meanwhile. Without ``--apply`` nothing is written to the CRM: dead runs are closed and the
rest waits for an applying run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from domain.connector import Connector
from enforcement.registry import JOBS, rules_for
from jobs.apply.merges import JOB as MERGE_JOB
from jobs.apply.settle import Settled, settle_runs
from store.recovery import claimed_runs, jobs_to_settle
from store.runs import close_abandoned_runs

log = structlog.get_logger(__name__)
SETTLED_HERE = frozenset({*JOBS, "all", MERGE_JOB})
"""Jobs whose runs write to a CRM through the apply stage (the digest job settles its own runs)."""


def locks_of(job: str) -> tuple[str, ...]:
    """The job locks a run of ``job`` holds: every rule job's for ``all``."""
    return JOBS if job == "all" else (job,)


def rule_jobs(policy: Policy) -> dict[str, str]:
    """The job that plans each enabled rule of ``policy``, by rule id."""
    return {rule.id: family.job for rule, family in rules_for(policy, "all")}


def settle_interrupted(sessions: sessionmaker[Session], connector: Connector, connection: str,
                       held: Collection[str], now: datetime, *, apply: bool,
                       planned_by: Mapping[str, str]) -> tuple[list[str], Settled]:
    """Close the dead runs that the ``held`` locks prove dead and settle this process's share of their claims.

    ``held`` names the job locks the caller holds for ``connection``; ``planned_by`` the job of each
    rule the policy has (see :func:`rule_jobs`): an action of a rule it does not name is nobody's
    to plan again, so any holder settles it. Returns the runs closed as interrupted and what
    settling did (nothing without ``apply``).
    """
    due = jobs_to_settle(sessions, connection) & SETTLED_HERE
    provable = [job for job in sorted(due) if set(locks_of(job)) & set(held)]
    if not provable:
        return [], Settled([])
    closed = close_abandoned_runs(sessions, provable, connection, now)
    if closed:
        log.warning("job.interrupted_runs_closed", connection=connection, runs=closed)
    if not apply:
        return closed, Settled([])

    def mine(rule: str) -> bool:
        return planned_by.get(rule) in held or rule not in planned_by

    runs = sorted({*closed, *claimed_runs(sessions, provable, connection)})
    return closed, settle_runs(connector, sessions, runs, now, mine)
