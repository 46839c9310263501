"""A small org and policy shared by the rule-family tests: owners, record builders and one evaluator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.policy import Policy
from config.policy_file import parse_policy
from domain.org import History
from domain.plan import RuleResult
from domain.records import Account, Lead, Opportunity, Owner, Record, Task, TaskPriority, TaskStatus, TaskType
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import FAMILIES
from tests.memory_org import InMemoryOrg

NY = ZoneInfo("America/New_York")
POLICY_TEXT = """\
calendar: {time_zone: America/New_York, country: US}
teams:
  - {name: East, manager: boss@x.com, members: [a@x.com, b@x.com, gone@x.com, orphan@x.com]}
queues: [Marketing Queue]
account_types:
  values: {Customer: customer, client: customer, Prospect: prospect, Partner: partner}
stages:
  lead:
    - {name: New}
    - {name: Working}
    - {name: Qualified, required: [bant_budget, bant_need]}
    - {name: Returned to Marketing, closed: true}
  opportunity:
    - {name: Discovery, required: [close_date], probability: 10}
    - {name: Demo, required: [amount, close_date], probability: 25}
    - {name: Negotiation, required: [amount, close_date, bant_budget], probability: 70}
    - {name: Closed Won, closed: true, won: true, probability: 100}
    - {name: Closed Lost, closed: true, probability: 0}
rules:
  - id: stale-deals
    kind: stale_deal
    after_days: 60
    grace_days: 14
    warning: {subject: Move this deal}
    pipelines: {Renewals: close_lost}
  - id: stale-leads
    kind: stale_lead
    statuses: [Qualified]
    after_days: 30
    return_to: {kind: queue, queue: Marketing Queue}
    set_status: Returned to Marketing
  - id: calls
    kind: cadence
    every_days: 90
    task: {subject: Call this customer, task_type: call, due_in_business_days: 5}
  - id: overdue
    kind: overdue
    manager_after_days: 3
  - id: opp-gates
    kind: gates
    object: opportunity
    task: {subject: Complete this deal}
  - id: opp-gates-back
    kind: gates
    object: opportunity
    action: move_back
    task: {subject: Complete this deal}
  - id: lead-gates
    kind: gates
    object: lead
    action: move_back
    task: {subject: Complete BANT}
"""
OWNERS = [
    Owner("u-a", "Ann A", "a@x.com", time_zone="America/New_York", manager_id="u-boss"),
    Owner("u-b", "Bob B", "b@x.com", time_zone="America/Los_Angeles", manager_id="u-boss"),
    Owner("u-boss", "Boss", "boss@x.com"),
    Owner("u-gone", "Gone G", "gone@x.com", active=False, manager_id="u-boss"),
    Owner("u-cm", "Channel Carla", "cm@x.com"),
    Owner("q-mkt", "Marketing Queue", is_queue=True),
]
NOW = datetime(2026, 10, 21, 15, 0, tzinfo=NY).astimezone(UTC)
"""Wednesday 21 October 2026, 15:00 in New York."""


def policy() -> Policy:
    return parse_policy(POLICY_TEXT)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def opp(id: str = "o1", owner: str | None = "u-a", unmoved_days: float = 1, **kw: Any) -> Opportunity:
    changed = days_ago(unmoved_days)
    fields: dict[str, Any] = {"stage": "Discovery", "stage_changed_at": changed, "close_date": date(2026, 12, 1),
                              "amount": 1000.0, "probability": 10.0, "updated_at": changed, **kw}
    return Opportunity(id, f"Deal {id}", "acc1", owner, created_at=days_ago(400), **fields)


def lead(id: str = "l1", owner: str | None = "u-a", idle_days: float = 1, **kw: Any) -> Lead:
    changed = days_ago(idle_days)
    fields: dict[str, Any] = {"status": "Qualified", "status_changed_at": changed,
                              "extra": {"bant_budget": "50k", "bant_need": "CRM"}, **kw}
    return Lead(id, f"Lead {id}", "Acme", owner, created_at=days_ago(400), updated_at=changed, **fields)


def account(id: str = "a1", owner: str | None = "u-a", account_type: str | None = "Customer", **kw: Any) -> Account:
    return Account(id, f"Account {id}", owner, days_ago(kw.pop("age_days", 400)), NOW, account_type=account_type, **kw)


def task(id: str = "t1", owner: str | None = "u-a", **kw: Any) -> Task:
    fields: dict[str, Any] = {"status": TaskStatus.OPEN, "task_type": TaskType.TODO, "priority": TaskPriority.NORMAL,
                              **kw}
    return Task(id, f"Task {id}", owner, created_at=days_ago(30), updated_at=days_ago(30), **fields)


def evaluate(
    rule_id: str, records: Sequence[Record], now: datetime = NOW, history: History | None = None,
    policy_text: str = POLICY_TEXT,
) -> RuleResult:
    """Run one rule of the shared policy (or ``policy_text``) over the owners plus ``records`` at ``now``."""
    loaded = parse_policy(policy_text)
    rule = next(r for r in loaded.rules if r.id == rule_id)
    ctx = RuleContext(loaded, BusinessCalendar(loaded.calendar), now, {o.id: o for o in OWNERS}, history or History())
    return FAMILIES[rule.kind].evaluate(rule, ctx, InMemoryOrg([*OWNERS, *records]))
