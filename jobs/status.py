"""``warden status``: what an operator needs to know, read from the ledger, the policy and the broker.

Per connection and job: the last run, its outcome, the last run that finished (a ``warden run all``
counts for every job it ran), the next run the worker will make. Per connection: API calls spent
since the company's midnight, actions still pending (planned by an applying run, not yet done) and
digests pending (the latest digest run could not deliver them) and rules held back by their
blast-radius limits. Per worker: its heartbeat age, and a
refused policy edit. The Celery workers and beats the broker knows of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from jobs.celery_watch import CeleryView
from jobs.policy_keeper import LoadedPolicy
from jobs.recovery import locks_of, rule_jobs
from jobs.schedule import decide
from notify.digest import JOB as DIGEST_JOB
from store.heartbeats import heartbeats
from store.plan_history import current_holds
from store.runs import latest_runs, runs_per_job
from store.status import connection_activity

WORKERS_SHOWN_FOR = timedelta(days=1)
"""Workers silent for longer are gone for good and left out."""


@dataclass(frozen=True)
class JobStatus:
    connection: str
    job: str
    schedule: tuple[str, ...]
    last_run_id: str | None
    last_run_at: datetime | None
    outcome: str | None
    error: str | None
    next_run_at: datetime
    due_now: bool
    last_run_job: str | None
    """The job the last run was of: this one, or ``all``."""
    last_success_at: datetime | None
    """When the latest run that finished started."""


@dataclass(frozen=True)
class ConnectionStatus:
    name: str
    crm: str
    api_calls_today: int
    pending_actions: int
    pending_digests: int
    held: tuple[str, ...] = ()
    """Rules whose plan the latest applying run held back (blast-radius limits), each in one line."""


@dataclass(frozen=True)
class WorkerStatus:
    worker_id: str
    state: str
    job: str | None
    connection: str | None
    heartbeat_age_seconds: float
    policy_error: str | None


@dataclass(frozen=True)
class StatusReport:
    now: datetime
    time_zone: str
    """The company's (the policy's ``calendar.time_zone``): the times printed are in it."""
    policy_source: str
    policy_error: str | None
    policy_kept_at: datetime | None
    """When the policy shown was last loaded by a worker, if the file does not load and the ledger's copy is shown."""
    jobs: list[JobStatus]
    connections: list[ConnectionStatus]
    workers: list[WorkerStatus]
    celery: CeleryView


def collect_status(
    sessions: sessionmaker[Session], loaded: LoadedPolicy, policy_source: str, policy_error: str | None,
    now: datetime, *, celery: CeleryView | None = None, policy_kept_at: datetime | None = None,
) -> StatusReport:
    """Everything ``warden status`` prints, as plain values (also its ``--json`` output).

    ``celery``: what the broker said (:func:`jobs.celery_watch.celery_view`); none when it was not asked.
    """
    own = latest_runs(sessions)
    runs = runs_per_job(sessions, {"all": locks_of("all")})
    jobs = []
    for scheduled in loaded.jobs:
        key = (scheduled.connection.name, scheduled.job)
        decision = decide(scheduled.schedule, own[key].now if key in own else None, now)  # as the worker decides
        seen = runs.get(key)
        last, success = (seen.last, seen.last_success) if seen else (None, None)
        jobs.append(JobStatus(
            scheduled.connection.name, scheduled.job, scheduled.schedule.expressions,
            last.id if last else None, last.started_at if last else None, last.status if last else None,
            (last.error or last.summary.get("stopped")) if last else None, decision.next_fire, decision.due,
            last.job if last else None, success.started_at if success else None,
        ))
    midnight = datetime.combine(now.astimezone(ZoneInfo(loaded.policy.calendar.time_zone)).date(), time(),
                                ZoneInfo(loaded.policy.calendar.time_zone))
    crm_of = {j.connection.name: j.connection.crm for j in loaded.jobs}
    jobs_of = rule_jobs(loaded.policy)
    connections = [_connection_status(sessions, name, crm, midnight, jobs_of) for name, crm in crm_of.items()]
    workers = [
        WorkerStatus(b.worker_id, b.state, b.job, b.connection, (now - b.beat_at).total_seconds(), b.policy_error)
        for b in heartbeats(sessions)
        if now - b.beat_at < WORKERS_SHOWN_FOR
    ]
    return StatusReport(now, loaded.policy.calendar.time_zone, policy_source, policy_error, policy_kept_at, jobs,
                        connections, workers, celery or CeleryView())


def _connection_status(sessions: sessionmaker[Session], name: str, crm: str, since: datetime,
                       jobs_of: dict[str, str]) -> ConnectionStatus:
    activity = connection_activity(sessions, name, since, DIGEST_JOB)
    held = tuple(f"{h.reason} (run {h.run_id})" for h in current_holds(sessions, name, jobs_of))
    return ConnectionStatus(name, crm, activity.api_calls, activity.pending_actions, activity.pending_digests, held)
