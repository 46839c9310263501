"""A new user on an org that is not the demo: policy init, doctor, doctor --fix, run all --apply (Salesforce)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from jobs.cli import app
from tests.servers.salesforce.fresh import NOW, Fresh, fresh_org
from tests.servers.salesforce.org import Org
from tests.servers.salesforce.server import FakeSalesforce, serve


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSalesforce, Fresh]]:
    fake = FakeSalesforce(org=Org(now=NOW - timedelta(days=1)))
    seeded = fresh_org(fake.org)
    with serve(fake, ca_dir=tmp_path) as (_, bundle):
        monkeypatch.chdir(tmp_path)
        for name, value in {"WARDEN_DATABASE_URL": f"sqlite:///{tmp_path / 'warden.db'}", "WARDEN_CRM": "salesforce",
                            "SALESFORCE_LOGIN_URL": fake.url, "SALESFORCE_CLIENT_ID": fake.client_id,
                            "SALESFORCE_CLIENT_SECRET": fake.client_secret, "REQUESTS_CA_BUNDLE": bundle,
                            "COLUMNS": "200"}.items():
            monkeypatch.setenv(name, value)
        yield fake, seeded
    structlog.reset_defaults()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_init_doctor_fix_and_run_find_and_fix_violations_without_editing_the_policy(
    org: tuple[FakeSalesforce, Fresh], tmp_path: Path
) -> None:
    """The drafted policy passes its check; doctor says the key field is missing, --fix makes it, and the run
    applies every action it plans with none failed."""
    fake, seeded = org
    policy = tmp_path / "policy.yaml"
    code, _ = invoke("policy", "init", "--out", str(policy))
    assert code == 0 and invoke("policy", "check", str(policy))[0] == 0
    drafted = policy.read_bytes()
    assert b'"Meet & Present"' in drafted and b"pipeline: RecordTypeId" in drafted and b'"Inbound Leads"' in drafted

    code, out = invoke("doctor", "--policy", str(policy))
    assert code == 1 and "✗ Salesforce Task has no field Warden_Key__c" in out and "warden doctor --fix" in out
    assert out.count("✗") == 1

    code, out = invoke("doctor", "--policy", str(policy), "--fix")
    assert code == 0 and "fixed: created Activity.Warden_Key__c" in out and out.rstrip().endswith("ready"), out
    assert "Warden_Key__c" in fake.org.schema["Task"]

    code, out = invoke("run", "all", "--policy", str(policy), "--now", NOW.isoformat(), "--apply", "--json")
    assert code == 0, out
    run = json.loads(out)
    statuses = Counter(a["status"] for a in run["actions"])
    assert statuses["applied"] > 0 and set(statuses) == {"applied"}
    rules = {f["rule"] for f in run["findings"]}
    assert rules >= {"sla-new-opportunity", "sla-first-contact", "stale-deals", "stale-leads", "customer-calls",
                     "overdue-tasks", "opportunity-gates"}
    assert not [s for s in run["skipped"] if "not in the policy" in s["reason"]]
    rows = fake.org.tables
    assert rows["Opportunity"][seeded["stale_deal"]]["StageName"] == "Closed Lost"
    assert rows["Opportunity"][seeded["renewal"]]["StageName"] == "Churned"
    assert rows["Lead"][seeded["stale_lead"]]["OwnerId"] == seeded["queue"]
    keys = [t["Warden_Key__c"] for t in rows["Task"].values() if t.get("Warden_Key__c")]
    assert keys and len(keys) == len(set(keys))
    assert policy.read_bytes() == drafted

    code, out = invoke("run", "all", "--policy", str(policy), "--now", NOW.isoformat(), "--apply", "--json")
    again = Counter(a["status"] for a in json.loads(out)["actions"])
    assert code == 0 and "applied" not in again and "failed" not in again


def test_doctor_lists_every_planted_misconfiguration_with_its_fix(
    org: tuple[FakeSalesforce, Fresh], tmp_path: Path
) -> None:
    """An org that drifted from its policy: each problem is one line naming it and the fix, and doctor exits 1."""
    fake, seeded = org
    policy = tmp_path / "policy.yaml"
    assert invoke("policy", "init", "--out", str(policy))[0] == 0
    tables = fake.org.tables
    fake.org.permissions.update({"Task": {"read", "update"}, "Account": {"read", "update", "create"}})
    next(r for r in tables["OpportunityStage"].values() if r["ApiName"] == "Negotiate")["ApiName"] = "Negotiation"
    fake.org.record_type_values = {rt: tuple("Negotiation" if s == "Negotiate" else s for s in stages)
                                   for rt, stages in fake.org.record_type_values.items()}
    del tables["LeadStatus"][next(i for i, r in tables["LeadStatus"].items() if r["ApiName"] == "Contacted")]
    tables["User"][seeded["rep2"]]["IsActive"] = False
    tables["Group"][seeded["queue"]]["Name"] = "Inbound Lead Queue"
    fake.org.picklists[("Account", "Type")] = ("Prospect", "Customers", "Reseller")
    fake.org.schema["Opportunity"].remove("RecordTypeId")
    fake.api_used = 14_000

    code, out = invoke("doctor", "--policy", str(policy))
    problems = [line for line in out.splitlines() if line.startswith("✗")]
    expected = [
        "Task has no field Warden_Key__c", "Setup > Object Manager > Activity",
        "may not create Task: give the integration user's profile or a permission set Create on Task",
        "may not merge Account: give the integration user's profile or a permission set Merge on Account",
        "names 'Negotiate', which is not in the salesforce org's pipeline 'New Business': did you mean 'Negotiation'?",
        "pipeline 'New Business' has 'Negotiation', which stages.opportunity does not name",
        "stages.lead names 'Contacted', which is not in the salesforce org's lead statuses",
        "teams[Greta Vogel's team].members names 'lena@fresh.example', who is deactivated",
        "queues names 'Inbound Leads', which is not a queue of the salesforce org: did you mean 'Inbound Lead Queue'?",
        "account_types.values maps 'Customer', which no account can have in the salesforce org: did you mean "
        "'Customers'?",
        "fields.salesforce.opportunity.pipeline names 'RecordTypeId', which is not a field",
        " of the org's 15,000 daily API calls are left: run later",
    ]
    assert code == 1
    for wanted in expected:
        assert any(wanted in line for line in problems), (wanted, problems)
    assert out.rstrip().endswith(f"not ready: {len(problems)} problem(s)")


def test_doctor_says_in_one_line_when_the_credentials_or_api_version_do_not_work(
    org: tuple[FakeSalesforce, Fresh], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused login and an API version the org does not serve each end doctor with exit 1 and one line."""
    policy = tmp_path / "policy.yaml"
    assert invoke("policy", "init", "--out", str(policy))[0] == 0
    monkeypatch.setenv("SALESFORCE_API_VERSION", "12.0")
    code, out = invoke("doctor", "--policy", str(policy))
    assert code == 1 and "does not serve API version 12.0: set SALESFORCE_API_VERSION to one of" in out
    monkeypatch.setenv("SALESFORCE_API_VERSION", "59.0")
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", "wrong")
    code, out = invoke("doctor", "--policy", str(policy))
    lines = [line for line in out.splitlines() if line.startswith("✗")]
    assert code == 1 and len(lines) == 1 and "login" in lines[0] and "SALESFORCE_CLIENT_ID" in lines[0]
    assert "wrong" not in out
