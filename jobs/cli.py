"""The ``warden`` command: the front door to every job. Dry run is the default everywhere."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from config.policy import Policy
from config.policy_file import PolicyError, load_policy
from config.settings import Settings
from connectors.local import LocalCRM
from demo.org import seed_demo
from domain.errors import ConnectorError
from enforcement.registry import JOBS
from jobs import dedupe_cli, worker_cli
from jobs import log_setup as warden_logging
from jobs.connections import UnknownCrm, open_connector
from jobs.digest_cli import DEMO_PREVIEW_DIR, PreviewOption, SendOption, build_digests, digest_command
from jobs.inputs import fail, open_store, policy_or_exit
from jobs.ledger_view import print_ledger_run
from jobs.pipeline import RunResult, run_job
from jobs.report import as_json, print_run
from notify.digest import DigestConfigError
from store.locks import locks_for

app = typer.Typer(help="CRM Warden: keeps a CRM honest. Every command that changes a CRM is a dry run "
                  "unless given --apply.", no_args_is_help=True, add_completion=False)
policy_app = typer.Typer(help="Check policy files.", no_args_is_help=True)
ledger_app = typer.Typer(help="Look at what runs found and did.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(ledger_app, name="ledger")
app.add_typer(dedupe_cli.app, name="dedupe")
console = Console()
err = Console(stderr=True)

NowOption = Annotated[str | None, typer.Option(help="Fix the clock (ISO-8601 with offset), e.g. 2026-11-20T15:00:00Z.")]
ApplyOption = Annotated[bool, typer.Option("--apply", help="Change the CRM. Without it, only print the plan.")]


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO-8601 date-time", param_hint="--now") from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"{value!r} has no UTC offset: add Z or +HH:MM", param_hint="--now")
    return moment.astimezone(UTC)


def _execute(job: str, crm: str, settings: Settings, policy: Policy, now: datetime, apply: bool,
             full: bool = False) -> RunResult:
    try:
        connector = open_connector(settings, crm, policy.fields)
    except (UnknownCrm, ConnectorError) as exc:
        raise fail(str(exc)) from None
    engine, sessions = open_store(settings)
    locks = locks_for(engine)
    try:
        with ExitStack() as held:  # the worker's locks: never run a job twice at once for one CRM
            for each in JOBS if job == "all" else (job,):
                if not held.enter_context(locks.hold(each, crm)):
                    raise fail(f"job {each!r} for {crm!r} is running in another process; try again later", 1)
            return run_job(job, connector=connector, connection=crm, policy=policy,
                           sessions=sessions, now=now, apply=apply, full=full)
    except ConnectorError as exc:
        raise fail(f"the run failed and was recorded as failed in the ledger: {exc}", 1) from None


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
) -> None:
    """Sync, evaluate a job's rules and print the plan; with --apply, carry it out."""
    if job not in (*JOBS, "all"):
        raise typer.BadParameter(f"unknown job {job!r}: use one of {', '.join((*JOBS, 'all'))}", param_hint="JOB")
    warden_logging.configure(json_output=True if json_output else None)
    settings = Settings()
    result = _execute(job, crm or settings.crm, settings, policy_or_exit(settings, policy), _now(now), apply, full)
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
    settings = Settings()
    moment = _now(now)
    crm = LocalCRM.from_url(settings.local.url)
    seed_demo(crm, moment)
    policy = policy_or_exit(settings, None)
    result = _execute("all", "local", settings, policy, moment, apply)
    print_run(result, console)
    _, sessions = open_store(settings)
    digests = build_digests(sessions, settings, policy, "local", moment, preview=DEMO_PREVIEW_DIR, send=False)
    console.print(f"\nManagers' digests previewed in {DEMO_PREVIEW_DIR}/ (open the .html files):")
    for d in digests.digests:
        console.print(f"  {d.recipient}: {d.items} items  " + " ".join(str(f) for f in d.files if f.suffix == ".html"))
    console.print(f"\nDemo CRM: {settings.local.url}   ledger: {settings.database_url}")
    console.print(f"See this run again: warden ledger show {result.run_id}")
    if result.dry_run:
        console.print("Apply the plan to the demo CRM: warden demo --apply")


@app.command()
def digest(
    crm: Annotated[str | None, typer.Option(help="local, salesforce or hubspot (default WARDEN_CRM).")] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy file (default WARDEN_POLICY).")] = None,
    now: NowOption = None,
    preview: PreviewOption = None,
    send: SendOption = False,
) -> None:
    """Each manager's digest of what their team left undone, from the latest runs in the ledger."""
    warden_logging.configure()
    settings = Settings()
    _, sessions = open_store(settings)
    try:
        report = build_digests(sessions, settings, policy_or_exit(settings, policy), crm or settings.crm, _now(now),
                               preview=preview, send=send)
    except DigestConfigError as exc:
        raise fail(str(exc)) from None
    digest_command(report, send, console)


app.command()(worker_cli.worker)
app.command()(worker_cli.status)


@policy_app.command("check")
def policy_check(file: Annotated[Path, typer.Argument(help="The policy YAML file.")]) -> None:
    """Validate a policy file; print every problem with its key and line; exit 1 if any."""
    try:
        loaded = load_policy(file)
    except PolicyError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(f"{file}: OK ({len(loaded.rules)} rules, {len(loaded.teams)} teams)")


@ledger_app.command("show")
def ledger_show(
    run_id: Annotated[str, typer.Argument(help="A run id printed by `warden run` (or `latest`).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print what a run found and did."""
    settings = Settings()
    if not print_ledger_run(open_store(settings)[1], run_id, console, json_output=json_output):
        err.print(f"no run {run_id!r} in {settings.database_url}")
        raise typer.Exit(1)
