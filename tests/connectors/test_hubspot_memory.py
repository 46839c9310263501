"""What the HubSpot connector keeps between syncs: an unchanged portal costs one call per object type."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from domain.records import ObjectType, Opportunity, Owner
from store import mirror
from store.db import make_engine, migrate, session_factory
from tests.connectors.hubspot_fixtures import connect, hubspot
from tests.servers.hubspot.seed import START_MS, seed
from tests.servers.hubspot.server import HubSpotServer


class PortalTime:
    """One clock for the portal's stamps and the connector's own sense of now."""

    def __init__(self) -> None:
        self.ms = START_MS

    def __call__(self) -> int:
        return self.ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, UTC)

    def advance(self, minutes: float) -> None:
        self.ms += int(minutes * 60_000)


def synced(engine: Engine, server: HubSpotServer, clock: Any, time: PortalTime) -> int:
    """Sync the mirror through a fresh connector (as each run makes one); returns the requests it sent."""
    before = server.requests()
    mirror.sync(connect(server, clock, now=time.now), engine, "hs")
    return server.requests() - before


def mirrored(engine: Engine, obj: ObjectType) -> dict[str, Any]:
    with session_factory(engine)() as session:
        return {r.id: r for r in mirror.iter_records(session, "hs", obj)}


def test_a_sync_over_an_unchanged_portal_costs_at_most_one_call_per_object_type(tmp_path: Path) -> None:
    """Owners, pipelines and archived lists are not re-read when nothing moved: the searches are all it costs."""
    time = PortalTime()
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    migrate(engine)
    with hubspot(clock_ms=time) as (server, clock):
        seed(server.portal, 5, contacts_per=1, notes_per=1)
        synced(engine, server, clock, time)
        time.advance(5)
        synced(engine, server, clock, time)  # the first incremental sync sweeps the archived lists
        time.advance(5)
        assert synced(engine, server, clock, time) <= len(ObjectType)
    engine.dispose()


def test_a_deleted_deal_leaves_the_mirror_at_the_next_sweep_of_archived_records(tmp_path: Path) -> None:
    """Archived lists are read every HUBSPOT_ARCHIVE_SWEEP_MINUTES, from the previous sweep on: nothing is missed."""
    time = PortalTime()
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    migrate(engine)
    with hubspot(clock_ms=time) as (server, clock):
        seeded = seed(server.portal, 3, tasks_per=0)
        synced(engine, server, clock, time)
        time.advance(1)
        synced(engine, server, clock, time)
        time.advance(1)
        server.portal.archive("deals", seeded.deals[0])
        time.advance(10)
        synced(engine, server, clock, time)
        assert seeded.deals[0] in mirrored(engine, ObjectType.OPPORTUNITY)
        time.advance(60)
        synced(engine, server, clock, time)
        assert seeded.deals[0] not in mirrored(engine, ObjectType.OPPORTUNITY)
    engine.dispose()


def test_an_owner_who_left_is_read_as_inactive_and_a_new_stage_reads_the_pipelines_again(tmp_path: Path) -> None:
    """Someone gone from the active owners brings the archived list back; a deal in an unknown stage, the pipelines."""
    time = PortalTime()
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    migrate(engine)
    with hubspot(clock_ms=time) as (server, clock):
        seeded = seed(server.portal, 2, tasks_per=0)
        synced(engine, server, clock, time)
        leaving = server.portal.owners[0]
        leaving["archived"] = True
        pipeline = server.portal.pipelines[0]
        pipeline["stages"].append({"id": "negotiation", "label": "Negotiation", "displayOrder": 9,
                                   "metadata": {"isClosed": "false", "probability": "0.8"}})
        time.advance(1)
        server.portal.update("deals", seeded.deals[0], {"dealstage": "negotiation"})
        time.advance(1)
        pipelines_before = server.requests("GET /crm/v3/pipelines/deals")
        synced(engine, server, clock, time)
        assert server.requests("GET /crm/v3/pipelines/deals") == pipelines_before + 1
        owners = mirrored(engine, ObjectType.OWNER)
        assert isinstance(owners[str(leaving["id"])], Owner) and owners[str(leaving["id"])].active is False
        deal = mirrored(engine, ObjectType.OPPORTUNITY)[seeded.deals[0]]
        assert isinstance(deal, Opportunity) and deal.stage == "Negotiation"
    engine.dispose()
