"""SLA reassignment: new work that its owner did not act on in time goes to someone who will.

Seed 000: "If Sales does not explicitly act on a new Opportunity within four business days, the
Opportunity is reassigned." Acting means a completed activity on the record or a stage (status)
change after the record landed on the owner's desk. The clock starts when the record was created,
or when this rule last reassigned it, and runs in the owner's business calendar and time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from itertools import islice

from config.policy import Duration, SlaRule, Stage
from domain.org import OrgData
from domain.plan import Action, ActionKind, Finding, RuleResult, Skip
from domain.records import Lead, ObjectType, Opportunity, Owner, Record
from enforcement.assignment import Rotation
from enforcement.calendar import zone_named
from enforcement.context import RuleContext
from enforcement.wording import record_label, unjudged_owner, when

_BATCH = 2000
"""Suspects judged together, so their last activity is read in one lookup per batch, not per record."""


def evaluate(rule: SlaRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Find the rule's breaches in the org and plan a reassignment (and a task) for each."""
    object_type = ObjectType(rule.object)
    result = RuleResult()
    rotation = Rotation(ctx)
    closed = _closed_everywhere(ctx, object_type)
    acting = [o.id for o in ctx.owners.values() if o.active]
    restarters = {rule.id, *ctx.route_rule_ids}
    restarted = [record_id for rule_id, record_id in ctx.history.last_reassigned if rule_id in restarters]
    suspects = _candidates(org.sla_suspects(object_type, closed, acting, restarted), rule, ctx)
    while batch := list(islice(suspects, _BATCH)):
        activity = org.last_activity_of([record.id for record in batch])
        for record in batch:
            _judge(rule, ctx, record, activity.get(record.id), rotation, result)
    return result


def _closed_everywhere(ctx: RuleContext, object_type: ObjectType) -> set[str]:
    """Stage (status) names closed in every pipeline that has them: what the database may leave out."""
    stages: tuple[Stage, ...] = (
        ctx.policy.stages.lead if object_type is ObjectType.LEAD else ctx.policy.stages.all_opportunity()
    )
    return {s.name for s in stages if s.closed} - {s.name for s in stages if not s.closed}


def _closed(ctx: RuleContext, pipeline: str | None) -> set[str]:
    return {s.name for s in ctx.policy.stages.for_pipeline(pipeline) if s.closed}


def _candidates(records: Iterable[Record], rule: SlaRule, ctx: RuleContext) -> Iterable[Lead | Opportunity]:
    closed_lead = {s.name for s in ctx.policy.stages.lead if s.closed}
    closed_by_pipeline: dict[str | None, set[str]] = {}
    for record in records:
        if isinstance(record, Opportunity):
            if record.pipeline not in closed_by_pipeline:
                closed_by_pipeline[record.pipeline] = _closed(ctx, record.pipeline)
            if record.is_closed or record.stage in closed_by_pipeline[record.pipeline]:
                continue
            stage = record.stage
        elif isinstance(record, Lead):
            if record.status in closed_lead:
                continue
            stage = record.status
        else:
            continue
        if rule.statuses and stage not in rule.statuses:
            continue
        yield record


def _clock_start(rule: SlaRule, ctx: RuleContext, record: Lead | Opportunity) -> datetime:
    """When the owner's clock started: the record's creation, its routing, or this rule's last reassignment."""
    moments = [record.created_at]
    for restarter in (rule.id, *ctx.route_rule_ids):
        if (at := ctx.history.last_reassigned.get((restarter, record.id))) is not None:
            moments.append(at)
    return max(moments)


def _acted_at(record: Lead | Opportunity, last_activity: datetime | None) -> datetime | None:
    changed = record.stage_changed_at if isinstance(record, Opportunity) else record.status_changed_at
    moments = [m for m in (changed, last_activity) if m is not None]
    return max(moments) if moments else None


def _judge(
    rule: SlaRule,
    ctx: RuleContext,
    record: Lead | Opportunity,
    last_activity: datetime | None,
    rotation: Rotation,
    result: RuleResult,
) -> None:
    object_type = ObjectType(rule.object)
    owner = ctx.owner(record.owner_id)
    if owner is None:
        why = unjudged_owner(record.owner_id)
        result.skips.append(Skip(rule.id, object_type, record.id, f"cannot judge the SLA: {why}"))
        return
    if owner.is_queue:
        return  # work waiting in a queue has nobody to breach it yet
    start = _clock_start(rule, ctx, record)
    acted = _acted_at(record, last_activity)
    if owner.active and acted is not None and acted > start:
        return
    zone = rotation.facts.zone(owner)
    due = ctx.calendar.deadline(start, rule.within, zone)
    if owner.active and ctx.now < due:
        result.due_again(record.id, due)
        if rule.remind_before is not None:
            if _reminder_due(ctx, rule.remind_before, due, zone):
                _plan_reminder(rule, rotation, record, owner, start, due, result)
            else:  # business time runs out unevenly (nights, weekends): look again at the next run
                result.due_again(record.id, ctx.now)
        return
    _plan_reassignment(rule, ctx, record, owner, start, due, acted, rotation, result)


