"""Stale deals and stale leads (seed 000).

"Deals that haven't moved in 60 days are eligible to be closed or pulled back from the channel
partner": an open opportunity whose stage has not changed for ``after_days`` gets a warning task for
its owner; once ``after_days + grace_days`` have passed it is pulled back to the partner's channel
manager or closed lost, as the policy says for its pipeline or segment. Only a stage change counts
as movement (a pushed close date does not); a pull-back by this rule restarts the clock.

"Qualified leads that have gone stale are returned to marketing": a lead in a qualified status with
no activity and no status change for ``after_days`` goes to the marketing queue with a new status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from config.policy import StaleDealRule, StaleLeadRule, StaleOutcome
from domain.org import OrgData
from domain.plan import Action, ActionKind, Finding, RuleResult, Skip
from domain.records import Account, Lead, ObjectType, Opportunity, Owner
from enforcement.context import RuleContext
from enforcement.owner_facts import OwnerFacts
from enforcement.tasks import task_payload
from enforcement.wording import record_label, unjudged_owner, when

_OPP = ObjectType.OPPORTUNITY


@dataclass(frozen=True)
class _Stale:
    deal: Opportunity
    owner: Owner
    since: datetime
    days: int


def evaluate_deals(rule: StaleDealRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Warn owners of deals stuck in a stage, then pull back or close the ones still stuck."""
    result = RuleResult()
    facts = OwnerFacts(ctx)
    expired: list[_Stale] = []
    for deal in org.unmoved_opportunities(before=ctx.now - timedelta(days=rule.after_days)):
        if any(s.closed and s.name == deal.stage for s in ctx.policy.stages.for_pipeline(deal.pipeline)):
            continue
        since = max(deal.stage_changed_at or deal.created_at,
                    ctx.history.last_reassigned.get((rule.id, deal.id), deal.created_at))
        days = (ctx.now - since).days
        if days < rule.after_days:
            result.due_again(deal.id, since + timedelta(days=rule.after_days))
            continue
        result.due_again(deal.id, next_day_count(since, days))  # the day count in the reason moves on
        owner = ctx.owner(deal.owner_id)
        if owner is None:
            why = unjudged_owner(deal.owner_id)
            result.skips.append(Skip(rule.id, _OPP, deal.id, f"cannot judge staleness: {why}"))
        elif days < rule.after_days + rule.grace_days:
            _warn(rule, facts, _Stale(deal, owner, since, days), result)
        else:
            expired.append(_Stale(deal, owner, since, days))
    partners = _account_owners(org, {s.deal.partner_account_id for s in expired if s.deal.partner_account_id})
    for stale in expired:
        _take_away(rule, facts, stale, partners, result)
    return result


def _account_owners(org: OrgData, account_ids: set[str | None]) -> dict[str, str | None]:
    """Owners of the named accounts (the channel partners of the deals to pull back)."""
    if not account_ids:
        return {}
    wanted = {account_id for account_id in account_ids if account_id}
    return {a.id: a.owner_id for a in org.records_by_id(ObjectType.ACCOUNT, wanted) if isinstance(a, Account)}


def _outcome(rule: StaleDealRule, deal: Opportunity) -> StaleOutcome:
    if deal.pipeline is not None and deal.pipeline in rule.pipelines:
        return rule.pipelines[deal.pipeline]
    return rule.partner_deals if deal.partner_account_id else rule.direct_deals


def _evidence(rule: StaleDealRule, stale: _Stale) -> dict[str, object]:
    deal = stale.deal
    return {
        "policy": f"rules[id={rule.id}] after {rule.after_days} days, grace {rule.grace_days} days",
        "stage": deal.stage,
        "unmoved_since": stale.since.isoformat(),
        "days_unmoved": stale.days,
        "close_date": deal.close_date.isoformat() if deal.close_date else None,
        "partner_account_id": deal.partner_account_id,
        "pipeline": deal.pipeline,
        "owner": stale.owner.email or stale.owner.name,
        "owner_active": stale.owner.active,
        "since": stale.since.isoformat(),
        "amount": deal.amount,
    }


