"""Sales accepts or rejects each lead, with a reason, within a deadline (seed 000's marketing-sales SLA).

A lead in a rejected status goes back to marketing's queue with its reason; rejected without a reason
it stays with its owner, flagged, and the owner gets a task to give one. A lead still awaiting the
decision when its deadline passes (counted from its routing, else its creation, in business time of
the owner's zone) is a finding for the owner's digest and a task (their manager's, once they left),
once per clock.
"""

from __future__ import annotations

from config.policy import AcceptanceRule
from domain.org import OrgData
from domain.plan import Action, ActionKind, Finding, RuleResult
from domain.records import Lead, ObjectType, Owner
from enforcement.context import RuleContext
from enforcement.owner_facts import OwnerFacts
from enforcement.record_fields import field_value, is_blank
from enforcement.tasks import task_payload
from enforcement.wording import record_label, when

_LEAD = ObjectType.LEAD


def evaluate(rule: AcceptanceRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Return rejected leads to marketing, flag rejections without a reason and decisions overdue."""
    result = RuleResult()
    facts = OwnerFacts(ctx)
    queue = ctx.queue(rule.return_to.queue)
    for lead in org.records(_LEAD):
        if not isinstance(lead, Lead) or (owner := ctx.owner(lead.owner_id)) is None or owner.is_queue:
            continue
        if lead.status == rule.rejected:
            _rejected(rule, facts, lead, owner, queue, result)
        elif lead.status in rule.statuses:
            _awaiting(rule, ctx, facts, lead, owner, result)
    return result


def _rejected(rule: AcceptanceRule, facts: OwnerFacts, lead: Lead, owner: Owner, queue: Owner | None,
              result: RuleResult) -> None:
    reason = field_value(lead, rule.reason_field)
    changed = (lead.status_changed_at or lead.updated_at).isoformat()
    key = f"{rule.id}:{_LEAD}:{lead.id}:{changed}"
    evidence = {"policy": f"rules[id={rule.id}] rejected: {rule.rejected}", "rejected_by": owner.email or owner.name,
                "reason": None if is_blank(reason) else str(reason), "source": field_value(lead, rule.source_field)}
    if is_blank(reason):
        text = (f"{record_label(lead)} was rejected by {owner.name} without a reason: say why in "
                f"{rule.reason_field}, so marketing learns which leads to stop sending.")
        result.findings.append(Finding(rule.id, _LEAD, lead.id, owner.id, text, evidence))
        acting = facts.acting(owner)
        if acting is not None:
            task = task_payload(facts, rule.reason_task, acting, text, who_id=lead.id)
            result.actions.append(Action(ActionKind.CREATE_TASK, _LEAD, lead.id, f"{key}:reason", text, rule.id, task))
        return
    if queue is None:
        text = f"{record_label(lead)} was rejected ({reason}); queue {rule.return_to.queue} is not in the CRM."
        result.findings.append(Finding(rule.id, _LEAD, lead.id, owner.id, text, evidence))
        return
    text = f"{record_label(lead)} was rejected by {owner.name}: {str(reason).strip()!r}. Return it to {queue.name}."
    result.findings.append(Finding(rule.id, _LEAD, lead.id, owner.id, text, evidence))
    result.actions.append(Action(ActionKind.REASSIGN, _LEAD, lead.id, key, text, rule.id, {"owner_id": queue.id}))


def _awaiting(rule: AcceptanceRule, ctx: RuleContext, facts: OwnerFacts, lead: Lead, owner: Owner,
              result: RuleResult) -> None:
    routed = [at for r in ctx.route_rule_ids if (at := ctx.history.last_reassigned.get((r, lead.id)))]
    start = max([lead.created_at, *routed])
    zone = facts.zone(owner)
    due = ctx.calendar.deadline(start, rule.within, zone)
    if ctx.now < due:
        result.due_again(lead.id, due)
        return
    since = "routed" if routed else "created"
    text = (f"{record_label(lead)} is still '{lead.status}': {owner.name} has not accepted or rejected it within "
            f"{rule.within.describe()} (due {when(due, zone)}; {since} {when(start, zone)}).")
    evidence = {"policy": f"rules[id={rule.id}] within {rule.within.describe()}", "clock_started": start.isoformat(),
                "due": due.isoformat(), "owner": owner.email or owner.name}
    acting = facts.acting(owner)  # an owner who left: their manager decides
    result.findings.append(Finding(rule.id, _LEAD, lead.id, acting.id if acting else owner.id, text, evidence))
    if acting is None:
        return
    task = task_payload(facts, rule.task, acting, text, who_id=lead.id)
    key = f"{rule.id}:{_LEAD}:{lead.id}:{start.isoformat()}:decide"
    result.actions.append(Action(ActionKind.CREATE_TASK, _LEAD, lead.id, key, text, rule.id, task))
