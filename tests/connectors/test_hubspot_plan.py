"""The same org on the embedded CRM and behind the HubSpot connector gives the same plan.

"The same org" is the demo org as HubSpot can hold it (see ``hubspot_view``): no queues, no deal
partners, no lead-status dates, millisecond times.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.local import LocalCRM
from demo.org import seed_demo
from domain.records import ObjectType, Owner, Record
from tests.connectors.hubspot_fixtures import SecondsClock, connect
from tests.connectors.plan_support import NOW, comparable, plan, store
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.records import hubspot_view, load
from tests.servers.hubspot.server import HubSpotServer, Limits


@pytest.fixture
def org(tmp_path: Path) -> list[Record]:
    demo = LocalCRM(tmp_path / "demo.db", clock=lambda: NOW)
    seed_demo(demo, NOW)
    records = [hubspot_view(r) for obj in ObjectType for r in demo.iter_changed(obj, None)
               if not (isinstance(r, Owner) and r.is_queue)]
    demo.close()
    return records


@pytest.fixture
def local(tmp_path: Path, org: list[Record]) -> Iterator[LocalCRM]:
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    crm.insert_records(org)
    yield crm
    crm.close()


def test_the_demo_org_plans_the_same_on_hubspot_as_on_the_embedded_crm(
    local: LocalCRM, org: list[Record], tmp_path: Path
) -> None:
    """Every finding and planned action matches, record for record, between the two CRMs."""
    portal = Portal()
    custom = load(portal, org)
    clock = SecondsClock()
    with HubSpotServer(portal, Limits(burst=10_000), clock=clock) as server:
        hubspot = connect(server, clock, burst=10_000, custom_properties=custom)
        engines = store(tmp_path / "local.db"), store(tmp_path / "hubspot.db")
        on_local, on_hubspot = plan(local, "local", engines[0]), plan(hubspot, "hubspot", engines[1])
    for engine in engines:
        engine.dispose()
    assert on_local.actions and not on_hubspot.errors and not on_hubspot.stopped
    assert sorted((f.rule, f.record_id) for f in on_hubspot.findings) == sorted(
        (f.rule, f.record_id) for f in on_local.findings)
    assert comparable(on_hubspot) == comparable(on_local)
