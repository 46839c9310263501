from datetime import timedelta
from typing import Any

import pytest

from config.policy_file import PolicyError, parse_policy
from domain.activities import Activity
from domain.org import History
from domain.plan import ActionKind, RuleResult
from domain.records import Account, Contact, Lead, Owner, Record
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import FAMILIES
from tests.enforcement.families import NOW, days_ago
from tests.memory_org import InMemoryOrg

POLICY = """\
calendar: {time_zone: America/New_York, country: US}
queues: [Web Leads]
stages:
  lead: [{name: New}, {name: Working}]
rules:
  - id: from-activity
    kind: activity_score
    points: {Web Visit: 5, download: 15, event_attendance: 25, email-reply: 20, reply: 20, event: 25}
    threshold: 40
    window_days: 30
    task: {subject: Follow up on their activity, due_in_business_days: 1}
"""
OWNERS = [Owner("u-a", "Ann A", "a@x.com"), Owner("u-gone", "Gone G", "gone@x.com", active=False),
          Owner("q-web", "Web Leads", is_queue=True)]
ACME = Account("acc-1", "Acme Products, Inc.", "u-a", days_ago(900), days_ago(9), website="https://acme.com")


def act(n: int, kind: str, days: float = 1, email: str | None = "jo@newco.io", **kw: Any) -> Activity:
    when = days_ago(days)
    fields: dict[str, Any] = {"name": "Jo Doe", "company": "Newco", **kw}
    return Activity(f"a{n}", kind, when, when, email=email, **fields)


HOT = [act(1, "web visit"), act(2, "Download"), act(3, "Event Attendance")]
"""45 points: over the threshold of 40."""


def score(activities: list[Activity], records: list[Record] = (), history: History | None = None,  # type: ignore[assignment]
          text: str = POLICY) -> RuleResult:
    policy = parse_policy(text)
    rule = policy.rules[0]
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {o.id: o for o in OWNERS}, history or History())
    return FAMILIES[rule.kind].evaluate(rule, ctx, InMemoryOrg([*OWNERS, ACME, *records], activities))


def test_a_new_person_over_the_threshold_becomes_one_lead_in_the_queue() -> None:
    """Points add up per person across types named any way; the lead lands in Web Leads, keyed by the email."""
    result = score(HOT)
    [create] = result.actions
    assert create.kind is ActionKind.CREATE_LEAD and create.key == "from-activity:lead:jo@newco.io"
    assert create.payload | {"description": ""} == {
        "name": "Jo Doe", "email": "jo@newco.io", "company": "Newco", "owner_id": "q-web", "status": "New",
        "lead_source": "Activity score", "description": "", "score": 45}
    assert result.findings[0].reason == (
        "Jo Doe <jo@newco.io> of Newco scored 45 points in 30 days (threshold 40: 1 event_attendance (25), "
        "1 download (15), 1 Web Visit (5)). Not a lead or contact yet: create a lead in queue Web Leads, "
        "for the route rules to route.")
    assert "Download" in create.payload["description"] and "Event Attendance" in create.payload["description"]


def test_below_the_threshold_outside_the_window_or_unscored_nothing_happens() -> None:
    """Activity older than the window, of a type without points, or short of the threshold creates nothing."""
    assert score([act(1, "web visit"), act(2, "Download"), act(3, "Event Attendance", days=31)]).actions == []
    assert score([act(1, "web visit"), act(2, "Download"), act(3, "Page Like")]).actions == []
    assert score([act(1, "Download"), act(2, "event attendance", email=None)]).actions == []


def test_the_same_person_is_one_person_however_the_email_is_written() -> None:
    """Case and +tags of the email do not split a person's score."""
    result = score([act(1, "download", email="Jo@Newco.io"), act(2, "email reply", email="jo+events@newco.io"),
                    act(3, "web visit")])
    assert [a.key for a in result.actions] == ["from-activity:lead:jo@newco.io"]


