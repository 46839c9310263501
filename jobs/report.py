"""Show a run to people (Rich tables) and to scripts (one JSON object)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from jobs.pipeline import RunResult

MAX_ROWS = 40


def as_json(result: RunResult) -> str:
    """The ``--json`` contract: run_id, job, crm, dry_run, now, findings, actions, summary."""
    payload: dict[str, Any] = {
        "run_id": result.run_id,
        "job": result.job,
        "crm": result.crm,
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
    """A sales manager's view: what is wrong, what will be (or was) done, what was skipped."""
    mode = "DRY RUN: nothing was changed in the CRM" if result.dry_run else "APPLIED"
    console.print(f"[bold]Run {result.run_id}[/] job={result.job} crm={result.crm} "
                  f"now={result.now:%Y-%m-%d %H:%M %Z} [yellow]{mode}[/]")
    findings = Table(title=f"Findings ({len(result.findings)})", show_lines=False, expand=True)
    findings.add_column("Rule", style="cyan", no_wrap=True)
    findings.add_column("Record", no_wrap=True)
    findings.add_column("Why", ratio=1)
    for f in result.findings[:MAX_ROWS]:
        findings.add_row(f.rule, f.record_id, f.reason)
    console.print(findings)
    if len(result.findings) > MAX_ROWS:
        console.print(f"... and {len(result.findings) - MAX_ROWS} more (use --json for all)")
    actions = Table(title=f"Plan ({len(result.actions)} actions)", expand=True)
    for column in ("Status", "Kind", "Record", "Key"):
        actions.add_column(column, no_wrap=column != "Key")
    actions.add_column("Error", ratio=1)
    for a in result.actions[:MAX_ROWS]:
        actions.add_row(a.status, str(a.action.kind), a.action.record_id, a.action.key, a.error or "")
    console.print(actions)
    summary = result.summary()
    console.print(f"Actions by status: {summary['actions_by_status'] or 'none'}; "
                  f"records skipped: {len(result.skips)}; API calls: {result.api_calls}")
    for skip in result.skips[:10]:
        console.print(f"  skipped {skip.object} {skip.record_id} ({skip.rule}): {skip.reason}")
    for error in result.errors:
        console.print(f"[red]error:[/] {error}")
    if result.stopped:
        console.print(f"[yellow]stopped early:[/] {result.stopped}; the rest is applied by the next run")
