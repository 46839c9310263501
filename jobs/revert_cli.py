"""``warden revert RUN_ID [--apply]``: take back what one run changed in its CRM (see ``jobs.apply.revert``)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from config.settings import Settings
from domain.connector import Connector
from domain.errors import ConnectorError
from domain.invocation import warden_command
from jobs import log_setup as warden_logging
from jobs.aliases import with_aliases
from jobs.apply.revert import NothingToRevert, RevertResult, revert
from jobs.connections import UnknownCrm, open_connection, open_connector
from jobs.inputs import fail, open_store, policy_or_exit, settings_or_exit
from jobs.recovery import settle_interrupted
from store.locks import JobLocks, locks_for
from store.revert_history import run_changes

console = Console()
SHOWN = 40


def revert_command(
    run_id: Annotated[str, typer.Argument(help="The run to take back: its id, as `warden run` printed it.")],
    apply: Annotated[bool, typer.Option("--apply", help="Change the CRM. Without it, only print the plan.")] = False,
    policy: Annotated[Path | None, typer.Option(help="Policy file (default WARDEN_POLICY).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Restore the fields a run changed and delete the tasks it created, where nobody changed them since.

    What someone changed since the run is left alone and listed. Dry run by default; a second
    revert of the same run does nothing; no time limit.
    """
    warden_logging.configure(json_output=True if json_output else None)
    settings = settings_or_exit()
    rules = policy_or_exit(settings, policy)
    engine, sessions = open_store(settings)
    try:
        connection = run_changes(sessions, run_id)[0].connection
    except LookupError as exc:
        raise fail(str(exc)) from None
    result = _revert(settings, rules, locks_for(engine), sessions, run_id, connection, apply)
    if json_output:
        sys.stdout.write(json.dumps(_as_json(result)) + "\n")
    else:
        _print(result)
    if result.outcome is not None and (result.outcome.failed or result.outcome.stopped):
        raise typer.Exit(1)


def _revert(settings: Settings, rules: Policy, locks: JobLocks, sessions: sessionmaker[Session], run_id: str,
            connection: str, apply: bool) -> RevertResult:
    now = datetime.now(UTC)
    connector = with_aliases(_open(settings, rules, connection), rules)
    with locks.hold("revert", connection) as taken:
        if not taken:
            raise fail(f"a revert for {connection!r} is running in another process; try again later", 1)
        settle_interrupted(sessions, connector, connection, ["revert"], now, apply=apply,
                           planned_by={"jobs.apply.revert": "revert"})
        try:
            return revert(run_id, connector, sessions, now, apply=apply)
        except NothingToRevert as exc:
            raise fail(str(exc)) from None
        except ConnectorError as exc:
            raise fail(f"the CRM failed during the revert: {exc}; run it again to finish", 1) from None


def _open(settings: Settings, rules: Policy, connection: str) -> Connector:
    named = next((c for c in rules.connections if c.name == connection), None)
    try:
        if named is not None:
            return open_connection(settings, named, rules.fields)
        return open_connector(settings, connection, rules.fields)
    except (UnknownCrm, ConnectorError) as exc:
        raise fail(str(exc)) from None


def _print(result: RevertResult) -> None:
    plan, done = result.plan, result.outcome
    restores = [a for a in plan.actions if a.payload and "task_id" not in a.payload]
    deletions = [a for a in plan.actions if "task_id" in a.payload]
    head = ("DRY RUN: nothing was changed in the CRM" if done is None
            else f"revert run {result.run_id}" if result.run_id else "nothing left to revert")
    console.print(f"Revert of run {plan.run.id} ({plan.run.job}, {plan.run.connection}, "
                  f"{plan.run.started_at:%Y-%m-%d %H:%M %Z}): {head}", markup=False, soft_wrap=True)
    verb = ("would restore", "would delete") if done is None else ("restored", "deleted")
    console.print(f"  {verb[0]} {sum(len(a.payload) for a in restores)} fields on {len(restores)} records; "
                  f"{verb[1]} {len(deletions)} tasks it created; left alone {len(plan.left)}; "
                  f"already reverted {len(plan.reverted)}", markup=False, soft_wrap=True)
    for action in restores[:SHOWN]:
        console.print(f"  restore {action.object} {action.record_id}: "
                      + ", ".join(f"{k}={v!r}" for k, v in action.payload.items()), markup=False, soft_wrap=True)
    for skip in plan.left:
        console.print(f"  left alone {skip.object} {skip.record_id}: {skip.reason}", markup=False, soft_wrap=True)
    for action, held in plan.reverted[:SHOWN]:
        console.print(f"  already reverted {action.object} {action.record_id} by run {held.run_id} "
                      f"at {held.at:%Y-%m-%d %H:%M %Z}", markup=False, soft_wrap=True)
    if done is not None:
        for error in done.errors:
            console.print(f"  failed: {error}", markup=False, soft_wrap=True)
    elif plan.actions:
        console.print(f"Carry it out: {warden_command()} revert {plan.run.id} --apply", markup=False, soft_wrap=True)


def _as_json(result: RevertResult) -> dict[str, Any]:
    plan, done = result.plan, result.outcome
    return {
        "reverts": plan.run.id, "run_id": result.run_id, "dry_run": done is None,
        "actions": [{"kind": str(a.kind), "object": str(a.object), "record_id": a.record_id, "key": a.key,
                     "payload": a.payload} for a in plan.actions],
        "left_alone": [{"object": str(s.object), "record_id": s.record_id, "reason": s.reason} for s in plan.left],
        "already_reverted": [{"object": str(a.object), "record_id": a.record_id, "key": a.key,
                              "by": held.run_id, "at": held.at.isoformat()} for a, held in plan.reverted],
        "applied": done.applied if done else 0, "failed": done.failed if done else 0,
        "errors": done.errors if done else [],
    }