def _stuck(facts: OwnerFacts, stale: _Stale) -> str:
    zone = facts.zone(stale.owner)
    return (f"{record_label(stale.deal)} has sat in stage {stale.deal.stage!r} for {stale.days} days "
            f"(since {when(stale.since, zone)})")


def _warn(rule: StaleDealRule, facts: OwnerFacts, stale: _Stale, result: RuleResult) -> None:
    deal, left = stale.deal, rule.after_days + rule.grace_days - stale.days
    outcome = "pulled back from the partner" if _outcome(rule, deal) == "pull_back" else "closed lost"
    reason = f"{_stuck(facts, stale)}; it will be {outcome} in {left} days unless its stage moves"
    assignee = facts.acting(stale.owner)
    evidence = _evidence(rule, stale)
    if assignee is None:
        reason += f"; its owner {stale.owner.name} has left and has no manager to warn"
        result.findings.append(Finding(rule.id, _OPP, deal.id, facts.answerable(deal.owner_id), reason, evidence))
        return
    stand_in = "" if assignee is stale.owner else f", manager of {stale.owner.name}, who has left"
    reason += f". Warn {assignee.name}{stand_in}."
    evidence["warned"] = assignee.email or assignee.name
    result.findings.append(Finding(rule.id, _OPP, deal.id, facts.answerable(deal.owner_id), reason, evidence))
    key = f"{rule.id}:{_OPP}:{deal.id}:{stale.since.isoformat()}:warn"
    payload = task_payload(facts, rule.warning, assignee, reason, what_id=deal.id)
    result.actions.append(Action(ActionKind.CREATE_TASK, _OPP, deal.id, key, reason, rule.id, payload))


def _closed_lost_stage(rule: StaleDealRule, ctx: RuleContext, deal: Opportunity) -> str:
    """The rule's closed-lost stage if the deal's pipeline has it, else that pipeline's first closed, not won one."""
    stages = ctx.policy.stages.for_pipeline(deal.pipeline)
    lost = [s.name for s in stages if s.closed and not s.won]
    return rule.closed_lost_stage if rule.closed_lost_stage in lost or not lost else lost[0]


def _take_away(
    rule: StaleDealRule, facts: OwnerFacts, stale: _Stale, partners: dict[str, str | None], result: RuleResult
) -> None:
    deal, outcome = stale.deal, _outcome(rule, stale.deal)
    evidence = {**_evidence(rule, stale), "outcome": outcome}
    key = f"{rule.id}:{_OPP}:{deal.id}:{stale.since.isoformat()}:{outcome}"
    limit = f"past the {rule.after_days}-day limit and {rule.grace_days}-day grace period"
    if outcome == "close_lost":
        closed_lost = _closed_lost_stage(rule, facts.ctx, deal)
        reason = f"{_stuck(facts, stale)}, {limit}. Close it as {closed_lost!r}."
        payload: dict[str, object] = {"stage": closed_lost, "is_closed": True}
        if deal.pipeline:
            payload["pipeline"] = deal.pipeline  # the stage is the one of this pipeline
        if rule.close_reason_field:
            payload[rule.close_reason_field] = f"{rule.close_reason} ({stale.days} days in {deal.stage})"
        result.findings.append(Finding(rule.id, _OPP, deal.id, facts.answerable(deal.owner_id), reason, evidence))
        result.actions.append(Action(ActionKind.CLOSE, _OPP, deal.id, key, reason, rule.id, payload))
        return
    channel_manager = facts.ctx.owner(partners.get(deal.partner_account_id or ""))
    if channel_manager is None or not channel_manager.active:
        reason = (f"{_stuck(facts, stale)}, {limit}; cannot pull it back: the partner account "
                  f"{deal.partner_account_id or '(none)'} has no active owner to act as channel manager")
        result.findings.append(Finding(rule.id, _OPP, deal.id, facts.answerable(deal.owner_id), reason, evidence))
        return
    reason = f"{_stuck(facts, stale)}, {limit}. Pull it back from the partner to {channel_manager.name}."
    evidence["channel_manager"] = channel_manager.email or channel_manager.name
    payload = {"owner_id": channel_manager.id, "partner_account_id": None}
    result.findings.append(Finding(rule.id, _OPP, deal.id, facts.answerable(deal.owner_id), reason, evidence))
    result.actions.append(Action(ActionKind.REASSIGN, _OPP, deal.id, key, reason, rule.id, payload))


