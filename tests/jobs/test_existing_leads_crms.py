"""New leads already in the system, marked the same on the embedded CRM, Salesforce and HubSpot (issue 20, seed 003).

Each CRM holds an existing contact and account; a new lead who is that contact (Salesforce's Lead
object, HubSpot's lead-stage contact) or works at that account is marked, and nothing else is. On
HubSpot a lead is a contact too: it must never be already in the system as itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from config.policy_file import parse_policy
from connectors.local import LocalCRM
from domain.connector import Connector
from domain.records import Account, Contact, Lead, Owner
from jobs.cli import app
from jobs.pipeline import run_job
from store.db import make_engine, migrate, session_factory
from tests.connectors.hubspot_fixtures import SecondsClock
from tests.connectors.hubspot_fixtures import connect as connect_hubspot
from tests.connectors.sf_fixtures import connect as connect_salesforce
from tests.servers.hubspot import fresh as hubspot_fresh
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.server import HubSpotServer, Limits
from tests.servers.salesforce.org import Org, sf_datetime
from tests.servers.salesforce.server import serve

POLICY = parse_policy("rules:\n  - {id: known-leads, kind: existing_lead, new_within_days: 7}\n")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'warden.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def marked(connector: Connector, connection: str, engine: Engine, now: datetime) -> dict[str, dict[str, Any]]:
    """Lead id -> the evidence of its "already in the system" finding, from a dry run of the intake job."""
    result = run_job("route", connector=connector, connection=connection, policy=POLICY,
                     sessions=session_factory(engine), now=now, apply=False)
    assert not result.errors and not result.actions
    return {f.record_id: f.evidence for f in result.findings if f.rule == "known-leads"}


def test_on_the_embedded_crm(tmp_path: Path, engine: Engine) -> None:
    """The contact's own address marks the lead as that contact; a website domain as someone at the account."""
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    day = now - timedelta(days=1)
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: now)
    crm.insert_records([
        Owner("u-a", "Ann A", "a@x.com"),
        Account("acc-1", "Acme Outdoor", "u-a", now - timedelta(days=400), day, website="acme-outdoor.example"),
        Contact("con-1", "Samuel Reed", "acc-1", "u-a", now - timedelta(days=300), day,
                email="sam@acme-outdoor.example"),
        Lead("l-sam", "Sam Reed", None, "u-a", "New", day, day, email="sam@acme-outdoor.example"),
        Lead("l-rosa", "Rosa Diaz", None, "u-a", "New", day, day, email="rosa@acme-outdoor.example"),
        Lead("l-ivy", "Ivy Chen", "Prospect Co", "u-a", "New", day, day, email="ivy@prospect.example"),
    ])
    found = marked(crm, "local", engine, now)
    crm.close()
    assert set(found) == {"l-sam", "l-rosa"}
    assert (found["l-sam"]["matched_by"], found["l-sam"]["contact"], found["l-sam"]["account"]) == (
        "contact", "con-1", "acc-1")
    assert (found["l-rosa"]["matched_by"], found["l-rosa"]["account"]) == ("email domain", "acc-1")


