"""Leads from activity on the Salesforce and HubSpot test servers, from the activity each CRM logs and a CSV.

Three applying runs make exactly one lead for the person new to the CRM, and a task (not a lead) for the
contact and the lead the activity belongs to: nothing is duplicated.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from jobs.cli import app
from tests.servers.hubspot.portal import Portal, iso
from tests.servers.hubspot.server import HubSpotServer, Limits
from tests.servers.salesforce.org import Org, sf_datetime
from tests.servers.salesforce.server import FakeSalesforce, serve

NOW = datetime(2026, 5, 6, 15, 0, tzinfo=UTC)
POLICY = """\
calendar: {time_zone: America/New_York, country: US}
queues: [Web Leads]
stages:
  lead: [{name: New}, {name: Working}]
rules:
  - id: from-activity
    kind: activity_score
    points: {web visit: 5, download: 15, event attendance: 25, email reply: 20, meeting: 30}
    threshold: 40
    window_days: 30
    task: {subject: Follow up on their activity, due_in_business_days: 1}
"""
CSV = ("Email,Name,Company,Type,Date,Detail\n"
       "nia@newco.example,Nia Okafor,Newco,Web Visit,2026-04-30,/pricing\n"
       "nia@newco.example,Nia Okafor,Newco,Download,2026-05-02,Buyer's guide\n"
       "Nia@Newco.example,Nia Okafor,Newco,Event Attendance,2026-05-05,Spring webinar\n"
       "lee@lead.example,Lee Lead,Leadco,Download,2026-05-01,Buyer's guide\n"
       "lee@lead.example,Lee Lead,Leadco,Event Attendance,2026-05-05,Spring webinar\n")


def _apply_three_times(tmp_path: Path, crm: str) -> list[dict]:  # type: ignore[type-arg]
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    (tmp_path / "activity.csv").write_text(CSV)
    runner = CliRunner()
    imported = runner.invoke(app, ["activity", "import", str(tmp_path / "activity.csv"), "--crm", crm,
                                   "--now", NOW.isoformat()])
    assert imported.exit_code == 0, imported.output
    runs = []
    for _ in range(3):
        result = runner.invoke(app, ["run", "activity", "--crm", crm, "--policy", str(policy), "--now",
                                     NOW.isoformat(), "--apply", "--json"])
        assert result.exit_code == 0, result.output
        runs.append(json.loads(result.stdout))
    return runs


def _applied(runs: list[dict]) -> list[Counter[str]]:  # type: ignore[type-arg]
    return [Counter(a["kind"] for a in run["actions"] if a["status"] == "applied") for run in runs]


@pytest.fixture
def salesforce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Org, dict[str, str]]]:
    org = Org(now=NOW - timedelta(days=1))
    org.seed_setup()
    ids = {"rep": org.add("User", Name="Rae Rep", Email="rae@x.example", IsActive=True,
                          TimeZoneSidKey="America/New_York"),
           "queue": org.add("Group", Name="Web Leads", Type="Queue")}
    ids["account"] = org.add("Account", Name="Known Co", OwnerId=ids["rep"])
    ids["contact"] = org.add("Contact", Name="Kim Known", FirstName="Kim", LastName="Known", Email="kim@known.example",
                             AccountId=ids["account"], OwnerId=ids["rep"])
    ids["lead"] = org.add("Lead", Name="Lee Lead", FirstName="Lee", LastName="Lead", Company="Leadco",
                          Email="Lee@Lead.example", OwnerId=ids["rep"], Status="Open - Not Contacted")
    org.add("Task", Subject="Re: your pricing", Type="Email Reply", TaskSubtype="Email", Status="Completed",
            IsClosed=True, WhoId=ids["contact"], OwnerId=ids["rep"], ActivityDate=(NOW - timedelta(days=3)).date()
            .isoformat(), CompletedDateTime=sf_datetime(NOW - timedelta(days=3)))
    org.add("Event", Subject="Product demo", Type="Meeting", WhoId=ids["contact"], OwnerId=ids["rep"],
            ActivityDateTime=sf_datetime(NOW - timedelta(days=2)))
    fake = FakeSalesforce(org=org)
    with serve(fake, ca_dir=tmp_path) as (_, bundle):
        monkeypatch.chdir(tmp_path)
        for name, value in {"WARDEN_DATABASE_URL": f"sqlite:///{tmp_path / 'warden.db'}",
                            "SALESFORCE_LOGIN_URL": fake.url, "SALESFORCE_CLIENT_ID": fake.client_id,
                            "SALESFORCE_CLIENT_SECRET": fake.client_secret, "REQUESTS_CA_BUNDLE": bundle,
                            "COLUMNS": "200"}.items():
            monkeypatch.setenv(name, value)
        yield org, ids
    structlog.reset_defaults()


def test_salesforce_gets_one_lead_per_person_and_tasks_for_known_people(
    salesforce: tuple[Org, dict[str, str]], tmp_path: Path
) -> None:
    """The CSV's new person becomes one Lead in the Web Leads queue; the contact (a reply Task and a meeting
    Event) and the lead (the CSV, its email in another case) each get a Task; later runs add nothing."""
    org, ids = salesforce
    runs = _apply_three_times(tmp_path, "salesforce")
    assert _applied(runs) == [Counter({"create_task": 2, "create_lead": 1}), Counter(), Counter()]
    leads = [r for r in org.tables["Lead"].values() if not r["IsDeleted"]]
    assert sorted(r["Email"].lower() for r in leads) == ["lee@lead.example", "nia@newco.example"]
    [new] = [r for r in leads if r["Id"] != ids["lead"]]
    assert (new["FirstName"], new["LastName"], new["Company"], new["OwnerId"], new["LeadSource"]) == (
        "Nia", "Okafor", "Newco", ids["queue"], "Activity score")
    assert "scored 45 points" in new["Description"]
    tasks = [t for t in org.tables["Task"].values() if (t.get("Warden_Key__c") or "").startswith("from-activity:")]
    assert sorted(t["WhoId"] for t in tasks) == sorted([ids["contact"], ids["lead"]])
    contact_task = next(t for t in tasks if t["WhoId"] == ids["contact"])
    assert "scored 50 points" in contact_task["Description"] and "email reply" in contact_task["Description"]


@pytest.fixture
def hubspot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Portal, dict[str, str]]]:
    portal = Portal()
    now_ms = int(NOW.timestamp() * 1000)
    portal.clock_ms = lambda: now_ms - 86_400_000
    portal.owners = [{"id": "51000001", "email": "rae@x.example", "firstName": "Rae", "lastName": "Rep",
                      "userId": 7, "archived": False, "teams": [], "createdAt": iso(now_ms - 10**10),
                      "updatedAt": iso(now_ms - 10**10)}]
    portal.custom["tasks"].add("warden_key")
    ids = {"contact": portal.create("contacts", {"firstname": "Kim", "lastname": "Known", "email": "kim@known.example",
                                                 "lifecyclestage": "customer", "hubspot_owner_id": "51000001"}).id,
           "lead": portal.create("contacts", {"firstname": "Lee", "lastname": "Lead", "email": "lee@lead.example",
                                              "company": "Leadco", "lifecyclestage": "lead",
                                              "hs_lead_status": "NEW", "hubspot_owner_id": "51000001"}).id}
    reply = portal.create("emails", {"hs_email_subject": "Re: your pricing", "hs_email_direction": "INCOMING_EMAIL",
                                     "hs_timestamp": iso(now_ms - 3 * 86_400_000)}).id
    meeting = portal.create("meetings", {"hs_meeting_title": "Product demo", "hs_meeting_outcome": "COMPLETED",
                                         "hs_timestamp": iso(now_ms - 2 * 86_400_000)}).id
    portal.associate("emails", reply, "contacts", ids["contact"])
    portal.associate("meetings", meeting, "contacts", ids["contact"])
    with HubSpotServer(portal, Limits(burst=100_000, search_per_s=100_000)) as server:
        monkeypatch.chdir(tmp_path)
        for name, value in {"WARDEN_DATABASE_URL": f"sqlite:///{tmp_path / 'warden.db'}",
                            "HUBSPOT_ACCESS_TOKEN": "test-token", "HUBSPOT_API_BASE": server.url,
                            "HUBSPOT_BURST_LIMIT": "100000", "COLUMNS": "200"}.items():
            monkeypatch.setenv(name, value)
        yield portal, ids
    structlog.reset_defaults()


def test_hubspot_gets_one_lead_contact_per_person_and_tasks_for_known_people(
    hubspot: tuple[Portal, dict[str, str]], tmp_path: Path
) -> None:
    """The new person becomes one contact in the lifecycle stage lead (no queue in HubSpot: no owner); the
    customer contact (a reply and a meeting logged) and the lead contact each get a task; later runs add nothing."""
    portal, ids = hubspot
    runs = _apply_three_times(tmp_path, "hubspot")
    assert _applied(runs) == [Counter({"create_task": 2, "create_lead": 1}), Counter(), Counter()]
    live = [c for c in portal.objects["contacts"].values() if c.archived_ms is None]
    assert sorted(c.properties["email"] for c in live) == ["kim@known.example", "lee@lead.example",
                                                             "nia@newco.example"]
    [new] = [c for c in live if c.properties["email"] == "nia@newco.example"]
    assert (new.properties["firstname"], new.properties["lifecyclestage"], new.properties.get("hubspot_owner_id")) == (
        "Nia", "lead", None)
    tasks = [t for t in portal.objects["tasks"].values()
             if (t.properties.get("warden_key") or "").startswith("from-activity:")]
    about = sorted(c for t in tasks for c in portal.associations("tasks", t.id, "contacts"))
    assert about == sorted([ids["contact"], ids["lead"]])
