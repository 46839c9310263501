"""``warden worker``, ``warden status`` and ``warden migrate``: the scheduled worker's commands.

``jobs.cli`` registers them with ``app.command()(worker)`` and so on; this module also runs on its
own (``python -m jobs.worker_cli``) with the three commands.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.policy_file import PolicyError
from config.settings import Settings
from domain.invocation import warden_command
from domain.secrets import mask_url_secrets
from jobs import log_setup as warden_logging
from jobs.celery_watch import CeleryView, celery_view
from jobs.connections import ConnectionSettingsError, check_connections
from jobs.inputs import database_reason, fail, open_store, settings_or_exit
from jobs.metrics import WorkerMetrics, serve
from jobs.policy_keeper import LoadedPolicy, NoGoodPolicyError, PolicyKeeper, load_policy_text
from jobs.progress import progress_on
from jobs.schedule import ScheduleError
from jobs.shutdown import ShutdownFlag
from jobs.status import StatusReport, collect_status
from jobs.usage_errors import OneLineUsageErrors
from jobs.worker import Worker
from jobs.worker_setup import build_runner, policy_keeper, utc_now
from store.db import schema_revision
from store.good_policies import last_good_policy
from store.heartbeats import Heartbeat

app = typer.Typer(help="The scheduled worker.", no_args_is_help=True, add_completion=False, cls=OneLineUsageErrors)
console = Console()

PolicyOption = Annotated[Path | None, typer.Option(help="Policy file (default WARDEN_POLICY).")]


def _loaded(keeper: PolicyKeeper) -> None:
    try:
        keeper.refresh()
    except NoGoodPolicyError as exc:
        raise fail(str(exc)) from None


@app.command()
def worker(
    apply: Annotated[bool, typer.Option("--apply", help="Change the CRMs. Without it every run is a dry run.")] = False,
    once: Annotated[bool, typer.Option("--once", help="Run the jobs due now, then exit (for cron or tests).")] = False,
    policy: PolicyOption = None,
    idle_seconds: Annotated[float, typer.Option(help="Longest sleep between passes (heartbeat interval).")] = 30.0,
) -> None:
    """Run every job of every connection on the policy's schedule until SIGTERM (applying with WARDEN_APPLY=true)."""
    warden_logging.configure()
    settings = settings_or_exit()
    apply = apply or settings.apply
    engine, sessions = open_store(settings)
    keeper = policy_keeper(settings, policy, sessions)
    _loaded(keeper)
    try:
        check_connections(settings, {j.connection.name: j.connection for j in keeper.refresh().jobs}.values())
    except ConnectionSettingsError as exc:
        raise fail(str(exc)) from None
    shutdown = ShutdownFlag()
    shutdown.install()
    metrics = WorkerMetrics(stale_after=max(600.0, idle_seconds * 3))
    server = serve(metrics, settings.metrics_port) if settings.metrics_port else None
    runner = build_runner(settings, engine, sessions, apply=apply, shutdown=shutdown, progress=progress_on())
    loop = Worker(keeper, runner, Heartbeat(sessions, utc_now), utc_now, idle_seconds,
                  on_outcome=metrics.record, on_progress=metrics.progressed)
    try:
        if once:
            loop.tick()
        else:
            loop.run_forever()
    finally:
        if server is not None:
            server.shutdown()
        engine.dispose()


@app.command()
def migrate() -> None:
    """Bring the database to the latest schema (a platform's release step); running it again changes nothing."""
    settings = settings_or_exit()
    engine, _ = open_store(settings, migrated=False)
    before = _revision_or_exit(engine, settings)
    engine.dispose()
    engine, _ = open_store(settings)
    after = _revision_or_exit(engine, settings)
    done = f"already at {after}" if before == after else f"migrated from {before or 'an empty database'} to {after}"
    console.print(f"{mask_url_secrets(settings.database_url)}: {done}", markup=False, highlight=False, soft_wrap=True)
    engine.dispose()


def _revision_or_exit(engine: Engine, settings: Settings) -> str | None:
    try:
        return schema_revision(engine)
    except SQLAlchemyError as exc:
        raise fail(f"cannot open the database {settings.database_url}: {database_reason(exc)}") from None