def test_on_salesforce(tmp_path: Path, engine: Engine) -> None:
    """A Lead with a Contact's name and email is that Contact; a Lead at the Account's website domain works there."""
    now = datetime(2026, 5, 6, 15, 0, tzinfo=UTC)
    (tmp_path / "ca").mkdir()
    with serve(ca_dir=tmp_path / "ca") as (fake, bundle):
        org = fake.org = Org()
        owner = org.add("User", Name="Rex Rep", Email="rex@example.com", IsActive=True)
        acme = org.add("Account", Name="Acme Products", OwnerId=owner, Website="acme.example")
        carla = org.add("Contact", Name="Carla Buyer", FirstName="Carla", LastName="Buyer", AccountId=acme,
                        OwnerId=owner, Email="carla@acme.example")
        new = {"OwnerId": owner, "Status": "Open", "CreatedDate": sf_datetime(now - timedelta(days=1))}
        again = org.add("Lead", Name="Carla Buyer", FirstName="Carla", LastName="Buyer", Company="Acme",
                        Email="carla@acme.example", **new)
        colleague = org.add("Lead", Name="Dan Ode", FirstName="Dan", LastName="Ode", Company="ACME Prods",
                            Email="dan@acme.example", **new)
        org.add("Lead", Name="Lee Prospect", FirstName="Lee", LastName="Prospect", Company="Lee Corp", **new)
        found = marked(connect_salesforce(fake, bundle), "salesforce", engine, now)
    assert set(found) == {again, colleague}
    assert (found[again]["matched_by"], found[again]["contact"], found[again]["account"]) == ("contact", carla, acme)
    assert (found[colleague]["matched_by"], found[colleague]["account"]) == ("email domain", acme)


def test_on_hubspot_a_lead_is_never_a_contact_of_itself(engine: Engine) -> None:
    """HubSpot's leads are lead-stage contacts: Ivy Chen is not already in the system as herself, while a lead
    with a customer contact's name and phone is that contact, and one at the company's domain works there."""
    portal = Portal()
    seeded = hubspot_fresh.fresh_portal(portal)
    day_ago = hubspot_fresh.NOW_MS - hubspot_fresh.DAY_MS
    nora = portal.create("contacts", {"firstname": "Nora", "lastname": "Quinn", "phone": "+1 312 555 0199",
                                      "email": "nora@cobalt-labs.example", "lifecyclestage": "customer",
                                      "hubspot_owner_id": "41000001"}, created_ms=day_ago - 300 * 86_400_000).id
    portal.associate("contacts", nora, "companies", seeded["cobalt"])
    lead = {"lifecyclestage": "lead", "hs_lead_status": "NEW", "hubspot_owner_id": "41000002"}
    again = portal.create("contacts", {"firstname": "Nora", "lastname": "Quinn", "phone": "(312) 555-0199",
                                       "email": "nquinn@gmail.com", **lead}, created_ms=day_ago).id
    rosa = portal.create("contacts", {"firstname": "Rosa", "lastname": "Diaz", "email": "rosa@acme-outdoor.example",
                                      **lead}, created_ms=day_ago).id
    clock = SecondsClock()
    with HubSpotServer(portal, Limits(burst=10_000), clock=clock) as server:
        found = marked(connect_hubspot(server, clock, burst=10_000), "hubspot", engine, hubspot_fresh.NOW)
    assert seeded["fresh_lead"] not in found  # Ivy Chen: a lead, and a contact only as that same record
    assert set(found) == {again, rosa}
    assert (found[again]["matched_by"], found[again]["contact"], found[again]["account"]) == (
        "contact", nora, seeded["cobalt"])
    assert (found[rosa]["matched_by"], found[rosa]["account"]) == ("email domain", seeded["acme"])


def test_the_demo_org_marks_its_web_leads_already_in_the_system(env: Path) -> None:
    """`warden run route` on the demo marks the web leads of a customer's contact, domain and name, and the
    digest of whoever watches the Web Leads queue lists them under "New leads already in the system"."""
    assert CliRunner().invoke(app, ["demo", "--now", "2026-11-20T15:00:00Z"]).exit_code == 0
    result = CliRunner().invoke(app, ["run", "route", "--now", "2026-11-20T15:00:00Z", "--json"])
    assert result.exit_code == 0, result.stdout
    web = {f["record_id"]: f for f in json.loads(result.stdout)["findings"]
           if f["rule"] == "leads-already-in-system" and f["record_id"].startswith("led-web-")}
    assert sorted(f["evidence"]["matched_by"] for f in web.values()) == ["company", "contact", "email domain"]
    assert all("is already in the system: it " in f["reason"] for f in web.values())
    digest = (env / ".warden" / "digests" / "sales-ops-example-com.html").read_text()
    assert "New leads already in the system" in digest
