from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.policy import Duration, Policy, SlaRule
from config.policy_file import parse_policy
from domain.org import History
from domain.plan import ActionKind, RuleResult
from domain.records import Lead, Opportunity, Owner, Record, Task, TaskPriority, TaskStatus, TaskType
from enforcement import sla
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from tests.memory_org import InMemoryOrg

NY = ZoneInfo("America/New_York")
POLICY = """\
calendar: {time_zone: America/New_York, country: US}
teams:
  - {name: East, manager: boss@x.com, members: [a@x.com, b@x.com, c@x.com, d@x.com, gone@x.com]}
owners:
  - {email: c@x.com, out_of_office: true}
  - {email: d@x.com, weight: 2, cap: 3}
queues: [Marketing Queue]
stages:
  opportunity:
    - {name: Discovery}
    - {name: Closed Won, closed: true, won: true}
  lead:
    - {name: New}
    - {name: Working}
rules:
  - id: opp-sla
    kind: sla
    object: opportunity
    within: {business_days: 4}
    reassign_to: {kind: round_robin}
    escalate_after: 2
    task: {subject: Act on it, due_in_business_days: 1, priority: high}
  - id: lead-sla
    kind: sla
    object: lead
    statuses: [New]
    within: {business_hours: 2}
    reassign_to: {kind: queue, queue: Marketing Queue}
    task: {subject: Call now, due_in_business_days: 0, task_type: call}
"""
OWNERS = [
    Owner("u-a", "Ann A", "a@x.com", time_zone="America/New_York", manager_id="u-boss"),
    Owner("u-b", "Bob B", "b@x.com", time_zone="America/Los_Angeles"),
    Owner("u-c", "Cat C", "c@x.com"),
    Owner("u-d", "Dee D", "d@x.com"),
    Owner("u-boss", "Boss", "boss@x.com"),
    Owner("u-gone", "Gone G", "gone@x.com", active=False, manager_id="u-boss"),
    Owner("q-mkt", "Marketing Queue", is_queue=True),
]
MONDAY_10 = datetime(2026, 10, 19, 10, 0, tzinfo=NY).astimezone(UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return parse_policy(POLICY)


def opp(id: str = "o1", owner: str = "u-a", created: datetime = MONDAY_10, **kw: object) -> Opportunity:
    fields: dict[str, object] = {"stage": "Discovery", "stage_changed_at": created, **kw}
    return Opportunity(id, f"Deal {id}", "acc1", owner, created_at=created, updated_at=created, **fields)  # type: ignore[arg-type]


def evaluate(
    policy: Policy, rule_id: str, records: list[Record], now: datetime, history: History | None = None
) -> RuleResult:
    rule = next(r for r in policy.rules if r.id == rule_id and isinstance(r, SlaRule))
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), now, {o.id: o for o in OWNERS}, history or History())
    return sla.evaluate(rule, ctx, InMemoryOrg([*OWNERS, *records]))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=NY).astimezone(UTC)


def test_untouched_opportunity_is_reassigned_after_four_business_days(policy: Policy) -> None:
    """Created Monday 10:00, nothing done: still fine Friday 09:59, reassigned at Friday 10:00."""
    assert not evaluate(policy, "opp-sla", [opp()], at(23, 9, 59)).findings
    result = evaluate(policy, "opp-sla", [opp()], at(23, 10, 0))
    [finding] = result.findings
    assert "Ann A did not act on it within 4 business days" in finding.reason
    assert finding.evidence["due"] == at(23, 10).isoformat()
    kinds = [a.kind for a in result.actions]
    assert kinds == [ActionKind.REASSIGN, ActionKind.CREATE_TASK]
    assert result.actions[0].payload["owner_id"] not in ("u-a", "u-c")  # not the owner, not out of office