@pytest.mark.parametrize("existing", [
    Lead("led-1", "Jo Doe", "Newco", "u-a", "Working", days_ago(50), days_ago(5), email="JO@newco.io"),
    Lead("led-1", "jo  doe", "NEWCO", "u-a", "Working", days_ago(50), days_ago(5)),
    Contact("con-1", "Joanna Doe", "acc-1", "u-a", days_ago(50), days_ago(5), email="jo@newco.io"),
])
def test_a_person_already_a_lead_or_contact_gets_a_task_not_a_lead(existing: Lead | Contact) -> None:
    """Matched by email, by name and company, or by the person matcher: the owner gets a task with the score."""
    result = score(HOT, [existing])
    [task] = result.actions
    assert task.kind is ActionKind.CREATE_TASK and task.record_id == existing.id
    assert task.payload["owner_id"] == "u-a" and task.payload["who_id"] == existing.id
    assert "scored 45 points" in task.payload["description"]
    assert f"Already {type(existing).__name__.lower()} '{existing.name}'" in result.findings[0].reason


def test_activity_the_crm_links_to_a_record_scores_that_record() -> None:
    """A reply logged on a contact (no email on the activity) counts toward that contact, whose owner is told."""
    contact = Contact("con-1", "Jo Doe", "acc-1", "u-a", days_ago(50), days_ago(5), email="jo@newco.io")
    result = score([act(1, "email reply", email=None, person_id="con-1"), act(2, "event attendance")], [contact])
    [task] = result.actions
    assert task.record_id == "con-1" and "the CRM links the activity to it" in task.reason


def test_one_task_per_record_per_window() -> None:
    """Runs in one window plan the same task key; a run a window later plans a new one."""
    lead = Lead("led-1", "Jo Doe", "Newco", "u-a", "Working", days_ago(50), days_ago(5), email="jo@newco.io")
    first = score(HOT, [lead]).actions[0].key
    assert score([*HOT, act(9, "web visit", days=0.5)], [lead]).actions[0].key == first
    later = [act(n + 10, a.activity_type, days=-29) for n, a in enumerate(HOT)]
    shifted = parse_policy(POLICY)
    ctx = RuleContext(shifted, BusinessCalendar(shifted.calendar), NOW + timedelta(days=30), {o.id: o for o in OWNERS})
    result = FAMILIES["activity_score"].evaluate(shifted.rules[0], ctx, InMemoryOrg([*OWNERS, lead], later))
    assert result.actions[0].key != first


def test_a_lead_this_rule_created_is_never_created_again_nor_given_a_task() -> None:
    """Once the ledger holds the applied create, the person's lead (even found by email) is left alone."""
    made = Lead("led-9", "Jo Doe", "Newco", "q-web", "New", days_ago(1), days_ago(1), email="jo@newco.io")
    history = History(created_leads={"from-activity:lead:jo@newco.io": "led-9"})
    assert score(HOT, [made], history) == RuleResult()
    linked = [act(n, kind, email=None, person_id="led-9") for n, kind in enumerate(("reply", "download", "event"))]
    renamed = History(created_leads={"from-activity:lead:jo.doe@old.io": "led-9"})  # the lead's email changed since
    assert score(linked, [made], renamed) == RuleResult()


def test_a_record_in_a_queue_or_of_someone_gone_gets_a_finding_without_a_task() -> None:
    """Nobody to give the task to: the finding says where the record sits."""
    queued = Lead("led-1", "Jo Doe", "Newco", "q-web", "New", days_ago(5), days_ago(5), email="jo@newco.io")
    result = score(HOT, [queued])
    assert result.actions == [] and "sits in queue Web Leads" in result.findings[0].reason


@pytest.mark.parametrize(("rule", "problem"), [
    ("points: {web visit: 5, Web_Visit: 3}", "'web visit' and 'Web_Visit' are the same type"),
    ("points: {web visit: 0}", "points of 'web visit' must be between 1 and 1000000"),
    ("points: {}", "at least 1 item"),
    ("points: {web visit: 5}\n    threshold: 0", "threshold"),
    ("points: {web visit: 5}\n    new_leads_queue: Nowhere", "queue 'Nowhere' is not in queues"),
    ("points: {web visit: 5}\n    lead_status: Hot", "lead status 'Hot' is not in stages.lead"),
    ("points: {web visit: 5}\n    windows_days: 3", "windows_days"),
])
def test_a_bad_rule_is_refused_naming_the_key(rule: str, problem: str) -> None:
    """Duplicate or zero points, a missing threshold, an unknown queue or status, a misspelt key: refused."""
    text = POLICY.replace("points: {Web Visit: 5, download: 15, event_attendance: 25, email-reply: 20, reply: 20, "
                          "event: 25}", rule)
    with pytest.raises(PolicyError) as raised:
        parse_policy(text)
    assert problem in str(raised.value)
