"""Plan -> apply -> undo through the Salesforce and HubSpot connectors against their local servers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from connectors.salesforce import SalesforceConnector
from dedupe.plan import ClusterPlan, build_plan, facts_from_org
from domain.connector import Connector
from domain.plan import ActionStatus
from jobs.apply.merges import apply_plan
from jobs.apply.undo import undo
from store import mirror
from tests.connectors.hubspot_fixtures import connect, hubspot
from tests.connectors.sf_fixtures import Seeded, connector, fake, seeded, sf_server, sleeps
from tests.connectors.test_hubspot_merge import _child_picture, _cluster, _picture
from tests.connectors.test_salesforce_merge import org_state
from tests.dedupe.merge_support import NOW, ledger_sessions
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["connector", "fake", "seeded", "sf_server", "sleeps"]
RENAME = Policy.model_validate({"dedupe": {"survivor": ["most_open_opportunities", "oldest"], "rename": {}}})


def approved_plan(crm: Connector, sessions: sessionmaker[Session], connection: str) -> list[ClusterPlan]:
    """What the admin gets after syncing, planning and approving every cluster."""
    mirror.sync(crm, sessions, connection)
    with sessions() as session:
        plan = build_plan(facts_from_org(mirror.MirrorOrg(session, connection)), RENAME)
    return [replace(c, approved=True) for c in plan.clusters]


def test_salesforce_plan_apply_undo(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded, tmp_path: Path
) -> None:
    """The Acme accounts merge into the one with the open deal, which takes the website; undo restores all."""
    sessions = ledger_sessions(tmp_path / "warden.db")
    before = org_state(fake)
    (cluster,) = approved_plan(connector, sessions, "salesforce")
    assert cluster.master_id == seeded["acme_inc"] and cluster.fields["website"] == "acme.example"
    run = apply_plan([cluster], connector, sessions, "salesforce", NOW)
    assert [o.status for o in run.outcomes] == [ActionStatus.APPLIED]
    assert fake.org.tables["Account"][seeded["acme"]]["IsDeleted"]
    undo(run.run_id, connector, sessions, NOW, apply=True)
    assert org_state(fake) == before


def test_hubspot_plan_apply_undo_and_a_refusing_portal(tmp_path: Path) -> None:
    """Companies merge pairwise and come back on undo; with Salesforce sync on the cluster fails alone."""
    for sync_on in (False, True):
        sessions = ledger_sessions(tmp_path / f"warden-{sync_on}.db")
        with hubspot(salesforce_sync_on=sync_on) as (server, clock):
            for company in _cluster(server.portal).companies[:3]:
                server.portal.update("companies", company, {"domain": "acmeproducts.example"})
            before, children_before = _picture(server.portal), _child_picture(server.portal)
            crm = connect(server, clock)
            clusters = approved_plan(crm, sessions, "hubspot")
            run = apply_plan(clusters, crm, sessions, "hubspot", NOW)
            if sync_on:
                assert [o.status for o in run.outcomes] == [ActionStatus.FAILED]
                assert "Salesforce" in (run.outcomes[0].error or "")
            else:
                assert [o.status for o in run.outcomes] == [ActionStatus.APPLIED]
                assert _picture(server.portal) != before
                undo(run.run_id, crm, sessions, NOW, apply=True)
            assert _picture(server.portal) == before
            assert _child_picture(server.portal) == children_before