def test_activity_or_stage_change_counts_as_acting(policy: Policy) -> None:
    """A completed call or a stage change after creation stops the SLA clock."""
    call = Task("t1", "Intro call", "u-a", TaskStatus.COMPLETED, TaskType.CALL, TaskPriority.NORMAL,
                MONDAY_10, MONDAY_10, completed_at=MONDAY_10 + timedelta(hours=3), what_id="o1")
    late = at(30, 12)
    assert not evaluate(policy, "opp-sla", [opp(), call], late).findings
    moved = opp(stage_changed_at=MONDAY_10 + timedelta(days=1))
    assert not evaluate(policy, "opp-sla", [moved], late).findings


def test_deadline_runs_in_the_owner_time_zone(policy: Policy) -> None:
    """Bob is in Los Angeles: his Friday 10:00 comes three hours after New York's."""
    created = datetime(2026, 10, 19, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles")).astimezone(UTC)
    record = opp(owner="u-b", created=created)
    assert not evaluate(policy, "opp-sla", [record], at(23, 12, 59)).findings
    assert evaluate(policy, "opp-sla", [record], at(23, 13, 0)).findings


def test_thanksgiving_is_not_a_business_day(policy: Policy) -> None:
    """Created Tuesday before Thanksgiving: Thursday and the weekend do not count, so due next Tuesday."""
    created = datetime(2026, 11, 24, 10, 0, tzinfo=NY).astimezone(UTC)
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=NY).astimezone(UTC)
    assert not evaluate(policy, "opp-sla", [opp(created=created)], tuesday - timedelta(minutes=1)).findings
    assert evaluate(policy, "opp-sla", [opp(created=created)], tuesday).findings


def test_round_robin_honours_weight_cap_and_out_of_office(policy: Policy) -> None:
    """Dee has weight 2 but a cap of 3 a day; Cat is out of office; nobody gets their own record back."""
    records: list[Record] = [opp(f"o{i}") for i in range(12)]
    result = evaluate(policy, "opp-sla", records, at(30, 12))
    owners = Counter(a.payload["owner_id"] for a in result.actions if a.kind is ActionKind.REASSIGN)
    assert "u-c" not in owners and "u-a" not in owners
    assert owners["u-d"] == 3
    assert owners["u-b"] == 9
    capped = evaluate(policy, "opp-sla", records, at(30, 12), History(assigned_today={"u-d": 3}))
    assert all(a.payload["owner_id"] == "u-b" for a in capped.actions if a.kind is ActionKind.REASSIGN)


def test_escalates_to_manager_after_repeated_reassignments(policy: Policy) -> None:
    """A record this rule already reassigned twice goes to the owner's manager instead."""
    moved_at = at(20, 9)
    history = History(reassignments={("opp-sla", "o1"): 2}, last_reassigned={("opp-sla", "o1"): moved_at})
    result = evaluate(policy, "opp-sla", [opp()], at(30, 12), history)
    assert result.actions[0].payload["owner_id"] == "u-boss"
    assert "escalated to the manager after 2 reassignments" in result.findings[0].reason


def test_reassignment_restarts_the_clock_and_the_key(policy: Policy) -> None:
    """After a reassignment the new owner gets a full window, and a later breach has a new key."""
    first = evaluate(policy, "opp-sla", [opp()], at(23, 11)).actions[0].key
    assert first == evaluate(policy, "opp-sla", [opp()], at(26, 11)).actions[0].key  # same period, same key
    history = History(reassignments={("opp-sla", "o1"): 1}, last_reassigned={("opp-sla", "o1"): at(23, 11)})
    assert not evaluate(policy, "opp-sla", [opp()], at(26, 11), history).findings
    later = evaluate(policy, "opp-sla", [opp()], at(30, 11), history).actions[0].key
    assert later != first


def test_deactivated_owner_hands_work_on_at_once(policy: Policy) -> None:
    """A record owned by someone who left is reassigned without waiting for the deadline."""
    result = evaluate(policy, "opp-sla", [opp(owner="u-gone")], MONDAY_10 + timedelta(hours=1))
    assert "deactivated" in result.findings[0].reason
    assert result.actions[0].payload["owner_id"] in {"u-b", "u-d"}


