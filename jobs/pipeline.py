"""One run of a job: sync the mirror, evaluate the rules, record the plan, apply it if asked.

This is the data flow of DESIGN.md in one function, in order: connector -> mirror -> rules ->
plan -> ledger -> apply. Nothing here decides what is wrong (the rules do) or how to write to a
CRM (the connector does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from domain.activities import ActivityReader
from domain.connector import Connector, TaskKeyCheck
from domain.errors import BudgetExhausted
from domain.plan import Action, ActionKind, ActionStatus, Finding, RuleResult, Skip
from domain.progress import NO_PROGRESS, Progress
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.limits import held_rules
from enforcement.registry import rules_for
from jobs import rule_passes
from jobs.aliases import with_aliases
from jobs.apply.actions import ApplyOutcome, apply_actions
from jobs.plan_outcome import ActionOutcome, applied_before, dry_run_outcomes, dry_run_tally
from store import mirror, statistics
from store.activities import sync_activities
from store.claims import Held
from store.collector import collections_every
from store.history import load_history
from store.ledger import Ledger
from store.plan_history import recent_plan_sizes

log = structlog.get_logger(__name__)


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
    held: dict[str, str] = field(default_factory=dict)
    """Rule id -> why its plan was too large to apply (blast-radius limits); nothing of it was applied."""
    plan_sizes: dict[str, int] = field(default_factory=dict)
    """Rule id -> changes planned that no run had applied yet, for rules not held: their usual size."""
    tally: Counter[tuple[str, str]] | None = None
    """(rule, status) -> actions, when the run told no action's outcome (``actions`` is empty): a worker's run."""
    finding_counts: Counter[str] | None = None
    """Rule id -> findings, counted from each rule's own list once its rules judged (None: ``findings`` is walked)."""

    def summary(self) -> dict[str, Any]:
        counted = (self.tally if self.tally is not None  # else one walk over a million at full size
                   else Counter((a.action.rule, a.status) for a in self.actions))
        by_rule: dict[str, dict[str, int]] = {}
        by_status: Counter[str] = Counter()
        for (rule, status), n in counted.items():
            by_rule.setdefault(rule, {})[status] = n
            by_status[status] += n
        return {
            "findings": dict(self.finding_counts if self.finding_counts is not None  # else a walk over every finding
                             else Counter(f.rule for f in self.findings)),
            "actions": {rule: by_rule[rule] for rule in sorted(by_rule)},
            "actions_by_status": dict(by_status),
            "skipped_records": len(self.skips),
            "errors": self.errors,
            "stopped": self.stopped,
            "api_calls": self.api_calls,
            "held": self.held,
            "plan_sizes": self.plan_sizes,
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
    fresh_since: datetime | None = None,
    allow_large: bool = False,
    outcomes: bool = True,
    progress: Progress = NO_PROGRESS,
) -> RunResult:
    """Run ``job`` (a rule family or ``all``) once against one CRM connection.

    Rules judge only what changed since their last run unless ``full`` (see ``jobs.rule_passes``);
    ``fresh_since``: the sync skips the object types a sync that started since then has covered (the
    jobs of a worker pass or a Celery flow share one sync; ``store.sync_marks``).
    A rule whose plan is above its blast-radius limits applies nothing unless ``allow_large``
    (``enforcement.limits``). ``outcomes``: tell each planned action's outcome (``RunResult.actions``); without, the
    run only counts them (``RunResult.tally``), as a worker does: a scheduled run plans about a million at full
    size, an object each. ``progress`` hears of the sync of each object, the rules and the apply.
    """
    connector = with_aliases(connector, policy)
    ledger = Ledger(sessions)
    run_id = ledger.start_run(job, connection, dry_run=not apply, now=now)
    structlog.contextvars.bind_contextvars(run_id=run_id, job=job, connection=connection)
    result = RunResult(run_id, job, connection, not apply, now)
    try:
        _run(result, connector, ledger, policy, sessions, apply, full=full, fresh_since=fresh_since,
             allow_large=allow_large, outcomes=outcomes, progress=progress)
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
    fresh_since: datetime | None,
    allow_large: bool,
    outcomes: bool,
    progress: Progress,
) -> None:
    try:
        report = mirror.sync(connector, sessions, result.connection, fresh_since=fresh_since, progress=progress)
        if report.objects:
            log.info("sync.done", **{str(k): v for k, v in report.as_dict().items()})
        if isinstance(connector, ActivityReader) and _scores_activity(policy, result.job):
            log.info("sync.activities", read=sync_activities(connector, sessions, result.connection))
    except BudgetExhausted as exc:
        result.stopped = f"sync stopped: {exc}"
        result.api_calls = connector.usage.as_dict()
        log.warning("sync.stopped", reason=str(exc))
        return
    gathered = _evaluate(result, policy, sessions, full, progress)
    plan = gathered.plan
    claims = ledger.held_claims(result.connection, [a.key for a in plan.actions])
    actions = {rule: rule_plan.actions for rule, rule_plan in gathered.by_rule.items()}
    unapplied = _unapplied(actions, claims)
    recorded = _record(result.run_id, ledger, gathered, unapplied, progress, apply=apply)
    result.findings, result.skips = plan.findings, plan.skips
    result.finding_counts = Counter({rule: len(made.findings) for rule, made in gathered.by_rule.items()
                                     if made.findings})
    pairs = _limit(result, ledger, policy, sessions, unapplied, recorded, apply=apply, allow_large=allow_large)
    refusal = _task_key_problem(connector, plan) if apply else None
    if refusal is not None:
        result.errors.append(refusal)
        log.error("apply.refused", reason=refusal)
    ready = apply and refusal is None
    outcome = apply_actions(connector, ledger, pairs, progress) if ready else None
    if apply and outcomes:
        result.actions = _applied(ledger, plan.actions, recorded, claims)
    elif apply:
        result.tally = _applied_tally(ledger, actions, recorded)
    elif outcomes:
        result.actions = dry_run_outcomes(plan.actions, claims)
    else:
        result.tally = dry_run_tally(actions, claims)
    result.stopped = outcome.stopped if isinstance(outcome, ApplyOutcome) else None
    result.api_calls = connector.usage.as_dict()
    log.info("run.done", findings=len(plan.findings), actions=len(plan.actions), api_calls=result.api_calls)


