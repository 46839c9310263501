"""Show a run to people (Rich tables) and to scripts (one JSON object)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from typing import Any

from rich.console import Console
from rich.table import Table

from domain.invocation import warden_command
from domain.plan import PlanStatus
from jobs.pipeline import RunResult

MAX_ROWS = 40
EXAMPLES_PER_RULE = 3
PLAN_WORDS = {PlanStatus.WOULD_APPLY: "would apply", PlanStatus.ALREADY_APPLIED: "already applied",
              PlanStatus.WOULD_RETRY: "would retry"}


def in_order(result: RunResult) -> RunResult:
    """``result``'s findings and actions by rule and record, as ``warden run`` and ``warden ledger show`` list them.

    The ledger keeps what a run shares with the runs before it once, so it cannot give back the order a
    run's rules happened to plan in; both show this one instead (a record's own actions keep theirs).
    """
    return replace(result, findings=sorted(result.findings, key=lambda f: (f.rule, f.record_id)),
                   actions=sorted(result.actions, key=lambda a: (a.action.rule, a.action.record_id)))


def as_json(result: RunResult) -> str:
    """The ``--json`` contract: run_id, job, crm, dry_run, now, findings, actions, summary."""
    result = in_order(result)
    payload: dict[str, Any] = {
        "run_id": result.run_id,
        "job": result.job,
        "crm": result.connection,
        "dry_run": result.dry_run,
        "now": result.now.isoformat(),
        "findings": [
            {
                "rule": f.rule,
                "object": str(f.object),
                "record_id": f.record_id,
                "owner_id": f.owner_id,
                "reason": f.reason,
                "evidence": f.evidence,
            }
            for f in result.findings
        ],
        "actions": [
            {
                "kind": str(a.action.kind),
                "object": str(a.action.object),
                "record_id": a.action.record_id,
                "key": a.action.key,
                "status": a.status,
                "reason": a.action.reason,
                "error": a.error,
                "applied_by": a.applied_by,
                "applied_at": a.applied_at.isoformat() if a.applied_at else None,
            }
            for a in result.actions
        ],
        "skipped": [
            {"rule": s.rule, "object": str(s.object), "record_id": s.record_id, "reason": s.reason}
            for s in result.skips
        ],
        "summary": result.summary(),
    }
    return json.dumps(payload, ensure_ascii=False, default=str)


def print_run(result: RunResult, console: Console) -> None:
    """A sales manager's view: per rule, how much is wrong and a few examples, then the plan's totals."""
    result = in_order(result)
    mode = "DRY RUN: nothing was changed in the CRM" if result.dry_run else "APPLIED"
    console.print(f"[bold]Run {result.run_id}[/] job={result.job} crm={result.connection} "
                  f"now={result.now:%Y-%m-%d %H:%M %Z} [yellow]{mode}[/]")
    _print_by_rule(result, console)
    for rule in sorted({f.rule for f in result.findings}):
        examples = Table(title=f"{rule}: examples", expand=True, show_header=False)
        examples.add_column("Record", style="cyan", no_wrap=True)
        examples.add_column("Why", ratio=1)
        for f in [f for f in result.findings if f.rule == rule][:EXAMPLES_PER_RULE]:
            examples.add_row(f.record_id, f.reason)
        console.print(examples)
    if result.dry_run:
        _print_plan_statuses(result, console)
    for reason in result.held.values():
        console.print(f"{'would be held' if result.dry_run else 'held'}: {reason}", soft_wrap=True, markup=False)
    failed = [a for a in result.actions if a.status == "failed"]
    for a in failed[:MAX_ROWS]:
        console.print(f"[red]failed[/] {a.action.kind} {a.action.object} {a.action.record_id}: {a.error}")
    console.print(f"Records skipped: {len(result.skips)}; API calls: {result.api_calls}")
    for skip in result.skips[:EXAMPLES_PER_RULE * 2]:
        console.print(f"  skipped {skip.object} {skip.record_id} ({skip.rule}): {skip.reason}")
    for error in result.errors:
        console.print(f"[red]error:[/] {error}")
    if result.stopped:
        console.print(f"[yellow]stopped early:[/] {result.stopped}; the rest is applied by the next run")
    console.print(f"All findings and actions: add --json, or `{warden_command()} ledger show {result.run_id} --json`.",
                  markup=False, soft_wrap=True)
    if not result.dry_run and any(a.status == "applied" for a in result.actions):
        console.print(f"Take this run back: `{warden_command()} revert {result.run_id}` shows what it would restore "
                      "(add --apply to restore it).", soft_wrap=True)


def _print_by_rule(result: RunResult, console: Console) -> None:
    table = Table(title="Findings and plan by rule")
    table.add_column("Rule", style="cyan")
    table.add_column("Findings", justify="right")
    statuses = list(PLAN_WORDS) if result.dry_run else sorted({a.status for a in result.actions})
    for status in statuses:
        words = PLAN_WORDS[PlanStatus(status)].capitalize() if result.dry_run else f"Actions {status}"
        table.add_column(words, justify="right")
    findings = Counter(f.rule for f in result.findings)
    actions = Counter((a.action.rule, a.status) for a in result.actions)
    for rule in sorted(set(findings) | {r for r, _ in actions}):
        table.add_row(rule, str(findings[rule]), *(str(actions[(rule, s)]) for s in statuses))
    console.print(table)


def _print_plan_statuses(result: RunResult, console: Console) -> None:
    """A dry run's plan against the ledger: what an apply would change, what earlier runs did, what it retries."""
    counts = Counter(a.status for a in result.actions)
    by_run = Counter(a.applied_by for a in result.actions if a.applied_by)
    runs = ", ".join(f"{n} by run {run}" for run, n in by_run.most_common(EXAMPLES_PER_RULE))
    console.print(f"Plan: {counts[PlanStatus.WOULD_APPLY]} would apply, "
                  f"{counts[PlanStatus.ALREADY_APPLIED]} already applied{f' ({runs})' if runs else ''}, "
                  f"{counts[PlanStatus.WOULD_RETRY]} would retry (failed before)")
    for a in [a for a in result.actions if a.status == PlanStatus.ALREADY_APPLIED][:EXAMPLES_PER_RULE]:
        console.print(f"  already applied: {a.action.kind} {a.action.object} {a.action.record_id} "
                      f"by run {a.applied_by} at {a.applied_at:%Y-%m-%d %H:%M %Z}")
    for a in [a for a in result.actions if a.status == PlanStatus.WOULD_RETRY][:MAX_ROWS]:
        console.print(f"  [yellow]would retry[/] {a.action.kind} {a.action.object} {a.action.record_id}: {a.error}")
