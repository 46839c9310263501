"""A new user on a portal that is not the demo: policy init, doctor, doctor --fix, run all --apply (HubSpot)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from jobs.cli import app
from tests.servers.hubspot.fresh import NOW, Fresh, fresh_portal
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.server import HubSpotServer, Limits


@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HubSpotServer, Fresh]]:
    fresh = Portal()
    seeded = fresh_portal(fresh)
    with HubSpotServer(fresh, Limits(burst=100_000, search_per_s=100_000)) as server:
        monkeypatch.chdir(tmp_path)
        for name, value in {"WARDEN_DATABASE_URL": f"sqlite:///{tmp_path / 'warden.db'}", "WARDEN_CRM": "hubspot",
                            "HUBSPOT_ACCESS_TOKEN": "test-token", "HUBSPOT_API_BASE": server.url,
                            "HUBSPOT_BURST_LIMIT": "100000", "COLUMNS": "200"}.items():
            monkeypatch.setenv(name, value)
        yield server, seeded
    structlog.reset_defaults()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_init_doctor_fix_and_run_find_and_fix_violations_without_editing_the_policy(
    portal: tuple[HubSpotServer, Fresh], tmp_path: Path
) -> None:
    """HubSpot's default stages and a second pipeline are drafted, customers come from the lifecycle stage, and
    the run applies every action it plans once the key property exists."""
    server, seeded = portal
    policy = tmp_path / "policy.yaml"
    code, _ = invoke("policy", "init", "--out", str(policy))
    assert code == 0 and invoke("policy", "check", str(policy))[0] == 0
    drafted = policy.read_bytes()
    assert b'"Decision Maker Bought-In"' in drafted and b'name: "Renewals"' in drafted
    assert b"source_field: lifecycle_stage" in drafted and b'"Inside Sales"' in drafted

    code, out = invoke("doctor", "--policy", str(policy))
    assert code == 1 and "✗ HubSpot tasks have no property 'warden_key'" in out and out.count("✗") == 1, out

    code, out = invoke("doctor", "--policy", str(policy), "--fix")
    assert code == 0 and "fixed: created the HubSpot task property 'warden_key'" in out, out

    code, out = invoke("run", "all", "--policy", str(policy), "--now", NOW.isoformat(), "--apply", "--json")
    assert code == 0, out
    run = json.loads(out)
    statuses = Counter(a["status"] for a in run["actions"])
    assert statuses["applied"] > 0 and set(statuses) == {"applied"}, run["actions"]
    rules = {f["rule"] for f in run["findings"]}
    assert rules >= {"sla-new-opportunity", "sla-first-contact", "stale-deals", "customer-calls", "overdue-tasks",
                     "opportunity-gates"}
    assert not [s for s in run["skipped"] if "not in the policy" in s["reason"]]
    customers = {f["record_id"] for f in run["findings"] if f["rule"] == "customer-calls"}
    assert customers == {seeded["birch"]}  # Acme had a call 20 days ago
    deals = server.portal.objects["deals"]
    assert deals[seeded["stale_deal"]].properties["dealstage"] == "closedlost"
    assert deals[seeded["renewal"]].properties["dealstage"] == "81234570"  # the Renewals pipeline's own lost stage
    assert deals[seeded["renewal"]].properties["pipeline"] == "7654321"
    keys = [t.properties.get("warden_key") for t in server.portal.objects["tasks"].values()]
    assert len([k for k in keys if k]) == len({k for k in keys if k}) > 0
    assert policy.read_bytes() == drafted

    code, out = invoke("run", "all", "--policy", str(policy), "--now", NOW.isoformat(), "--apply", "--json")
    again = Counter(a["status"] for a in json.loads(out)["actions"])
    assert code == 0 and "applied" not in again and "failed" not in again


def test_doctor_lists_every_planted_misconfiguration_with_its_fix(
    portal: tuple[HubSpotServer, Fresh], tmp_path: Path
) -> None:
    """A portal that drifted from its policy: each problem is one line naming it and the fix, and doctor exits 1."""
    server, _ = portal
    policy = tmp_path / "policy.yaml"
    assert invoke("policy", "init", "--out", str(policy))[0] == 0
    hub = server.portal
    hub.pipelines[0]["stages"][4]["label"] = "Contract Signed"
    hub.pipelines[1]["label"] = "Renewal"
    next(o for o in hub.owners if o["email"] == "ben@portal.example")["archived"] = True
    hub.options[("contacts", "hs_lead_status")] = tuple(
        o for o in hub.options[("contacts", "hs_lead_status")] if o[0] != "CONNECTED")
    hub.options[("companies", "lifecyclestage")] = (("lead", "Lead"), ("opportunity", "Opportunity"),
                                                    ("client", "Client"))
    server.state.scopes = {f"crm.{kind}.{name}.{verb}" for kind in ("objects", "schemas")
                           for name in ("companies", "contacts", "deals", "tasks") for verb in ("read", "write")}
    server.state.scopes -= {"crm.objects.deals.write"}

    code, out = invoke("doctor", "--policy", str(policy))
    problems = [line for line in out.splitlines() if line.startswith("✗")]
    expected = [
        "may not edit deals: grant the app the scope crm.objects.deals.write",
        "HubSpot tasks have no property 'warden_key'", "Settings > Properties > Task properties",
        "stages.opportunity names 'Contract Sent', which is not in the hubspot org's pipeline 'Sales Pipeline': did "
        "you mean 'Contract Signed'?",
        "pipeline 'Sales Pipeline' has 'Contract Signed', which stages.opportunity does not name",
        "stages.pipelines names 'Renewals', which is not a pipeline of this hubspot org: did you mean 'Renewal'?",
        "stages.lead names 'CONNECTED', which is not in the hubspot org's lead statuses",
        "teams[Inside Sales].members names 'ben@portal.example', who is deactivated",
        "account_types.values maps 'customer', which no account can have in the hubspot org",
        "no hubspot account type value maps to 'customer'",
    ]
    assert code == 1
    for wanted in expected:
        assert any(wanted in line for line in problems), (wanted, problems)
    assert not any("ana@portal.example" in line for line in problems)  # her address is right