def _scores_activity(policy: Policy, job: str) -> bool:
    """Whether the job runs an ``activity_score`` rule: only then are the CRM's activities read."""
    return any(family.kind == "activity_score" for _, family in rules_for(policy, job))


def _record(run_id: str, ledger: Ledger, gathered: rule_passes.Gathered, unapplied: Mapping[str, list[Action]],
            progress: Progress, *, apply: bool) -> list[tuple[int, Action]]:
    """Record the plan's findings, skips and actions for the rules that judged; an applying run's (id, action) pairs.

    All in one transaction. An applying run records a row of its own, to claim and mark, for each action whose key
    no run has applied (``unapplied``, by rule); the others stay in the plan that runs share, as all of a dry run's do.
    The phase counts the plan's rows when they are recorded: a rule that carried its judgments forward has only its
    changed records read, not its whole plan.
    """
    plan, plans, judged = gathered.plan, gathered.by_rule, gathered.passes
    rows = len(plan.findings) + len(plan.skips) + len(plan.actions)
    with progress.phase("record plan", total=rows, unit="rows") as phase:
        if not apply:
            ledger.record_dry_run(run_id, plans, judged, judged)
            phase.update(rows)
            return []
        to_claim = list(chain.from_iterable(unapplied.values()))
        ids = ledger.record_applying_run(run_id, plans, to_claim, judged, judged)
        phase.update(rows)
        return list(zip(ids, to_claim, strict=True))


def _limit(result: RunResult, ledger: Ledger, policy: Policy, sessions: sessionmaker[Session],
           unapplied: Mapping[str, list[Action]], pairs: list[tuple[int, Action]], *, apply: bool,
           allow_large: bool) -> list[tuple[int, Action]]:
    """Which rules' plans are above their limits, and the pairs to apply: none of those rules' (they are skipped).

    A plan's size is what it would change: its ``unapplied`` actions, those whose key no run has applied.
    """
    fresh = Counter({rule: len(actions) for rule, actions in unapplied.items() if actions})
    history = recent_plan_sizes(sessions, result.connection, fresh)
    result.held = {} if allow_large else held_rules(policy, fresh, history)
    result.plan_sizes = {rule: n for rule, n in fresh.items() if rule not in result.held}
    for rule, reason in result.held.items():
        log.warning("apply.held", rule=rule, reason=reason)
    if apply and result.held:
        ledger.skip_all([(i, f"held: {result.held[a.rule]}") for i, a in pairs if a.rule in result.held])
    return [(i, a) for i, a in pairs if a.rule not in result.held]


def _unapplied(actions: Mapping[str, list[Action]], claims: Mapping[str, Held]) -> dict[str, list[Action]]:
    """Each rule's actions whose key no run has applied: all of them, unwalked, when no run applied any of the keys."""
    if not any(held.applied for held in claims.values()):
        return dict(actions)
    return {rule: [a for a in planned if not _applied_before(claims.get(a.key))] for rule, planned in actions.items()}


_UNANSWERED = (ActionStatus.PLANNED.value, None)
"""The status and error of an own action the ledger has no answer for: still planned."""


