"""Applying the demo org's plan through the HubSpot connector: everything lands once, a re-run adds nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from domain.records import Record
from jobs.pipeline import run_job
from store.db import session_factory
from tests.connectors.hubspot_fixtures import SecondsClock, connect
from tests.connectors.test_hubspot_plan import NOW, org, store
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.records import load
from tests.servers.hubspot.server import HubSpotServer, Limits

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
