"""One run of a job: sync the mirror, evaluate the rules, record the plan, apply it if asked.

This is the data flow of DESIGN.md in one function, in order: connector -> mirror -> rules ->
plan -> ledger -> apply. Nothing here decides what is wrong (the rules do) or how to write to a
CRM (the connector does).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from domain.connector import Connector, TaskKeyCheck
from domain.errors import BudgetExhausted
from domain.plan import Action, ActionKind, ActionStatus, Finding, RuleResult, Skip
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import rules_for
from jobs import rule_passes
from jobs.aliases import with_aliases
from jobs.apply.actions import ApplyOutcome, apply_actions
from store import mirror
from store.history import load_history
from store.ledger import Ledger

log = structlog.get_logger(__name__)


@dataclass
class ActionOutcome:
    action: Action
    status: str
    error: str | None = None


@dataclass
class RunResult:
    run_id: str
    job: str
    connection: str
    """The CRM connection the run synced and judged (named after its CRM kind when run from ``--crm``)."""
    dry_run: bool
    now: datetime
    findings: list[Finding] = field(default_factory=list)
    actions: list[ActionOutcome] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "findings": dict(Counter(f.rule for f in self.findings)),
            "actions": {
                rule: dict(Counter(a.status for a in self.actions if a.action.rule == rule))
                for rule in sorted({a.action.rule for a in self.actions})
            },
            "actions_by_status": dict(Counter(a.status for a in self.actions)),
            "skipped_records": len(self.skips),
            "errors": self.errors,
            "stopped": self.stopped,
            "api_calls": self.api_calls,
        }


def run_job(
    job: str,
    *,
    connector: Connector,
    connection: str,
    policy: Policy,
    sessions: sessionmaker[Session],
    now: datetime,
    apply: bool,
    full: bool = False,
    sync: bool = True,
) -> RunResult:
    """Run ``job`` (a rule family or ``all``) once against one CRM connection.

    Rules judge only what changed since their last run unless ``full`` (see ``jobs.rule_passes``);
    ``sync=False`` skips the sync when the caller has just synced the connection (a worker pass).
    """
    connector = with_aliases(connector, policy)
    ledger = Ledger(sessions)
    run_id = ledger.start_run(job, connection, dry_run=not apply, now=now)
    structlog.contextvars.bind_contextvars(run_id=run_id, job=job, connection=connection)
    result = RunResult(run_id, job, connection, not apply, now)
    try:
        _run(result, connector, ledger, policy, sessions, apply, full=full, sync=sync)
    except Exception as exc:
        ledger.finish_run(run_id, "failed", result.summary(), error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        structlog.contextvars.unbind_contextvars("run_id", "job", "connection")
    status = "stopped" if result.stopped else "finished"
    ledger.finish_run(run_id, status, result.summary())
    return result


def _run(
    result: RunResult,
    connector: Connector,
    ledger: Ledger,
    policy: Policy,
    sessions: sessionmaker[Session],
    apply: bool,
    *,
    full: bool,
    sync: bool,
) -> None:
    try:
        if sync:
            report = mirror.sync(connector, sessions, result.connection)
            log.info("sync.done", **{str(k): v for k, v in report.as_dict().items()})
    except BudgetExhausted as exc:
        result.stopped = f"sync stopped: {exc}"
        result.api_calls = connector.usage.as_dict()
        log.warning("sync.stopped", reason=str(exc))
        return
    plan = _evaluate(result, policy, sessions, full)
    ledger.record_findings(result.run_id, plan.findings)
    ledger.record_skips(result.run_id, plan.skips)
    action_ids = ledger.record_actions(result.run_id, plan.actions)
    result.findings, result.skips = plan.findings, plan.skips
    refusal = _task_key_problem(connector, plan) if apply else None
    if refusal is not None:
        result.errors.append(refusal)
        log.error("apply.refused", reason=refusal)
    ready = apply and refusal is None
    outcome = apply_actions(connector, ledger, list(zip(action_ids, plan.actions, strict=True))) if ready else None
    statuses = ledger.action_statuses(action_ids)
    result.actions = [
        ActionOutcome(a, *statuses.get(i, (ActionStatus.PLANNED.value, None)))
        for i, a in zip(action_ids, plan.actions, strict=True)
    ]
    result.stopped = outcome.stopped if isinstance(outcome, ApplyOutcome) else None
    result.api_calls = connector.usage.as_dict()
    log.info("run.done", findings=len(plan.findings), actions=len(plan.actions), api_calls=result.api_calls)


def _task_key_problem(connector: Connector, plan: RuleResult) -> str | None:
    """Why tasks cannot be created in this org (no key field), if they cannot.

    The run then writes nothing, rather than failing every task and leaving the reassignments they
    explain without them.
    """
    if not isinstance(connector, TaskKeyCheck) or not any(a.kind is ActionKind.CREATE_TASK for a in plan.actions):
        return None
    return connector.task_key_problem()


def _evaluate(result: RunResult, policy: Policy, sessions: sessionmaker[Session], full: bool) -> RuleResult:
    calendar = BusinessCalendar(policy.calendar)
    plan = RuleResult()
    with sessions() as session:
        org = mirror.MirrorOrg(session, result.connection)
        window_start = result.now - timedelta(days=policy.rotation.window_days)
        history = load_history(sessions, result.connection, calendar.start_of_day(result.now), window_start)
        ctx = RuleContext(policy, calendar, result.now, org.owners(), history, result.connection)
        for rule, family in rules_for(policy, result.job):
            try:
                done = rule_passes.evaluate(rule, family, ctx, org, session, sessions, full=full)
                found = done.result
                log.info("rule.done", rule=rule.id, full=done.full, judged=done.judged, findings=len(found.findings))
            except Exception as exc:  # a broken rule must not stop the others
                log.exception("rule.failed", rule=rule.id)
                result.errors.append(f"rule {rule.id} failed: {type(exc).__name__}: {exc}")
                continue
            plan.findings.extend(found.findings)
            plan.actions.extend(found.actions)
            plan.skips.extend(found.skips)
    return plan