def _applied_before(claim: Held | None) -> bool:
    return claim is not None and claim.applied


def _applied(ledger: Ledger, actions: list[Action], pairs: list[tuple[int, Action]],
             claims: Mapping[str, Held]) -> list[ActionOutcome]:
    """What became of each action of an applying run, in the plan's order; ``pairs``: those it recorded, in order."""
    statuses = ledger.action_statuses([i for i, _ in pairs])
    own = iter(pairs)
    outcomes: list[ActionOutcome] = []
    with collections_every(rule_passes.OBJECTS_BETWEEN_COLLECTIONS):  # a million at full size, as dry_run_outcomes
        for action in actions:
            held = claims.get(action.key)
            if held is not None and _applied_before(held):
                outcomes.append(applied_before(action, held))
            else:
                action_id, _ = next(own)
                outcomes.append(ActionOutcome(action, *statuses.get(action_id, _UNANSWERED)))
    return outcomes


def _applied_tally(ledger: Ledger, actions: Mapping[str, list[Action]],
                   pairs: list[tuple[int, Action]]) -> Counter[tuple[str, str]]:
    """What ``_applied`` tells of each rule's ``actions``, counted by rule and status.

    The run's own actions (``pairs``) count by their status in the ledger; every other action is skipped, a run
    having applied its key.
    """
    statuses = ledger.action_statuses([i for i, _ in pairs])
    tally = Counter((a.rule, statuses.get(i, _UNANSWERED)[0]) for i, a in pairs)
    skipped = Counter({rule: len(planned) for rule, planned in actions.items()})
    skipped.subtract(a.rule for _, a in pairs)
    tally.update({(rule, ActionStatus.SKIPPED.value): n for rule, n in skipped.items() if n})
    return tally


def _task_key_problem(connector: Connector, plan: RuleResult) -> str | None:
    """Why tasks cannot be created in this org (no key field), if they cannot.

    The run then writes nothing, rather than failing every task and leaving the reassignments they
    explain without them.
    """
    if not isinstance(connector, TaskKeyCheck) or not any(a.kind is ActionKind.CREATE_TASK for a in plan.actions):
        return None
    return connector.task_key_problem()


def _evaluate(result: RunResult, policy: Policy, sessions: sessionmaker[Session], full: bool,
              progress: Progress) -> rule_passes.Gathered:
    """The plan of every rule of the job, and how each rule that judged made it (a rule that failed has no say)."""
    calendar = BusinessCalendar(policy.calendar)
    gathered = rule_passes.Gathered()
    plan = gathered.plan
    rules = rules_for(policy, result.job)
    if analyzed := statistics.refresh(sessions):
        log.info("statistics.refreshed", tables=analyzed)
    with (sessions() as session, rule_passes.saving(sessions) as saves,
          progress.phase("rules", total=len(rules), unit="rules") as phase):
        org = mirror.MirrorOrg(session, result.connection)
        window_start = result.now - timedelta(days=policy.rotation.window_days)
        history = load_history(sessions, result.connection, calendar.start_of_day(result.now), window_start)
        ctx = RuleContext(policy, calendar, result.now, org.owners(), history, result.connection)
        storing: tuple[str, Callable[[], rule_passes.Pass]] | None = None
        for done, (rule, family) in enumerate(rules, start=1):
            try:
                started = rule_passes.start(rule, family, ctx, org, session, sessions, full=full, saves=saves)
            except Exception as exc:  # a broken rule must not stop the others
                _rule_failed(result, rule.id, exc)
                started = None
            if storing is not None:  # the rule before stored its judgments while this one judged
                _gather(result, gathered, *storing)
            storing = None if started is None else (rule.id, started)
            phase.update(done, findings=len(plan.findings), actions=len(plan.actions))
        if storing is not None:
            _gather(result, gathered, *storing)
            phase.update(len(rules), findings=len(plan.findings), actions=len(plan.actions))
    return gathered


def _gather(result: RunResult, gathered: rule_passes.Gathered, rule: str,
            stored: Callable[[], rule_passes.Pass]) -> None:
    """Add the rule's pass to ``gathered`` once its judgments are stored, or note that it failed."""
    try:
        judged = stored()
    except Exception as exc:
        _rule_failed(result, rule, exc)
        return
    log.info("rule.done", rule=rule, full=judged.full, judged=judged.judged, findings=len(judged.result.findings))
    gathered.add(rule, judged)


def _rule_failed(result: RunResult, rule: str, exc: Exception) -> None:
    log.error("rule.failed", rule=rule, exc_info=exc)
    result.errors.append(f"rule {rule} failed: {type(exc).__name__}: {exc}")
