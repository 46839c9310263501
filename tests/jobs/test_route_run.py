"""`warden run route` on the demo org: every new lead routed with its reason, once, starting its SLA clock."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from connectors.local import LocalCRM
from demo.intake import WEB_LEADS
from domain.records import Lead, ObjectType, Owner
from jobs.cli import app

NOW = "2026-11-20T15:00:00Z"


def run(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.stdout
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def crm(env: Path) -> LocalCRM:
    return LocalCRM.from_url(f"sqlite:///{env / 'crm.db'}")


def test_every_new_lead_is_routed_once_with_a_reason(env: Path) -> None:
    """Each lead in Web Leads gets one reassignment saying which route took it; a second apply routes nothing."""
    assert CliRunner().invoke(app, ["demo", "--now", NOW]).exit_code == 0
    queued = {lead.id for lead in crm(env).iter_changed(ObjectType.LEAD, None)
              if isinstance(lead, Lead) and lead.owner_id == WEB_LEADS.id}
    first = run("route", "--now", NOW, "--apply")
    routed = {a["record_id"]: a for a in first["actions"] if a["kind"] == "reassign"}
    assert queued and queued <= set(routed)
    assert all(a["status"] == "applied" and "route '" in a["reason"] and " Route to " in a["reason"]
               for a in routed.values())
    assert all(lead.owner_id != WEB_LEADS.id for lead in crm(env).iter_changed(ObjectType.LEAD, None)
               if isinstance(lead, Lead) and lead.id in queued)
    again = run("route", "--now", NOW, "--apply")
    assert [a for a in again["actions"] if a["status"] == "applied"] == []


def test_a_lead_of_an_existing_customer_goes_to_the_account_owner(env: Path) -> None:
    """The demo's web leads from customers (by email domain, by company name, and one who is a customer's
    contact) go to their accounts' owners."""
    assert CliRunner().invoke(app, ["demo", "--now", NOW]).exit_code == 0
    result = run("route", "--now", NOW)
    customers = [f for f in result["findings"] if f["evidence"].get("route") == "Existing customers"
                 and f["record_id"].startswith("led-web-")]
    assert len(customers) == 3
    assert len([f for f in customers if f["evidence"]["contact"]]) == 1
    accounts = {a.id: a for a in crm(env).iter_changed(ObjectType.ACCOUNT, None)}
    for finding in customers:
        assert finding["owner_id"] == accounts[finding["evidence"]["account"]].owner_id
        assert "(account owner)" in finding["reason"]


def test_the_first_contact_clock_starts_at_routing(env: Path) -> None:
    """A routed lead is not a first-contact breach until two business hours after it was routed."""
    now = datetime.fromisoformat(NOW)  # a run as of a past moment dates its routings in that moment's time
    assert CliRunner().invoke(app, ["demo", "--now", now.isoformat()]).exit_code == 0
    run("route", "--now", now.isoformat(), "--apply")
    soon = run("sla", "--now", (now + timedelta(minutes=90)).isoformat())
    assert not [f for f in soon["findings"] if f["record_id"].startswith("led-web-")]
    later = run("sla", "--now", (now + timedelta(days=5)).isoformat())
    assert {f["record_id"] for f in later["findings"] if f["record_id"].startswith("led-web-")}


def test_shares_follow_weights_over_many_runs(env: Path) -> None:
    """One lead per run, 60 runs: each East rep's share of routed leads is within 5 points of their weight's."""
    assert CliRunner().invoke(app, ["demo", "--now", NOW]).exit_code == 0
    local = crm(env)
    run("route", "--now", NOW, "--apply")
    start = datetime.fromisoformat(NOW)
    owners = {o.id: o for o in local.owners()}
    shares: Counter[str] = Counter()
    for n in range(60):
        moment = start + timedelta(days=n + 1)  # a day apart: Sam Rivera's cap of 5 a day plays no part
        local.insert_records([Lead(f"led-many-{n}", f"Pat {n}", f"Company {n}", WEB_LEADS.id, "New", moment,
                                   datetime.now(UTC), extra={"country": "US", "state": "NY"})])
        result = run("route", "--now", moment.isoformat(), "--apply")
        shares.update(a["payload_owner"] for a in _routings(result, owners))
    assert not [lead for lead in local.iter_changed(ObjectType.LEAD, None)
                if isinstance(lead, Lead) and lead.owner_id == WEB_LEADS.id], "a routed lead is still in the queue"
    weights = {"alex.carter@example.com": 1, "jordan.blake@example.com": 2, "sam.rivera@example.com": 1}
    total = sum(weights.values())
    for email, weight in weights.items():
        assert abs(shares[email] / 60 - weight / total) <= 0.05, shares


def _routings(result: dict, owners: dict[str, Owner]) -> list[dict]:  # type: ignore[type-arg]
    """The routing rule's decisions (the route job also marks leads already in the system)."""
    return [{"payload_owner": owners[f["owner_id"]].email} for f in result["findings"]
            if f["rule"] == "route-new-leads"]
