from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from config.policy_file import PolicyError, parse_policy
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
teams:
  - {name: East, manager: boss@x.com, members: [a@x.com, b@x.com, c@x.com, off@x.com]}
  - {name: EMEA, manager: boss@x.com, members: [e@x.com]}
owners:
  - {email: a@x.com, weight: 2}
  - {email: off@x.com, out_of_office: true}
queues: [Web Leads, Marketing Queue]
stages:
  lead: [{name: New}, {name: Working}, {name: Disqualified, closed: true}]
rules:
  - id: route-leads
    kind: route
    from_queues: [Web Leads]
    from_owners: [web@x.com]
    routes:
      - {name: Existing customers, to_account_owner: true}
      - name: EMEA
        where: {country: [DE, FR, GB]}
        to: {kind: round_robin, team: EMEA}
      - name: Enterprise
        where: {employees: {at_least: 1000}}
        to: {kind: owner, owner: c@x.com}
      - name: Students
        where: {lead_source: Student}
        to: {kind: queue, queue: Marketing Queue}
      - {name: Everyone else, to: {kind: round_robin, team: East}}
    task: {subject: Call this new lead, due_in_business_days: 0, task_type: call}
"""
OWNERS = [
    Owner("u-a", "Ann A", "a@x.com"), Owner("u-b", "Bob B", "b@x.com"), Owner("u-c", "Cat C", "c@x.com"),
    Owner("u-off", "Olly Off", "off@x.com"), Owner("u-e", "Eva E", "e@x.com"), Owner("u-boss", "Boss", "boss@x.com"),
    Owner("u-web", "Web Form", "web@x.com"), Owner("u-gone", "Gone G", "gone@x.com", active=False,
                                                   manager_id="u-boss"),
    Owner("q-web", "Web Leads", is_queue=True), Owner("q-mkt", "Marketing Queue", is_queue=True),
]
ACME = Account("acc-1", "Acme Products, Inc.", "u-b", days_ago(900), days_ago(9), website="https://www.acme.com")
GLOBEX = Account("acc-2", "Globex", "u-gone", days_ago(900), days_ago(9))


def lead(id: str, owner: str | None = "q-web", **kw: Any) -> Lead:
    fields: dict[str, Any] = {"status": "New", "company": "Initech", "email": f"{id}@gmail.com", **kw}
    return Lead(id, f"Pat {id}", owner_id=owner, created_at=days_ago(0.1), updated_at=days_ago(0.1), **fields)


def route(records: list[Record], history: History | None = None, text: str = POLICY) -> RuleResult:
    policy = parse_policy(text)
    rule = policy.rules[0]
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {o.id: o for o in OWNERS}, history or History())
    return FAMILIES[rule.kind].evaluate(rule, ctx, InMemoryOrg([*OWNERS, ACME, GLOBEX, *records]))


def new_owner(result: RuleResult, lead_id: str) -> str | None:
    found = [a for a in result.actions if a.record_id == lead_id and a.kind is ActionKind.REASSIGN]
    return found[0].payload["owner_id"] if found else None


def test_first_matching_route_wins_and_says_why() -> None:
    """A German lead in the web queue goes to EMEA's rotation, with the route and its conditions in the reason."""
    result = route([lead("l1", extra={"country": "de", "employees": 5000})])
    assert new_owner(result, "l1") == "u-e"
    [reassign, task] = result.actions
    assert reassign.reason == ("Lead 'Pat l1' of Initech waits in queue Web Leads: route 'EMEA' takes it "
                               "(country is DE or FR or GB). Route to Eva E (round-robin in EMEA).")
    assert task.kind is ActionKind.CREATE_TASK and task.requires == reassign.key and task.payload["owner_id"] == "u-e"
    assert [f.owner_id for f in result.findings] == ["u-e"]


def test_conditions_on_numbers_text_and_targets() -> None:
    """Employee counts as text or numbers, custom fields, a named owner and a queue are each a route's target."""
    result = route([lead("big", extra={"employees": "1,200"}), lead("kid", extra={"lead_source": " student "}),
                    lead("small", extra={"employees": 20})])
    assert new_owner(result, "big") == "u-c"
    assert new_owner(result, "kid") == "q-mkt"
    assert new_owner(result, "small") in {"u-a", "u-b", "u-c"}
    assert not [a for a in result.actions if a.record_id == "kid" and a.kind is ActionKind.CREATE_TASK]


@pytest.mark.parametrize(("fields", "how"), [
    ({"email": "jo@acme.com"}, "email domain acme.com is the account's website"),
    ({"company": "ACME PRODUCTS"}, "company 'ACME PRODUCTS' is the same name"),
])
def test_a_lead_of_an_existing_account_goes_to_the_account_owner(fields: dict[str, Any], how: str) -> None:
    """Same email domain as the account's website, or the same company name key: the account's owner gets it."""
    result = route([lead("l1", extra={"country": "DE"}, **fields)])
    assert new_owner(result, "l1") == "u-b"
    assert ("route 'Existing customers' takes it (it works at account 'Acme Products, Inc.' (acc-1), owned by "
            f"Bob B: {how}). Route to Bob B (account owner).") in result.actions[0].reason


def test_a_lead_that_is_a_contact_goes_to_its_account_owner() -> None:
    """A lead who is an existing contact (the person matcher: Pat is Patricia, same email) goes to its account owner."""
    contact = Contact("con-1", "Patricia Doe", "acc-1", "u-a", days_ago(90), days_ago(9), email="Pat.Doe@Gmail.com")
    result = route([contact, lead("Doe", email="pat.doe@gmail.com")])
    assert new_owner(result, "Doe") == "u-b"
    assert "it is contact 'Patricia Doe' (con-1) at account 'Acme Products, Inc.' (acc-1), owned by Bob B: " in (
        result.actions[0].reason)
    assert result.findings[0].evidence["contact"] == "con-1"


