"""Overdue tasks (seed 002): open tasks past their due date alert the assignee, then the manager.

A task is overdue once its due date has passed in the assignee's own time zone: a task due today is
not overdue until their midnight. The assignee is told every day it stays overdue; their manager too
once it is ``manager_after_days`` late, or at once for a high-priority task. When the assignee has
left, only the manager is told. The actions are ``notify``: recorded in the ledger and delivered by
the digest job, never written to the CRM. Keys are per task, day and recipient, so a re-run on the
same day notifies nobody twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.policy import OverdueRule
from domain.org import OrgData
from domain.plan import Action, ActionKind, Finding, RuleResult, Skip
from domain.records import ObjectType, Owner, Task, TaskPriority
from enforcement.context import RuleContext
from enforcement.owner_facts import OwnerFacts
from enforcement.wording import record_label, unjudged_owner

_TASK = ObjectType.TASK


def evaluate(rule: OverdueRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Plan a notification for each overdue open task's assignee and, when due, their manager."""
    result = RuleResult()
    owners = OwnerFacts(ctx)
    # no time zone is more than a day ahead of UTC: a task due on or after that date is late for nobody
    for task in org.open_tasks(due_before=(ctx.now.astimezone(UTC) + timedelta(days=1)).date()):
        if task.due_date is None:
            continue
        owner = ctx.owner(task.owner_id)
        if owner is None:
            why = unjudged_owner(task.owner_id, "assignee")
            result.skips.append(Skip(rule.id, _TASK, task.id, f"cannot judge whether it is overdue: {why}"))
            continue
        if owner.is_queue:
            continue  # nobody has picked it up yet: the SLA rules deal with unworked queues
        today = owners.today(owner)
        # overdue once the due date has passed on the owner's clock; after that, a new day a new notice
        late_from = max(task.due_date, today) + timedelta(days=1)
        result.due_again(task.id, ctx.calendar.start_of_local_date(late_from, owners.zone(owner)))
        if today > task.due_date:
            _judge(rule, owners, task, owner, today, result)
    return result


def _judge(rule: OverdueRule, owners: OwnerFacts, task: Task, owner: Owner, today: date, result: RuleResult) -> None:
    manager = owners.manager(owner)
    due = task.due_date or today
    late = (today - due).days
    urgent = rule.high_priority_to_manager and task.priority is TaskPriority.HIGH
    escalate = not owner.active or urgent or late >= rule.manager_after_days
    recipients: list[tuple[Owner, str]] = [(owner, "assignee")] if owner.active else []
    if escalate and manager is not None:
        recipients.append((manager, "manager"))
    reason = (f"{record_label(task)} ({task.priority} priority) was due {due} and is {late} "
              f"day{'s' if late != 1 else ''} overdue for {owner.name}")
    if not owner.active:
        reason += ", who has left"
    if recipients:
        step = "Tell " + " and ".join(f"{o.name} ({role})" for o, role in recipients) + "."
        reason += ". " + step
    else:
        step = None
        reason += "; nobody to tell: no active manager found in the CRM or the policy's teams."
    evidence = {
        "policy": f"rules[id={rule.id}] manager after {rule.manager_after_days} days",
        "due_date": due.isoformat(),
        "days_overdue": late,
        "priority": str(task.priority),
        "assignee": owner.email or owner.name,
        "assignee_active": owner.active,
        "assignee_time_zone": owners.zone(owner),
        "manager": (manager.email or manager.name) if escalate and manager else None,
        "since": datetime.combine(due, time(0), ZoneInfo(owners.zone(owner))).isoformat(),
        "next_step": step,
    }
    result.findings.append(Finding(rule.id, _TASK, task.id, owners.answerable(owner.id), reason, evidence))
    for recipient, role in recipients:
        key = f"{rule.id}:{_TASK}:{task.id}:{today.isoformat()}:{recipient.id}"
        payload = {"recipient_id": recipient.id, "role": role, "task_id": task.id, "subject": task.subject,
                   "due_date": evidence["due_date"], "days_overdue": late, "assignee_id": owner.id}
        result.actions.append(Action(ActionKind.NOTIFY, _TASK, task.id, key, reason, rule.id, payload))
