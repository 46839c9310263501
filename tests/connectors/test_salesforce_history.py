"""Salesforce's OpportunityHistory: each stage and forecast change, read incrementally into the mirror."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from connectors.salesforce import SalesforceConnector
from domain.records import ObjectType
from store import mirror
from store.db import session_factory
from store.stage_history import histories
from tests.connectors.sf_fixtures import Seeded, connector, fake, seeded, sf_server, sleeps
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["connector", "fake", "seeded", "sf_server", "sleeps"]


def test_history_rows_in_order_with_their_forecast(
    fake: FakeSalesforce, seeded: Seeded, connector: SalesforceConnector
) -> None:
    """Creation, a demo and a bigger amount: three rows, oldest first, each with the forecast it carried."""
    fake.org.touch("Opportunity", seeded["opp"], StageName="Demo", CloseDate="2026-07-31")
    fake.org.touch("Opportunity", seeded["opp"], Amount=15000.0)
    changes = list(connector.iter_stage_history(ObjectType.OPPORTUNITY, None))

    assert [(c.record_id, c.stage, c.amount, c.close_date) for c in changes] == [
        (seeded["opp"], "Prospecting", 12000.0, date(2026, 6, 30)),
        (seeded["opp"], "Demo", 12000.0, date(2026, 7, 31)),
        (seeded["opp"], "Demo", 15000.0, date(2026, 7, 31)),
    ]
    assert all(c.from_crm for c in changes)
    since = changes[2].entered_at
    later = list(connector.iter_stage_history(ObjectType.OPPORTUNITY, since))
    assert later[-1] == changes[2]  # SOQL compares to the second: the rows of that second come again, no older
    assert all(c.entered_at >= since.replace(microsecond=0) for c in later)
    assert list(connector.iter_stage_history(ObjectType.LEAD, None)) == []


def test_the_mirror_keeps_salesforces_history(
    fake: FakeSalesforce, seeded: Seeded, connector: SalesforceConnector, engine: Engine
) -> None:
    """A sync reads OpportunityHistory once and the next only what is new; the report sees every stage."""
    mirror.sync(connector, engine, "sf")
    fake.org.touch("Opportunity", seeded["opp"], StageName="Closed Won")
    before = fake.api_used
    mirror.sync(connector, engine, "sf")
    with session_factory(engine)() as session:
        stages = [c.stage for c in histories(session, "sf", ObjectType.OPPORTUNITY)[seeded["opp"]]]

    assert stages == ["Prospecting", "Closed Won"]
    assert fake.api_used - before <= 10
