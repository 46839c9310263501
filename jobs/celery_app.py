"""Scale-out on Celery: the worker's jobs as tasks, the policy's schedule as the beat schedule.

``celery -A jobs.celery_app worker`` runs jobs; ``celery -A jobs.celery_app beat`` sends them on
the policy's cron schedules. Each due connection becomes a flow (:mod:`jobs.celery_flow`): one
sync task per object type, then one task per job, so many workers share the load.
A task re-reads the policy, takes the same per-job lock as ``warden worker`` and resumes what an
earlier run left half done, so a redelivered or duplicated task never runs a job twice at once nor
applies an action twice. Use PostgreSQL as the store: its advisory locks hold across machines.

This module is Celery's entry point, so it reads the settings (broker URL, policy) at import.
Beat runs :class:`jobs.beat.PolicyScheduler`, which re-reads the policy while it runs.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime
from functools import cache
from typing import Any

import structlog
import typer
from celery import Celery, Task
from celery.signals import after_setup_logger, worker_init

from config.settings import Settings, SettingsError, load_settings
from domain.records import ObjectType
from jobs import log_setup as warden_logging
from jobs.beat import beat_schedule
from jobs.celery_flow import RUN_FLOW, RUN_JOB, RUN_SYNCED_JOB, SYNC_OBJECT, connection_flow
from jobs.inputs import open_store
from jobs.job_runner import JobRunner
from jobs.policy_keeper import NoGoodPolicyError, PolicyKeeper
from jobs.progress import LogProgress
from jobs.shutdown import ShutdownFlag
from jobs.worker_setup import build_runner, policy_keeper, utc_now

log = structlog.get_logger(__name__)


@dataclasses.dataclass(frozen=True)
class _Process:
    keeper: PolicyKeeper
    runner: JobRunner


@cache
def _process() -> _Process:
    """Store, locks and policy of this worker process, opened once after Celery forks it."""
    settings = load_settings()
    engine, sessions = open_store(settings, migrated=False)  # migrated once, before the fork: _migrate_store
    runner = build_runner(settings, engine, sessions, apply=settings.apply, shutdown=ShutdownFlag(),
                          progress=LogProgress())  # a Celery worker's log, through Celery's handlers
    return _Process(policy_keeper(settings, sessions=sessions), runner)


def _log_through_celery(loglevel: int, **_signal: Any) -> None:
    """Celery set up its log handlers (worker or beat): our lines go through them at their own levels."""
    warden_logging.configure(level=loglevel, through_logging=True)


def _migrate_store(**_signal: Any) -> None:
    """Bring the store's schema up to date once in the parent worker process, before it forks.

    A store that cannot be opened stops the worker with its one line (exit 2) instead of leaving it
    to take tasks it cannot record.
    """
    try:
        engine, _ = open_store(load_settings())
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    engine.dispose()


def run_connection_job(connection: str, job: str) -> dict[str, Any]:
    """Run one job for one connection now (the task body); returns its outcome as a dict."""
    process = _process()
    loaded = process.keeper.refresh()
    scheduled = next((j for j in loaded.jobs if j.connection.name == connection and j.job == job), None)
    if scheduled is None:
        return _unscheduled(connection, job)
    outcome = process.runner.run(job, scheduled.connection, loaded.policy, utc_now())
    return dataclasses.asdict(outcome)


def run_job_after_sync(_syncs: list[dict[str, Any]], connection: str, job: str, fresh_since: str) -> dict[str, Any]:
    """Run one job of a flow once its syncs are done (the task body); ``_syncs`` are their outcomes.

    The job syncs only the object types no sync has covered since ``fresh_since`` (the minute its
    flow was sent): none when the flow's syncs finished, the rest when one stopped or was locked.
    """
    process = _process()
    loaded = process.keeper.refresh()
    scheduled = next((j for j in loaded.jobs if j.connection.name == connection and j.job == job), None)
    if scheduled is None:
        return _unscheduled(connection, job)
    outcome = process.runner.run(job, scheduled.connection, loaded.policy, utc_now(),
                                 fresh_since=datetime.fromisoformat(fresh_since))
    return dataclasses.asdict(outcome)


def sync_connection_object(connection: str, obj: str, fresh_since: str) -> dict[str, Any]:
    """Sync one object type of one connection's mirror (the task body); returns its outcome as a dict.

    A sync of the type that started since ``fresh_since`` (another flow's, fired in the same minute)
    leaves nothing to do.
    """
    process = _process()
    loaded = process.keeper.refresh()
    scheduled = next((j.connection for j in loaded.jobs if j.connection.name == connection), None)
    if scheduled is None:
        return _unscheduled(connection, f"sync:{obj}")
    outcome = process.runner.sync(ObjectType(obj), scheduled, loaded.policy,
                                  fresh_since=datetime.fromisoformat(fresh_since))
    return dataclasses.asdict(outcome)


def run_flow(task: Task, connection: str, jobs: list[str]) -> str:
    """Send the flow that syncs ``connection`` object by object, then runs ``jobs`` (beat's task); returns its id.

    The flow's tasks go to the queue this task came from.
    """
    queue = (task.request.delivery_info or {}).get("routing_key") or app.conf.task_default_queue
    return str(connection_flow(app, connection, jobs, utc_now(), queue=queue).apply_async().id)


def _unscheduled(connection: str, job: str) -> dict[str, Any]:
    log.warning("task.unscheduled", job=job, crm=connection)
    return {"connection": connection, "job": job, "status": "unscheduled",
            "error": f"the policy no longer schedules job {job!r} for connection {connection!r}"}


def _configure(app: Celery, settings: Settings) -> None:
    app.conf.warden_policy, app.conf.warden_crm = str(settings.policy_path()), settings.crm
    keeper = policy_keeper(settings)
    try:
        loaded = keeper.refresh()
    except NoGoodPolicyError as exc:
        log.error("celery.no_policy", reason=str(exc))
        return
    app.conf.timezone = loaded.policy.calendar.time_zone
    app.conf.beat_schedule = beat_schedule(loaded)
    app.conf.beat_scheduler = "jobs.beat:PolicyScheduler"


def make_app(settings: Settings) -> Celery:
    """The Celery app: Redis (or any broker URL) from ``WARDEN_CELERY_BROKER_URL``, results beside it."""
    celery = Celery("warden", broker=settings.celery_broker_url, backend=settings.celery_broker_url)
    celery.conf.update(
        task_acks_late=True,  # a worker lost mid-job gets its task redelivered; locks and claims make that safe
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # jobs are long: do not hoard them
        task_default_queue="warden",
        broker_connection_retry_on_startup=True,
        result_expires=24 * 3600,
        enable_utc=True,
    )
    celery.task(name=RUN_JOB)(run_connection_job)
    celery.task(name=SYNC_OBJECT)(sync_connection_object)
    celery.task(name=RUN_SYNCED_JOB)(run_job_after_sync)
    celery.task(name=RUN_FLOW, bind=True)(run_flow)
    worker_init.connect(_migrate_store, weak=False)
    after_setup_logger.connect(_log_through_celery, weak=False)
    _configure(celery, settings)
    return celery


def _settings_at_start() -> Settings:
    """The settings Celery starts with; bad ones end ``celery -A jobs.celery_app ...`` with one line each, exit 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None


app = make_app(_settings_at_start())
