"""The ``warden`` command: the front door to every job. Dry run is the default everywhere."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from config.policy import Policy
from config.policy_file import PolicyError, load_policy
from config.settings import Settings
from connectors.local import LocalCRM, write_record_view
from demo.org import seed_demo
from domain.errors import ConnectorError, CredentialsError
from domain.invocation import warden_command
from domain.secrets import mask_url_secrets
from enforcement.registry import JOBS
from jobs import activity_cli, dedupe_cli, doctor_cli, report_cli, revert_cli, worker_cli
from jobs import log_setup as warden_logging
from jobs.aliases import with_aliases
from jobs.connections import UnknownCrm, open_connector
from jobs.digest_cli import (
    DEMO_PREVIEW_DIR,
    DEMO_RECORD_VIEW,
    PreviewOption,
    SendOption,
    ToOption,
    build_digests,
    digest_command,
)
from jobs.inputs import (
    clock_or_exit,
    crm_or_exit,
    fail,
    folder_or_exit,
    ledger_failed,
    open_store,
    policy_or_exit,
    settings_or_exit,
)
from jobs.job_table import job_table
from jobs.ledger_view import print_ledger_run
from jobs.pipeline import RunResult, run_job
from jobs.progress import progress_on
from jobs.recovery import locks_of, rule_jobs, settle_interrupted
from jobs.report import as_json, print_run
from jobs.schedule import ScheduleError
from jobs.usage_errors import OneLineUsageErrors
from notify.digest import DigestConfigError
from store.locks import LockError, locks_for

app = typer.Typer(help="CRM Warden: keeps a CRM honest. Every command that changes a CRM is a dry run "
                  "unless given --apply.", no_args_is_help=True, add_completion=False, cls=OneLineUsageErrors)
policy_app = typer.Typer(help="Check policy files, or draft one from a live org.", no_args_is_help=True,
                        cls=OneLineUsageErrors)
ledger_app = typer.Typer(help="Look at what runs found and did.", no_args_is_help=True, cls=OneLineUsageErrors)
app.add_typer(policy_app, name="policy")
app.add_typer(ledger_app, name="ledger")
app.add_typer(dedupe_cli.app, name="dedupe")
app.add_typer(report_cli.app, name="report")
app.add_typer(activity_cli.app, name="activity")
console = Console()

NowOption = Annotated[str | None, typer.Option(help="Fix the clock (ISO-8601 with offset), e.g. 2026-11-20T15:00:00Z.")]
ApplyOption = Annotated[bool, typer.Option("--apply", help="Change the CRM. Without it, only print the plan.")]


def _execute(job: str, crm: str, settings: Settings, policy: Policy, now: datetime, apply: bool,
             full: bool = False, allow_large: bool = False) -> RunResult:
    try:
        connector = open_connector(settings, crm, policy.fields)
    except (UnknownCrm, ConnectorError) as exc:
        raise fail(str(exc)) from None
    engine, sessions = open_store(settings)
    locks = locks_for(engine)
    try:
        with ExitStack() as held:  # the worker's locks: never run a job twice at once for one CRM
            for each in locks_of(job):
                if not held.enter_context(locks.hold(each, crm)):
                    raise fail(f"job {each!r} for {crm!r} is running in another process; try again later", 1)
            settle_interrupted(sessions, with_aliases(connector, policy), crm, locks_of(job), now, apply=apply,
                               planned_by=rule_jobs(policy))
            return run_job(job, connector=connector, connection=crm, policy=policy, sessions=sessions, now=now,
                           apply=apply, full=full, allow_large=allow_large, progress=progress_on())
    except LockError as exc:
        raise fail(str(exc)) from None
    except CredentialsError as exc:
        raise fail(f"the run failed and was recorded as failed in the ledger: {exc}") from None
    except ConnectorError as exc:
        raise fail(f"the run failed and was recorded as failed in the ledger: {exc}", 1) from None
    except SQLAlchemyError as exc:
        raise ledger_failed(settings, exc) from None


@app.command()
def run(
    job: Annotated[str, typer.Argument(help=f"One of: {' '.join((*JOBS, 'all'))}.")],
    crm: Annotated[str | None, typer.Option(help="local, salesforce or hubspot (default WARDEN_CRM).")] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy file (default WARDEN_POLICY).")] = None,
    now: NowOption = None,
    apply: ApplyOption = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Judge every record, not only what changed since the "
                                       "rules' last run.")] = False,
    allow_large: Annotated[bool, typer.Option("--allow-large", help="Apply plans above the rules' blast-radius "
                                              "limits (max_actions, unusual size), this once.")] = False,
) -> None:
    """Sync, evaluate a job's rules and print the plan; with --apply, carry it out."""
    if job not in (*JOBS, "all"):
        raise typer.BadParameter(f"unknown job {job!r}: use one of {', '.join((*JOBS, 'all'))}", param_hint="JOB")
    warden_logging.configure(json_output=True if json_output else None)
    settings = settings_or_exit()
    result = _execute(job, crm_or_exit(crm, settings), settings, policy_or_exit(settings, policy), clock_or_exit(now),
                      apply, full, allow_large)
    if json_output:
        sys.stdout.write(as_json(result) + "\n")
    else:
        print_run(result, console)
    if result.errors:
        raise typer.Exit(1)


