from datetime import timedelta
from typing import Any

import pytest

from config.policy_file import PolicyError, parse_policy
from domain.org import History
from domain.plan import ActionKind, RuleResult
from domain.records import Lead, Owner, Record
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import FAMILIES
from tests.enforcement.families import NOW, days_ago
from tests.memory_org import InMemoryOrg

POLICY = """\
calendar: {time_zone: America/New_York, country: US}
teams: [{name: East, manager: boss@x.com, members: [a@x.com, gone@x.com]}]
queues: [Marketing Queue]
stages:
  lead: [{name: New}, {name: Working}, {name: Rejected, closed: true}]
rules:
  - id: route-leads
    kind: route
    from_queues: [Marketing Queue]
    routes: [{name: All, to: {kind: round_robin, team: East}}]
  - id: acceptance
    kind: acceptance
    statuses: [New]
    accepted: [Working]
    rejected: Rejected
    reason_field: rejection_reason
    return_to: {kind: queue, queue: Marketing Queue}
    within: {business_hours: 8}
    task: {subject: Accept or reject this lead}
"""
OWNERS = [Owner("u-a", "Ann A", "a@x.com"), Owner("u-boss", "Boss", "boss@x.com"),
          Owner("u-gone", "Gone G", "gone@x.com", active=False, manager_id="u-boss"),
          Owner("q-mkt", "Marketing Queue", is_queue=True)]


def lead(id: str, status: str, owner: str = "u-a", **kw: Any) -> Lead:
    fields: dict[str, Any] = {"status_changed_at": days_ago(0.5), "extra": {"lead_source": "Web"}, **kw}
    return Lead(id, f"Pat {id}", "Initech", owner, status, days_ago(3), days_ago(0.5), **fields)


def judge(records: list[Record], history: History | None = None) -> RuleResult:
    policy = parse_policy(POLICY)
    rule = policy.rules[1]
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {o.id: o for o in OWNERS}, history or History())
    return FAMILIES[rule.kind].evaluate(rule, ctx, InMemoryOrg([*OWNERS, *records]))


def test_a_rejected_lead_with_a_reason_goes_back_to_marketing() -> None:
    """Rejected with a reason: reassigned to marketing's queue, the reason in the action."""
    result = judge([lead("l1", "Rejected", extra={"lead_source": "Web", "rejection_reason": "Student, no budget"})])
    [action] = result.actions
    assert action.kind is ActionKind.REASSIGN and action.payload == {"owner_id": "q-mkt"}
    assert action.reason == "Lead 'Pat l1' was rejected by Ann A: 'Student, no budget'. Return it to Marketing Queue."
    assert result.findings[0].evidence["reason"] == "Student, no budget"


def test_a_rejected_lead_without_a_reason_is_flagged_and_stays() -> None:
    """Rejected without a reason: a finding and a task for the owner to give one; the lead is not returned."""
    result = judge([lead("l1", "Rejected", extra={"rejection_reason": "  "})])
    [finding] = result.findings
    assert "was rejected by Ann A without a reason: say why in rejection_reason" in finding.reason
    [task] = result.actions
    assert task.kind is ActionKind.CREATE_TASK and task.payload["owner_id"] == "u-a"
    assert task.payload["subject"] == "Say why you rejected this lead" and task.payload["who_id"] == "l1"


def test_a_rejected_lead_already_back_with_marketing_is_left_alone() -> None:
    """Once in the queue, a rejected lead is marketing's: nothing more to do."""
    assert judge([lead("l1", "Rejected", owner="q-mkt", extra={"rejection_reason": "Spam"})]) == RuleResult()


def test_a_lead_not_accepted_by_its_deadline_is_flagged_once_per_clock() -> None:
    """New for 3 days: past 8 business hours since creation; routed an hour ago: not yet."""
    late = judge([lead("l1", "New", status_changed_at=None)])
    [finding] = late.findings
    assert "has not accepted or rejected it within 8 business hours" in finding.reason
    assert late.actions[0].key.endswith(":decide")
    routed = History(last_reassigned={("route-leads", "l1"): NOW - timedelta(hours=1)})
    assert judge([lead("l1", "New", status_changed_at=None)], routed).findings == []


def test_an_accepted_lead_is_not_judged() -> None:
    """A lead in an accepted status has had its decision."""
    assert judge([lead("l1", "Working")]).findings == []


@pytest.mark.parametrize(("bad", "key"), [("accepted: [Working]", "accepted: [Wroking]"),
                                          ("rejected: Rejected", "rejected: Rejeted")])
def test_unknown_statuses_are_one_problem_with_their_line(bad: str, key: str) -> None:
    """A status the lead stages do not have is refused, naming the key and its line."""
    text = POLICY.replace(bad, key)
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    [problem] = caught.value.problems
    assert problem.line == next(n for n, line in enumerate(text.splitlines(), 1) if key in line)
    assert "is not in stages.lead" in problem.message


def test_a_lead_of_an_owner_who_left_is_the_managers_to_decide() -> None:
    """Awaiting a decision past the deadline with a deactivated owner: the manager gets the task."""
    [task] = judge([lead("l1", "New", owner="u-gone", status_changed_at=None)]).actions
    assert task.payload["owner_id"] == "u-boss"
