"""Customer call cadence (seed 001): "call all of our existing customers at least once every 90 days".

Every account whose type the policy maps to a covered category (``Customer``, ``customer`` and
``Client`` can all mean customer) needs a completed call in the last ``every_days``. Each account
without one is a finding for its owner: together they are the "who didn't make their calls" report,
with the last call date and the days since. When no call is scheduled either, a call task is planned
for the owner (their manager if the owner has left), once per account per period: periods are
consecutive ``every_days`` windows counted from a fixed date, so a re-run in the same window plans
the same key and the ledger creates the task once.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from config.policy import CadenceRule
from domain.org import Calls, OrgData
from domain.plan import Action, ActionKind, Finding, RuleResult, Skip
from domain.records import Account, ObjectType
from enforcement.context import RuleContext
from enforcement.owner_facts import OwnerFacts
from enforcement.record_fields import field_value
from enforcement.tasks import task_payload
from enforcement.wording import record_label, unjudged_owner

PERIOD_ORIGIN = date(2000, 1, 3)
"""Day one of the first cadence period (a Monday); periods follow each other every ``every_days``."""
_ACCOUNT = ObjectType.ACCOUNT


def period_start(today: date, every_days: int) -> date:
    """The first day of the ``every_days``-long cadence window that ``today`` falls in."""
    return PERIOD_ORIGIN + timedelta(days=(today - PERIOD_ORIGIN).days // every_days * every_days)


def evaluate(rule: CadenceRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Find covered accounts without a recent completed call; schedule one where none is planned."""
    result = RuleResult()
    calls = org.calls()
    period = period_start(ctx.calendar.local_date(ctx.now, None), rule.every_days)
    mapping = ctx.policy.account_types
    facts = OwnerFacts(ctx)
    for account in org.records(_ACCOUNT):
        if not isinstance(account, Account):
            continue
        category = mapping.category_of(partial(field_value, account))
        if category in rule.categories:
            _judge(rule, facts, account, category, calls, period, result)
    return result


def _judge(
    rule: CadenceRule,
    facts: OwnerFacts,
    account: Account,
    category: str,
    calls: Calls,
    period: date,
    result: RuleResult,
) -> None:
    ctx = facts.ctx
    last_call = calls.last_completed.get(account.id)
    days = (ctx.now - (last_call or account.created_at)).days
    if days < rule.every_days:
        result.due_again(account.id, (last_call or account.created_at) + timedelta(days=rule.every_days))
        return
    # the day count in the reason moves on daily, and a new period plans a new call
    result.due_again(account.id, (last_call or account.created_at) + timedelta(days=days + 1))
    next_period = period + timedelta(days=rule.every_days)
    result.due_again(account.id, ctx.calendar.start_of_local_date(next_period, None))
    owner = ctx.owner(account.owner_id)
    if owner is None:
        why = unjudged_owner(account.owner_id)
        result.skips.append(Skip(rule.id, _ACCOUNT, account.id, f"cannot plan the customer call: {why}"))
        return
    history = (f"last completed call on {last_call.date()} ({days} days ago)" if last_call
               else f"no completed call logged since it was created on {account.created_at.date()} ({days} days)")
    reason = (f"{record_label(account)} ({category}): {history}; the policy asks for a call every "
              f"{rule.every_days} days (owner {owner.name})")
    evidence = {
        "policy": f"rules[id={rule.id}] every {rule.every_days} days",
        "account_type": next((field_value(account, n) for n in (ctx.policy.account_types.source_field,
                                                                 *ctx.policy.account_types.also_from)
                              if ctx.policy.account_types.category(field_value(account, n)) == category), None),
        "category": category,
        "owner": owner.email or owner.name,
        "last_call": last_call.isoformat() if last_call else None,
        "days_since": days,
        "call_scheduled": account.id in calls.scheduled,
        "period_start": period.isoformat(),
        "since": ((last_call or account.created_at) + timedelta(days=rule.every_days)).isoformat(),
    }
    assignee = facts.acting(owner)
    if account.id in calls.scheduled:
        reason += "; a call is already scheduled."
    elif assignee is None:
        reason += f"; {owner.name} has left and has no manager to take the call."
    else:
        reason += f". Schedule a call for {assignee.name}."
        key = f"{rule.id}:{_ACCOUNT}:{account.id}:{period.isoformat()}"
        payload = task_payload(facts, rule.task, assignee, reason, what_id=account.id)
        result.actions.append(Action(ActionKind.CREATE_TASK, _ACCOUNT, account.id, key, reason, rule.id, payload))
    result.findings.append(Finding(rule.id, _ACCOUNT, account.id, facts.answerable(owner.id), reason, evidence))
