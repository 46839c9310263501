"""``warden report sla|pipeline|leads``: reports from the mirror and the ledger, as tables, JSON or HTML."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jobs.inputs import (
    EARLIEST,
    clock_or_exit,
    crm_or_exit,
    fail,
    folder_or_exit,
    open_store,
    policy_or_exit,
    settings_or_exit,
)
from jobs.usage_errors import OneLineUsageErrors
from notify.lead_report import LeadReport
from notify.pipeline_report import PipelineReport
from notify.report_render import as_json, write_pipeline_html
from notify.reports import SLA_WINDOW_DAYS, load_lead_report, load_pipeline_report, load_sla_report
from notify.sla_report import SlaReport

app = typer.Typer(help="Reports for managers: speed-to-lead and SLA health, the pipeline's shape.",
                  no_args_is_help=True, cls=OneLineUsageErrors)
console = Console()

CrmOption = Annotated[str | None, typer.Option(help="local, salesforce or hubspot (default WARDEN_CRM).")]
PolicyOption = Annotated[Path | None, typer.Option(help="Policy file (default WARDEN_POLICY).")]
NowOption = Annotated[str | None, typer.Option(help="Report as of this moment (ISO-8601 with offset).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command("sla")
def sla(crm: CrmOption = None, policy: PolicyOption = None, now: NowOption = None, json_output: JsonOption = False,
        days: Annotated[int, typer.Option(min=1, help="Over the records created in this many days.")] = SLA_WINDOW_DAYS,
        ) -> None:
    """Time to first touch (median, 90th percentile, business hours), SLA attainment and reassignments, per rep."""
    settings = settings_or_exit()
    connection, moment = crm_or_exit(crm, settings), clock_or_exit(now)
    _window_or_exit(days, moment)
    _, sessions = open_store(settings)
    report = load_sla_report(sessions, policy_or_exit(settings, policy), connection, moment, days)
    if json_output:
        sys.stdout.write(as_json(report) + "\n")
    else:
        print_sla(report, console)


@app.command("pipeline")
def pipeline(crm: CrmOption = None, policy: PolicyOption = None, now: NowOption = None, json_output: JsonOption = False,
             html: Annotated[Path | None, typer.Option(help="Also write pipeline.html into this folder.")] = None,
             ) -> None:
    """Conversion and days between consecutive stages per team and rep, and each rep's forecast tendency."""
    settings = settings_or_exit()
    connection, moment, folder = crm_or_exit(crm, settings), clock_or_exit(now), folder_or_exit(html, "--html")
    _, sessions = open_store(settings)
    report = load_pipeline_report(sessions, policy_or_exit(settings, policy), connection, moment)
    if json_output:
        sys.stdout.write(as_json(report) + "\n")
    else:
        print_pipeline(report, console)
    if folder is not None:
        page = write_pipeline_html(report, folder)
        (console if not json_output else Console(stderr=True)).print(f"Wrote {page}")


def _window_or_exit(days: int, moment: datetime) -> None:
    """``--days`` back from ``moment`` must not reach before 1970."""
    if days > (moment - EARLIEST).days:
        raise fail(f"--days: {days} days before {moment:%Y-%m-%d} is before 1970: give at most "
                   f"{(moment - EARLIEST).days}")


def print_sla(report: SlaReport, out: Console) -> None:
    out.print(f"Speed to first touch, records created {report.since:%d %b} to {report.as_of:%d %b %Y} "
              f"({report.connection}); business hours in each owner's zone")
    table = Table("object", "who", "new", "touched", "median h", "90th pct h", "within SLA", "SLA",
                  "reassignments")
    for row in report.rows:
        who = row.name if row.scope != "rep" else f"  {row.name}"
        table.add_row(row.object, who, str(row.new), str(row.touched), _num(row.median_hours), _num(row.p90_hours),
                      f"{row.attainment:.0f}% of {row.judged}" if row.attainment is not None else "-",
                      row.sla_hours or "-", str(row.reassignments))
    out.print(table)


def print_pipeline(report: PipelineReport, out: Console) -> None:
    for waterfall in report.waterfalls:
        if waterfall.scope == "rep":
            continue
        table = Table("step", "reached", "went on", "benchmark", "median days", "at most",
                      title=f"{waterfall.object} waterfall, {waterfall.name}", title_justify="left")
        for s in waterfall.steps:
            table.add_row(f"{s.stage} -> {s.next_stage}", str(s.reached), _pct(s.conversion),
                          _pct(s.benchmark_conversion), _num(s.median_days), _num(s.benchmark_days))
        out.print(table)
    table = Table("rep", "team", "won deals", "median days won after first forecast date",
                  "median amount change from first forecast", title="Forecast tendency", title_justify="left")
    for t in report.tendencies:
        table.add_row(t.rep, t.team or "-", str(t.won_deals), _num(t.median_slip_days), _pct(t.median_amount_change))
    out.print(table)
    out.print("Per-rep waterfalls: add --json or --html DIR.")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


@app.command("leads")
def leads(crm: CrmOption = None, policy: PolicyOption = None, now: NowOption = None, json_output: JsonOption = False,
          days: Annotated[int, typer.Option(min=1, help="Over the leads created in this many days.")] = SLA_WINDOW_DAYS,
          ) -> None:
    """Lead acceptance for marketing: accepted, rejected and why, time to acceptance, by source and campaign."""
    settings = settings_or_exit()
    connection, moment = crm_or_exit(crm, settings), clock_or_exit(now)
    _window_or_exit(days, moment)
    _, sessions = open_store(settings)
    try:
        report = load_lead_report(sessions, policy_or_exit(settings, policy), connection, moment, days)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if json_output:
        sys.stdout.write(as_json(report) + "\n")
    else:
        print_leads(report, console)


def print_leads(report: LeadReport, out: Console) -> None:
    out.print(f"Lead acceptance, leads created {report.since:%d %b} to {report.as_of:%d %b %Y} ({report.connection}); "
              "time to acceptance in business hours from routing")
    table = Table("by", "group", "leads", "accepted", "rejected", "awaiting", "acceptance rate", "median h to accept")
    for row in report.rows:
        table.add_row(row.scope, row.name, str(row.leads), str(row.accepted), str(row.rejected), str(row.awaiting),
                      _pct(row.acceptance_rate), _num(row.median_hours_to_accept))
    out.print(table)
    reasons = Table("source", "rejection reason", "leads", title="Why sales rejected leads", title_justify="left")
    for reason in report.reasons:
        reasons.add_row(reason.source, reason.reason, str(reason.leads))
    out.print(reasons)