def _reminder_due(ctx: RuleContext, before: Duration, due: datetime, zone: str) -> bool:
    """Whether no more than ``before`` (business time in ``zone``) is left until ``due``."""
    if before.days is not None:
        return due - ctx.now <= timedelta(days=before.days)
    left = ctx.calendar.business_hours_between(ctx.now, due, zone)
    if before.business_days is not None:
        hours = ctx.policy.calendar.business_hours
        day = datetime.combine(date.min, hours.end) - datetime.combine(date.min, hours.start)
        return left <= before.business_days * day / timedelta(hours=1)
    return left <= (before.business_hours or 0) + (before.business_minutes or 0) / 60


def _plan_reminder(
    rule: SlaRule, rotation: Rotation, record: Lead | Opportunity, owner: Owner, start: datetime, due: datetime,
    result: RuleResult,
) -> None:
    """A task telling the owner the deadline is near, keyed by the clock's start: one per clock, ever."""
    object_type = ObjectType(rule.object)
    zone = rotation.facts.zone(owner)
    label = record_label(record)
    reason = (f"{label}: {owner.name} has until {when(due, zone)} to act on it "
              f"({rule.within.describe()} from {when(start, zone)}); otherwise it is reassigned.")
    task = {
        "subject": f"Reminder: act on {label} by {when(due, zone)}",
        "description": reason,
        "owner_id": owner.id,
        "due_date": due.astimezone(zone_named(zone)).date().isoformat(),
        "priority": "high",
        "task_type": rule.task.task_type,
        "what_id": record.id if object_type is ObjectType.OPPORTUNITY else None,
        "who_id": record.id if object_type is ObjectType.LEAD else None,
    }
    key = f"{rule.id}:{object_type}:{record.id}:{start.isoformat()}:remind"
    result.actions.append(Action(ActionKind.CREATE_TASK, object_type, record.id, key, reason, rule.id, task))


def _plan_reassignment(
    rule: SlaRule,
    ctx: RuleContext,
    record: Lead | Opportunity,
    owner: Owner,
    start: datetime,
    due: datetime,
    acted: datetime | None,
    rotation: Rotation,
    result: RuleResult,
) -> None:
    object_type = ObjectType(rule.object)
    zone = rotation.facts.zone(owner)
    times = ctx.history.reassignments.get((rule.id, record.id), 0)
    escalate = times >= rule.escalate_after
    assignee = rotation.to_manager(owner) if escalate else rotation.choose(rule.reassign_to, owner, record.id)
    if not owner.active:
        breach = f"its owner {owner.name} is deactivated"
    else:
        breach = (
            f"{owner.name} did not act on it within {rule.within.describe()} "
            f"(due {when(due, zone)}; no activity or stage change since {when(start, zone)})"
        )
    label = record_label(record)
    evidence = {
        "policy": f"rules[id={rule.id}] within {rule.within.describe()}",
        "owner": owner.email or owner.name,
        "owner_active": owner.active,
        "owner_time_zone": zone,
        "clock_started": start.isoformat(),
        "due": due.isoformat(),
        "business_hours_elapsed": round(ctx.calendar.business_hours_between(start, ctx.now, zone), 1),
        "last_action": acted.isoformat() if acted else None,
        "times_reassigned": times,
        "since": due.isoformat(),
        "amount": record.amount if isinstance(record, Opportunity) else None,
    }
    if assignee is None:
        result.findings.append(
            Finding(rule.id, object_type, record.id, owner.id, f"{label}: {breach}; nobody to reassign it to "
                    "(no eligible teammate, queue or manager in the policy)", evidence)
        )
        return
    how = "escalated to the manager after {times} reassignments" if escalate else assignee.how
    reason = f"{label}: {breach}. Reassign to {assignee.owner.name} ({how.format(times=times)})."
    evidence["new_owner"] = assignee.owner.email or assignee.owner.name
    result.findings.append(Finding(rule.id, object_type, record.id, owner.id, reason, evidence))
    key = f"{rule.id}:{object_type}:{record.id}:{start.isoformat()}"
    result.actions.append(
        Action(ActionKind.REASSIGN, object_type, record.id, key, reason, rule.id,
               {"owner_id": assignee.owner.id})
    )
    if assignee.owner.is_queue:
        return
    due_date = rotation.facts.due_date(assignee.owner, rule.task.due_in_business_days)
    task = {
        "subject": rule.task.subject,
        "description": reason,
        "owner_id": assignee.owner.id,
        "due_date": due_date.isoformat(),
        "priority": rule.task.priority,
        "task_type": rule.task.task_type,
        "what_id": record.id if object_type is ObjectType.OPPORTUNITY else None,
        "who_id": record.id if object_type is ObjectType.LEAD else None,
    }
    result.actions.append(
        Action(ActionKind.CREATE_TASK, object_type, record.id, f"{key}:task", reason, rule.id, task,
               requires=key)
    )
