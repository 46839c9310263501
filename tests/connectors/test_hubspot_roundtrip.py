"""The demo org stored in the local HubSpot portal reads back as the same records, bar HubSpot's gaps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.local import LocalCRM
from demo.org import seed_demo
from domain.records import ObjectType, Owner, Record
from tests.connectors.hubspot_fixtures import SecondsClock, connect
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.records import hubspot_view, load
from tests.servers.hubspot.server import HubSpotServer, Limits

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[ObjectType, list[Record]]]:
    crm = LocalCRM(Path(tmp_path_factory.mktemp("demo")) / "demo.db", clock=lambda: NOW)
    seed_demo(crm, NOW)
    yield {obj: list(crm.iter_changed(obj, None)) for obj in ObjectType}
    crm.close()


def test_demo_org_reads_back_from_hubspot_as_it_went_in(demo: dict[ObjectType, list[Record]]) -> None:
    """Every account, contact, lead, deal, task, note and user of the demo org reads back unchanged."""
    portal = Portal()
    custom = load(portal, [r for records in demo.values() for r in records])
    clock = SecondsClock()
    with HubSpotServer(portal, Limits(burst=10_000), clock=clock) as server:
        connector = connect(server, clock, burst=10_000, custom_properties=custom)
        for obj, records in demo.items():
            expected = {r.id: hubspot_view(r) for r in records
                        if not (isinstance(r, Owner) and r.is_queue)}
            read = {r.id: r for r in connector.iter_changed(obj, None)}
            if obj is ObjectType.CONTACT:
                read = {i: r for i, r in read.items() if i in expected}  # leads are contacts too in HubSpot
            assert read == expected, obj
