"""New leads already in the system: marked with the contact or account they match, never changed."""

from datetime import timedelta
from typing import Any

from config.policy_file import parse_policy
from domain.plan import RuleResult
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
  lead: [{name: New}, {name: Working}, {name: Converted, closed: true, won: true}]
rules:
  - {id: known-leads, kind: existing_lead, new_within_days: 7}
"""
OWNERS = [Owner("u-a", "Ann A", "a@x.com"), Owner("u-b", "Bob B", "b@x.com"),
          Owner("q-web", "Web Leads", is_queue=True)]
ACME = Account("acc-1", "Acme Products, Inc.", "u-b", days_ago(900), days_ago(9), website="https://www.acme.com")
PATRICIA = Contact("con-1", "Patricia Doe", "acc-1", "u-a", days_ago(90), days_ago(9), email="Pat.Doe@Gmail.com")


def lead(id: str, name: str = "Jo Roe", age_days: float = 0.1, **kw: Any) -> Lead:
    fields: dict[str, Any] = {"status": "New", "company": "Initech", "email": f"{id}@gmail.com", **kw}
    return Lead(id, name, owner_id="q-web", created_at=days_ago(age_days), updated_at=days_ago(age_days), **fields)


def marked(records: list[Record]) -> RuleResult:
    policy = parse_policy(POLICY)
    rule = policy.rules[0]
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {o.id: o for o in OWNERS})
    return FAMILIES[rule.kind].evaluate(rule, ctx, InMemoryOrg([*OWNERS, ACME, PATRICIA, *records]))


def test_a_new_lead_who_is_a_contact_is_marked_with_the_contact_and_the_evidence() -> None:
    """Pat Doe writing from Patricia Doe's address is that contact, at Acme, whose owner is Bob B."""
    result = marked([lead("l1", "Pat Doe", email="pat.doe@gmail.com")])
    [finding] = result.findings
    assert finding.record_id == "l1" and finding.owner_id == "q-web" and not result.actions
    assert finding.reason.startswith(
        f"Lead 'Pat Doe' of Initech, new on {days_ago(0.1):%Y-%m-%d}, is already in the system: it is contact "
        "'Patricia Doe' (con-1) at account 'Acme Products, Inc.' (acc-1), owned by Bob B. Evidence: ")
    assert "email patdoe@gmail.com" in finding.reason  # Gmail ignores dots
    assert finding.reason.endswith("Work it as that contact, not as a new person.")
    assert {k: finding.evidence[k] for k in ("matched_by", "contact", "account", "account_owner")} == {
        "matched_by": "contact", "contact": "con-1", "account": "acc-1", "account_owner": "b@x.com"}


def test_a_new_lead_at_an_existing_company_names_the_account_and_how_it_matched() -> None:
    """By the company's name key, or by the email domain of the account's website; a public domain is nobody's."""
    result = marked([lead("l1", company="ACME PRODUCTS"), lead("l2", company=None, email="jo@acme.com"),
                     lead("l3", company="Umbrella")])
    found = {f.record_id: f for f in result.findings}
    assert set(found) == {"l1", "l2"}
    assert found["l1"].evidence["evidence"] == "company 'ACME PRODUCTS' is the same name"
    assert found["l2"].evidence["evidence"] == "email domain acme.com is the account's website"
    assert all(f.evidence["matched_by"] != "contact" and f.evidence["account"] == "acc-1" for f in found.values())


def test_old_and_closed_leads_are_not_new() -> None:
    """A lead older than new_within_days, or converted, is left alone (a converted lead's contact is itself)."""
    result = marked([lead("old", "Pat Doe", age_days=8, email="pat.doe@gmail.com"),
                     lead("won", "Pat Doe", status="Converted", email="pat.doe@gmail.com")])
    assert result.findings == []


def test_a_hubspot_lead_is_not_already_in_the_system_as_itself() -> None:
    """On HubSpot a lead is a contact in a lead stage: the same record never matches itself."""
    itself = Contact("l1", "Jo Roe", None, "u-a", days_ago(0.1), days_ago(0.1), email="jo.roe@gmail.com")
    result = marked([itself, lead("l1", email="jo.roe@gmail.com", company="Umbrella")])
    assert result.findings == []
    assert result.recheck == {"l1": days_ago(0.1) + timedelta(days=7)}
