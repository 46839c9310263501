"""Applying the demo org's plan through the HubSpot connector: everything lands once, a re-run adds nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from domain.connector import Connector
from domain.records import Lead, ObjectType, Opportunity, Record, Task
from jobs.aliases import with_aliases
from jobs.apply.revert import revert
from jobs.pipeline import run_job
from store.db import session_factory
from tests.connectors.hubspot_fixtures import SecondsClock, connect
from tests.connectors.test_hubspot_plan import NOW, org, store
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.records import load
from tests.servers.hubspot.server import HubSpotServer, Limits

UNRESTORABLE = ("is deactivated and the CRM refuses them", "it had no owner before the run")
"""Owners the CRM refuses: revert leaves those fields alone and lists them."""

__all__ = ["org"]


def test_applying_twice_changes_the_portal_once(org: list[Record], tmp_path: Path) -> None:
    """The first run applies every action, the second applies none, and no task exists twice."""
    portal = Portal()
    custom = load(portal, org)
    portal.custom["tasks"].add("warden_key")
    clock = SecondsClock()
    engine = store(tmp_path / "hubspot.db")
    with HubSpotServer(portal, Limits(burst=10_000), clock=clock) as server:
        hubspot = connect(server, clock, burst=10_000, custom_properties=custom)
        runs = [run_job("all", connector=hubspot, connection="hubspot", policy=load_policy(PACKAGED_POLICY),
                        sessions=session_factory(engine), now=NOW, apply=True) for _ in range(2)]
    engine.dispose()
    first, second = (Counter(a.status for a in run.actions) for run in runs)
    assert first["applied"] > 0 and set(first) == {"applied"}
    assert "applied" not in second and "failed" not in second
    keys = Counter(t.properties.get("warden_key") for t in portal.objects["tasks"].values())
    assert keys.pop(None) > 0 and set(keys.values()) == {1}
    closed = [d for d in portal.objects["deals"].values() if d.properties["dealstage"] == "closedlost"]
    assert len(closed) > len([r for r in org if getattr(r, "stage", None) == "Closed Lost"])


def test_revert_takes_an_applied_run_back_in_hubspot(org: list[Record], tmp_path: Path) -> None:
    """`warden revert` of the demo's `run all --apply`: every field back, every created task archived, once."""
    portal = Portal()
    custom = load(portal, org)
    portal.custom["tasks"].add("warden_key")
    clock = SecondsClock()
    engine = store(tmp_path / "hubspot.db")
    sessions = session_factory(engine)
    policy = load_policy(PACKAGED_POLICY)
    with HubSpotServer(portal, Limits(burst=10_000), clock=clock) as server:
        hubspot = with_aliases(connect(server, clock, burst=10_000, custom_properties=custom), policy)
        before = state(hubspot)
        run = run_job("all", connector=hubspot, connection="hubspot", policy=policy, sessions=sessions, now=NOW,
                      apply=True)
        assert state(hubspot) != before
        done = revert(run.run_id, hubspot, sessions, NOW, apply=True)
        after = state(hubspot)
        again = revert(run.run_id, hubspot, sessions, NOW, apply=True)
    engine.dispose()
    assert done.outcome is not None and done.outcome.failed == 0 and done.outcome.applied > 0
    left = {s.record_id for s in done.plan.left}
    assert all(any(why in s.reason for why in UNRESTORABLE) for s in done.plan.left), done.plan.left
    assert {k: v for k, v in after.items() if k[1] not in left} == {k: v for k, v in before.items() if k[1] not in left}
    assert again.plan.actions == [] and len(again.plan.reverted) == done.outcome.applied


def state(connector: Connector) -> dict[tuple[str, str], tuple[object, ...]]:
    """Owners, stages and statuses of deals and leads, and the open tasks, as a user sees them."""
    seen: dict[tuple[str, str], tuple[object, ...]] = {}
    for record in (r for obj in (ObjectType.OPPORTUNITY, ObjectType.LEAD, ObjectType.TASK)
                   for r in connector.iter_changed(obj, None) if not r.deleted):
        if isinstance(record, Opportunity):
            seen[("deal", record.id)] = (record.owner_id, record.stage, record.is_closed, record.partner_account_id)
        elif isinstance(record, Lead):
            seen[("lead", record.id)] = (record.owner_id, record.status)
        elif isinstance(record, Task):
            seen[("task", record.id)] = (record.subject, record.owner_id, record.status)
    return seen