def evaluate_leads(rule: StaleLeadRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Return qualified leads nobody touched for ``after_days`` to the marketing queue."""
    result = RuleResult()
    cutoff = ctx.now - timedelta(days=rule.after_days)
    idle: list[Lead] = []
    for lead in _qualified(org.records(ObjectType.LEAD), rule):
        if _changed(lead) <= cutoff:
            idle.append(lead)
        else:
            result.due_again(lead.id, _changed(lead) + timedelta(days=rule.after_days))
    activity = org.last_activity_of([lead.id for lead in idle])
    facts = OwnerFacts(ctx)
    for lead in idle:
        touched = max(_changed(lead), activity.get(lead.id, lead.created_at))
        owner = ctx.owner(lead.owner_id)
        if touched > cutoff:
            result.due_again(lead.id, touched + timedelta(days=rule.after_days))
        elif not (owner is not None and owner.is_queue):
            result.due_again(lead.id, next_day_count(touched, (ctx.now - touched).days))
            _return_lead(rule, facts, lead, touched, result)
    return result


def next_day_count(since: datetime, days: int) -> datetime:
    """When ``(now - since).days``, now ``days``, becomes ``days + 1``."""
    return since + timedelta(days=days + 1)


def _changed(lead: Lead) -> datetime:
    return max(lead.created_at, lead.status_changed_at or lead.created_at)


def _qualified(records: Iterable[object], rule: StaleLeadRule) -> Iterable[Lead]:
    return (r for r in records if isinstance(r, Lead) and r.status in rule.statuses)


def _return_lead(rule: StaleLeadRule, facts: OwnerFacts, lead: Lead, touched: datetime, result: RuleResult) -> None:
    owner, days = facts.ctx.owner(lead.owner_id), (facts.ctx.now - touched).days
    whose = facts.answerable(lead.owner_id)
    reason = (f"{record_label(lead)} is {lead.status!r} with no activity or status change for {days} days "
              f"(since {when(touched, facts.zone(owner))}, owner {owner.name if owner else 'nobody'}); "
              f"the policy allows {rule.after_days} days")
    evidence = {"policy": f"rules[id={rule.id}] after {rule.after_days} days", "status": lead.status,
                "last_touched": touched.isoformat(), "days_idle": days, "queue": rule.return_to.queue,
                "since": touched.isoformat()}
    queue = facts.ctx.queue(rule.return_to.queue)
    if queue is None:
        reason += f"; the CRM has no queue named {rule.return_to.queue!r} to return it to: create it"
        result.findings.append(Finding(rule.id, ObjectType.LEAD, lead.id, whose, reason, evidence))
        return
    reason += f". Return it to {queue.name} as {rule.set_status!r}."
    result.findings.append(Finding(rule.id, ObjectType.LEAD, lead.id, whose, reason, evidence))
    payload = {"owner_id": queue.id, "status": rule.set_status}
    key = f"{rule.id}:{ObjectType.LEAD}:{lead.id}:{touched.isoformat()}"
    result.actions.append(Action(ActionKind.REASSIGN, ObjectType.LEAD, lead.id, key, reason, rule.id, payload))