def test_records_the_rule_cannot_judge_are_skipped_with_a_reason(policy: Policy) -> None:
    """No owner or an unknown owner is a recorded skip; closed deals are never judged."""
    records: list[Record] = [opp("o1", owner=None), opp("o2", owner="u-nobody"),  # type: ignore[arg-type]
                             opp("o3", stage="Closed Won", is_closed=True)]
    result = evaluate(policy, "opp-sla", records, at(30, 12))
    assert {s.record_id: s.reason for s in result.skips} == {
        "o1": "cannot judge the SLA: it has no owner",
        "o2": "cannot judge the SLA: its owner u-nobody is unknown",
    }
    assert not result.findings


def test_new_lead_not_called_within_two_business_hours_goes_to_the_queue(policy: Policy) -> None:
    """A lead created Friday 16:00 is due Monday 10:00; then it goes to the marketing queue, no task."""
    created = at(23, 16)
    lead = Lead("l1", "Zoë 🚀 Müller", "株式会社テスト", "u-a", "New", created, created, status_changed_at=created)
    assert not evaluate(policy, "lead-sla", [lead], at(26, 9, 59)).findings
    result = evaluate(policy, "lead-sla", [lead], at(26, 10))
    assert [a.kind for a in result.actions] == [ActionKind.REASSIGN]
    assert result.actions[0].payload["owner_id"] == "q-mkt"
    assert "Zoë 🚀 Müller" in result.findings[0].reason
    working = Lead("l2", "Sam", None, "u-a", "Working", created, created)
    assert not evaluate(policy, "lead-sla", [working], at(30, 10)).findings


def test_task_for_new_owner_is_due_on_their_next_business_day(policy: Policy) -> None:
    """The follow-up task names why, is due one business day later, and waits for the reassignment."""
    result = evaluate(policy, "opp-sla", [opp()], at(23, 16))  # Friday afternoon
    reassign, task = result.actions
    assert task.requires == reassign.key
    assert task.payload["due_date"] == "2026-10-26"
    assert task.payload["owner_id"] == reassign.payload["owner_id"]
    assert "did not act on it" in task.payload["description"]


def test_reminder_one_business_day_before_the_deadline(policy: Policy) -> None:
    """Due Friday 10:00 with remind_before one business day: nothing Thursday 09:59, a reminder from 10:00."""
    rule = next(r for r in policy.rules if r.id == "opp-sla")
    reminding = policy.model_copy(update={"rules": (rule.model_copy(update={
        "remind_before": Duration(business_days=1)}),)})
    assert evaluate(reminding, "opp-sla", [opp()], at(22, 9, 59)).actions == []
    [reminder] = evaluate(reminding, "opp-sla", [opp()], at(22, 10, 0)).actions
    assert reminder.kind is ActionKind.CREATE_TASK and reminder.payload["owner_id"] == "u-a"
    assert reminder.key == f"opp-sla:opportunity:o1:{MONDAY_10.isoformat()}:remind"
    assert "Ann A has until Fri 23 Oct 10:00 EDT to act on it" in reminder.reason
    breached = evaluate(reminding, "opp-sla", [opp()], at(23, 10, 0)).actions
    assert not [a for a in breached if a.key.endswith(":remind")]
    gone = evaluate(reminding, "opp-sla", [opp(owner="u-gone")], at(22, 10, 0)).actions
    assert not [a for a in gone if a.key.endswith(":remind")]


def test_a_deal_in_a_stage_its_own_pipeline_closes_is_not_reassigned() -> None:
    """'Signed' closes the Partner pipeline (the CRM has not flagged the deal closed yet): no SLA breach there,
    while the same stage name in the default pipeline is open and breaches."""
    text = POLICY.replace("  lead:\n", "    - {name: Signed}\n  pipelines:\n    - name: Partner\n      opportunity: "
                          "[{name: Discovery}, {name: Signed, closed: true, won: true}]\n  lead:\n", 1)
    policy = parse_policy(text)
    partner = opp("o1", stage="Signed", pipeline="Partner")
    direct = opp("o2", stage="Signed")
    result = evaluate(policy, "opp-sla", [partner, direct], at(30, 12))
    assert [f.record_id for f in result.findings] == ["o2"]