def test_a_contact_without_an_account_hands_its_lead_to_the_contact_owner() -> None:
    """An existing contact at no account: the contact's owner gets the lead, and the reason says so."""
    contact = Contact("con-1", "Patricia Doe", None, "u-c", days_ago(90), days_ago(9), email="pat.doe@gmail.com")
    result = route([contact, lead("Doe", email="pat.doe@gmail.com")])
    assert new_owner(result, "Doe") == "u-c"
    assert "Route to Cat C (contact owner)." in result.actions[0].reason


def test_a_hubspot_lead_is_not_a_contact_of_itself() -> None:
    """HubSpot keeps a lead as a contact too: the same record is no existing contact, so the lead rotates."""
    itself = Contact("Doe", "Pat Doe", "acc-1", None, days_ago(0.1), days_ago(0.1), email="pat.doe@gmail.com")
    result = route([itself, lead("Doe", email="pat.doe@gmail.com", company="Initech")])
    assert result.findings[0].evidence["route"] == "Everyone else"


def test_an_account_owner_who_left_hands_the_lead_to_their_manager() -> None:
    """A lead of an account whose owner is deactivated goes to that owner's manager."""
    result = route([lead("l1", company="Globex GmbH")])
    assert new_owner(result, "l1") == "u-boss"


def test_only_leads_waiting_for_routing_are_routed() -> None:
    """Queued, unowned and default-owner leads are routed; reps' own leads, other queues and closed leads are not."""
    result = route([lead("queued"), lead("unowned", owner=None), lead("form", owner="u-web"),
                    lead("mine", owner="u-a"), lead("mkt", owner="q-mkt"), lead("dead", status="Disqualified")])
    assert {a.record_id for a in result.actions if a.kind is ActionKind.REASSIGN} == {"queued", "unowned", "form"}


def test_a_lead_routed_before_gets_a_new_key_when_it_waits_again() -> None:
    """Keys count the lead's routings, so a lead back in the queue is routed again, once."""
    first = route([lead("l1")])
    again = route([lead("l1")], History(reassignments={("route-leads", "l1"): 1}))
    assert first.actions[0].key == "route-leads:lead:l1:0" and again.actions[0].key == "route-leads:lead:l1:1"


def test_round_robin_follows_weights_and_skips_out_of_office() -> None:
    """Thirty leads in one run split 2:1:1 between Ann (weight 2), Bob and Cat; Olly is out of office."""
    result = route([lead(f"l{n}") for n in range(40)])
    shares = Counter(a.payload["owner_id"] for a in result.actions if a.kind is ActionKind.REASSIGN)
    assert shares == {"u-a": 20, "u-b": 10, "u-c": 10}


def test_a_lead_no_route_takes_is_a_finding() -> None:
    """With no catch-all route, a lead nothing matches stays where it is, reported with why."""
    text = POLICY.replace("      - {name: Everyone else, to: {kind: round_robin, team: East}}\n", "")
    result = route([lead("l1")], text=text)
    assert result.actions == []
    [finding] = result.findings
    assert finding.reason == ("Lead 'Pat l1' waits in queue Web Leads: route 'Existing customers' found no account "
                              "owner for it. Nobody to route it to: add a route that takes it.")


@pytest.mark.parametrize(("bad", "expected"), [
    ("to: {kind: round_robin, team: EMEA}", "to: {kind: round_robin, team: Europe}"),
    ("from_queues: [Web Leads]", "from_queues: [Web Leeds]"),
    ("to: {kind: queue, queue: Marketing Queue}", "to: {kind: queue, queue: Marketing}"),
])
def test_a_route_naming_nothing_is_one_problem_with_its_line(bad: str, expected: str) -> None:
    """An unknown team or queue in a route is refused, naming the key and its line."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(POLICY.replace(bad, expected), "p.yaml")
    [problem] = caught.value.problems
    line = next(n for n, text in enumerate(POLICY.replace(bad, expected).splitlines(), 1) if expected in text)
    assert problem.line == line and problem.path.startswith("rules.0.")


def test_a_route_with_no_target_is_refused() -> None:
    """A route without `to` or `to_account_owner` sends leads nowhere: one problem naming it."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(POLICY.replace("{name: Everyone else, to: {kind: round_robin, team: East}}",
                                    "{name: Everyone else}"), "p.yaml")
    [problem] = caught.value.problems
    assert "route 'Everyone else' sends leads nowhere" in str(problem) and problem.line is not None


def test_the_sla_clock_starts_when_the_lead_is_routed() -> None:
    """A lead created days ago but routed an hour ago has not breached a 2-business-hour SLA."""
    text = POLICY + """\
  - id: first-call
    kind: sla
    object: lead
    within: {business_hours: 2}
    reassign_to: {kind: round_robin, team: East}
    task: {subject: Call it}
"""
    policy = parse_policy(text)
    old = Lead("l1", "Pat", "Initech", "u-a", "New", days_ago(3), days_ago(3))
    routed = History(last_reassigned={("route-leads", "l1"): NOW - timedelta(hours=1)})
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {o.id: o for o in OWNERS}, routed)
    sla = policy.rules[1]
    assert FAMILIES["sla"].evaluate(sla, ctx, InMemoryOrg([*OWNERS, old])).actions == []
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {o.id: o for o in OWNERS}, History())
    assert FAMILIES["sla"].evaluate(sla, ctx, InMemoryOrg([*OWNERS, old])).actions != []
