"""``warden ledger show``: a recorded run, shown exactly as ``warden run`` showed it."""

from __future__ import annotations

import sys

from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from domain.plan import Action
from jobs.pipeline import RunResult
from jobs.plan_outcome import ActionOutcome, applied_before, dry_run_outcomes
from jobs.report import as_json, print_run
from store.ledger import Ledger
from store.run_report import RunReport, UnknownRunError


def load_result(report: RunReport) -> RunResult:
    """Rebuild a ``RunResult`` from the ledger, so one renderer serves live and recorded runs."""
    run = report.run
    summary = run.summary or {}
    return RunResult(
        run_id=run.id, job=run.job, connection=run.connection, dry_run=run.dry_run, now=run.now,
        findings=report.findings,
        actions=[
            ActionOutcome(Action(a.kind, a.object, a.record_id, a.key, a.reason, a.rule, a.payload), a.status, a.error)
            for a in report.actions
        ],
        skips=report.skips,
        errors=list(summary.get("errors", [])) + ([run.error] if run.error else []),
        api_calls=dict(summary.get("api_calls", {})),
        stopped=summary.get("stopped"),
    )


def print_ledger_run(sessions: sessionmaker[Session], run_id: str, console: Console, *, json_output: bool) -> bool:
    """Print run ``run_id`` (or the latest run for ``latest``); False when there is no such run."""
    ledger = Ledger(sessions)
    if run_id == "latest":
        latest = ledger.latest_runs(1)
        if not latest:
            return False
        run_id = latest[0].id
    try:
        report = ledger.run_report(run_id)
    except UnknownRunError:
        return False
    result = load_result(report)
    actions = [a.action for a in result.actions]
    if result.dry_run:  # what an apply would do now, as `warden run` says of a dry run
        result.actions = dry_run_outcomes(actions, ledger.held_claims(result.connection, {a.key for a in actions}))
    elif shared := {entry.key for entry in report.actions if entry.shared}:  # applied by an earlier run
        held = ledger.held_claims(result.connection, shared)
        result.actions = [applied_before(outcome.action, claim)
                          if entry.shared and (claim := held.get(entry.key)) and claim.applied
                          else outcome for entry, outcome in zip(report.actions, result.actions, strict=True)]
    if json_output:
        sys.stdout.write(as_json(result) + "\n")
    else:
        print_run(result, console)
    return True