@app.command()
def status(
    policy: PolicyOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Last and next run of each job per connection, API calls today, pending work, workers, Celery, beat."""
    warden_logging.configure(json_output=True if json_output else None)
    settings = settings_or_exit()
    _, sessions = open_store(settings)
    keeper = policy_keeper(settings, policy)
    loaded, kept_at = _policy_for_status(keeper, sessions, settings)
    celery = celery_view(settings.celery_broker_url, CELERY_ANSWER_SECONDS)
    report = collect_status(sessions, loaded, str(keeper.path), keeper.error, utc_now(), celery=celery,
                            policy_kept_at=kept_at)
    if json_output:
        sys.stdout.write(json.dumps(dataclasses.asdict(report), default=_json_value) + "\n")
    else:
        print_status(report, console)


CELERY_ANSWER_SECONDS = 1.0
"""How long ``status`` waits for Celery workers to answer: they reply in milliseconds when alive."""


def _policy_for_status(keeper: PolicyKeeper, sessions: sessionmaker[Session],
                       settings: Settings) -> tuple[LoadedPolicy, datetime | None]:
    """The policy file; when it does not load, the last good text a worker kept in the ledger, and when it loaded."""
    try:
        return keeper.refresh(), None
    except NoGoodPolicyError as exc:
        kept = last_good_policy(sessions, str(keeper.path))
        if kept is None:
            raise fail(f"{exc}; no worker has run with an earlier version of it") from None
    try:
        return load_policy_text(kept.text, str(keeper.path), settings.crm), kept.loaded_at
    except (PolicyError, ScheduleError) as exc:  # valid for an older CRM Warden, not this one
        raise fail(f"{keeper.error}; its last good version no longer loads either: {exc}") from None


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _when(moment: datetime | None, now: datetime, zone: ZoneInfo) -> str:
    if moment is None:
        return "never"
    seconds = (moment - now).total_seconds()
    span = f"{abs(seconds) / 3600:.1f} h" if abs(seconds) >= 5400 else f"{abs(seconds) / 60:.0f} min"
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z} ({'in ' + span if seconds > 0 else span + ' ago'})"


def print_status(report: StatusReport, out: Console) -> None:
    """The operator's view: jobs, connections, workers, Celery, and a policy file that does not load."""
    zone = ZoneInfo(report.time_zone)
    if report.policy_kept_at is not None:
        out.print(f"[red]Policy file {report.policy_source} does not load:[/] showing the last good version, which "
                  f"a worker loaded at {_when(report.policy_kept_at, report.now, zone)}.")
        out.print(report.policy_error or "", style="red", markup=False, highlight=False, soft_wrap=True)
        out.print()
    elif report.policy_error:
        out.print(f"[red]Policy edit refused; the last good policy is running.[/]\n{report.policy_error}\n")
    jobs = Table("connection", "job", "schedule", "last run", "outcome", "last finished", "next run",
                 title=f"Jobs (times in {report.time_zone})")
    for j in report.jobs:
        outcome = (j.outcome or "-") + (f": {j.error}" if j.error else "")
        inside = " (in run all)" if j.last_run_job not in (None, j.job) else ""
        next_run = "due now" if j.due_now else _when(j.next_run_at, report.now, zone)
        jobs.add_row(j.connection, j.job, " | ".join(j.schedule), _when(j.last_run_at, report.now, zone) + inside,
                     outcome, _when(j.last_success_at, report.now, zone), next_run)
    out.print(jobs)
    crms = Table("connection", "crm", "API calls today", "pending actions", "pending digests", title="Connections")
    for c in report.connections:
        crms.add_row(c.name, c.crm, str(c.api_calls_today), str(c.pending_actions), str(c.pending_digests))
    out.print(crms)
    for c in report.connections:
        for reason in c.held:
            out.print(f"held in {c.name}: {reason}", soft_wrap=True, markup=False)
    workers = Table("worker", "state", "doing", "heartbeat", "policy", title="Workers")
    for w in report.workers:
        doing = f"{w.connection}/{w.job}" if w.job else "-"
        workers.add_row(w.worker_id, w.state, doing, f"{w.heartbeat_age_seconds:.0f} s ago",
                        "refused edit" if w.policy_error else "ok")
    out.print(workers if report.workers else
              f"No worker checked in during the last day: is `{warden_command()} worker` running?")
    print_celery(report.celery, report.now, out)


def print_celery(view: CeleryView, now: datetime, out: Console) -> None:
    """Celery workers and beats as the broker knows them, or why it could not be asked."""
    if view.broker_problem:
        out.print(f"Celery: {view.broker_problem}", markup=False, highlight=False, soft_wrap=True)
        return
    for w in view.workers:
        doing = ", ".join(w.active_tasks) or "idle"
        out.print(f"Celery worker {w.name}: {doing}", markup=False, highlight=False, soft_wrap=True)
    if not view.workers:
        out.print(f"No Celery workers seen (none answered within {CELERY_ANSWER_SECONDS:.0f} s)")
    for b in view.beats:
        out.print(f"Celery beat {b.name}: heartbeat {(now - b.beat_at).total_seconds():.0f} s ago, "
                  f"{b.entries} schedule entries", markup=False, highlight=False, soft_wrap=True)
    if view.beat_problem:
        out.print(f"Celery beat: {view.beat_problem}", markup=False, highlight=False, soft_wrap=True)
    elif not view.beats:
        out.print("No Celery beat seen")


if __name__ == "__main__":
    app()