@app.command()
def demo(apply: ApplyOption = False, now: NowOption = None) -> None:
    """Seed the embedded demo CRM (once) and run every rule on it."""
    warden_logging.configure()
    settings = settings_or_exit()
    moment = clock_or_exit(now)
    try:
        crm = LocalCRM.from_url(settings.local.url)
    except ConnectorError as exc:
        raise fail(str(exc)) from None
    seed_demo(crm, moment)
    policy = policy_or_exit(settings, None)
    result = _execute("all", "local", settings, policy, moment, apply)
    print_run(result, console)
    _, sessions = open_store(settings)
    links = write_record_view(crm, DEMO_RECORD_VIEW)
    digests = build_digests(sessions, settings, policy, "local", moment, preview=DEMO_PREVIEW_DIR, send=False,
                            links=links)
    console.print(f"\nManagers' digests previewed in {DEMO_PREVIEW_DIR}/ (open the .html files):")
    for d in digests.digests:
        console.print(f"  {d.recipient}: {d.items} items  " + " ".join(str(f) for f in d.files if f.suffix == ".html"))
    console.print(f"\nDemo CRM: {settings.local.url}   ledger: {mask_url_secrets(settings.database_url)}")
    console.print(f"See this run again: {warden_command()} ledger show {result.run_id}", markup=False, soft_wrap=True)
    if result.dry_run:
        console.print(f"Apply the plan to the demo CRM: {warden_command()} demo --apply", markup=False, soft_wrap=True)


@app.command()
def digest(
    crm: Annotated[str | None, typer.Option(help="local, salesforce or hubspot (default WARDEN_CRM).")] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy file (default WARDEN_POLICY).")] = None,
    now: NowOption = None,
    preview: PreviewOption = None,
    send: SendOption = False,
    to: ToOption = None,
) -> None:
    """Each manager's digest of what their team left undone, from the latest runs in the ledger."""
    warden_logging.configure()
    settings = settings_or_exit()
    moment, folder, connection = clock_or_exit(now), folder_or_exit(preview, "--preview"), crm_or_exit(crm, settings)
    _, sessions = open_store(settings)
    try:
        report = build_digests(sessions, settings, policy_or_exit(settings, policy), connection, moment,
                               preview=folder, send=send, test_to=to)
    except DigestConfigError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise ledger_failed(settings, exc, "the digests") from None
    digest_command(report, send, console, test_to=to)


app.command()(doctor_cli.doctor)
policy_app.command("init")(doctor_cli.policy_init)
app.command()(worker_cli.worker)
app.command()(worker_cli.status)
app.command()(worker_cli.migrate)
app.command("revert")(revert_cli.revert_command)


@policy_app.command("check")
def policy_check(file: Annotated[Path, typer.Argument(help="The policy YAML file.")]) -> None:
    """Validate a policy file as the worker does; print every problem with its key and line; exit 1 if any."""
    try:
        loaded = load_policy(file)
        job_table(loaded, "local")  # the worker's own scheduling of it: the check refuses what the worker would
    except (PolicyError, ScheduleError) as exc:
        raise fail(str(exc), 1) from None
    console.print(f"{file}: OK ({len(loaded.rules)} rules, {len(loaded.teams)} teams)")


@ledger_app.command("show")
def ledger_show(
    run_id: Annotated[str, typer.Argument(help="A run id printed by `warden run` (or `latest`).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print what a run found and did."""
    settings = settings_or_exit()
    if not print_ledger_run(open_store(settings)[1], run_id, console, json_output=json_output):
        raise fail(f"no run {run_id!r} in {settings.database_url}", 1)
