from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from domain.plan import Action, ActionKind
from domain.records import Account, ObjectType, Opportunity
from store import aggregates
from store.db import make_engine, migrate, session_factory
from store.ingest import MirrorWriter
from store.ledger import Ledger
from store.mirror import iter_records
from store.models import Base, ClaimRow
from tests.store.schema import alembic, schema_diff


def test_migrate_on_an_empty_database_builds_exactly_the_models(database_url: str) -> None:
    """Running the migrations yields the tables, columns and indexes the models declare, nothing else."""
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)
    diff = schema_diff(engine)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_claims_applied_before_keys_named_their_connection_still_hold_for_it(tmp_path: Path) -> None:
    """Upgrading a ledger whose claim keys lack the connection: an applied key stays applied there, only there."""
    engine = make_engine(f"sqlite:///{tmp_path / 'warden.db'}")
    with alembic(engine) as (config, _):
        command.upgrade(config, "0004")
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    ledger = Ledger(session_factory(engine), clock=lambda: now)
    action = Action(ActionKind.REASSIGN, ObjectType.LEAD, "00Q1", "sla:00Q1:1", "untouched", "sla", {"owner_id": "005"})
    run_id = ledger.start_run("sla", "prod", dry_run=False, now=now)
    (applied,) = ledger.record_actions(run_id, [action])
    with session_factory(engine).begin() as session:  # the claim as the 0004 code wrote it
        session.add(ClaimRow(key=action.key, action_id=applied, status="applied", run_id=run_id, updated_at=now))
    migrate(engine)
    prod, sandbox = (ledger.record_actions(ledger.start_run("sla", c, dry_run=False, now=now), [action])[0]
                     for c in ("prod", "sandbox"))
    assert ledger.claim(prod).reason == f"already applied in run {run_id}"
    assert ledger.claim(sandbox).proceed
    engine.dispose()


def test_a_mirror_from_before_the_key_index_keeps_its_records_and_their_key(database_url: str) -> None:
    """Upgrading a mirror whose tables had a primary key: every record stays, still one row per record."""
    engine = make_engine(database_url)
    with alembic(engine) as (config, connection):
        command.upgrade(config, "0012")
        connection.execute(text("INSERT INTO accounts (connection, id, name, created_at, updated_at, extra) VALUES ("
                                "'prod', '001A', 'Acme Products', '2026-05-01 09:00', '2026-05-01 09:00', '{}')"))
    migrate(engine)
    assert schema_diff(engine) == []
    acme = Account("001A", "Acme Products, Inc.", None, datetime(2026, 5, 1, 9, tzinfo=UTC),
                   datetime(2026, 5, 2, 9, tzinfo=UTC))
    sessions = session_factory(engine)
    with sessions.begin() as session:
        MirrorWriter(session, ObjectType.ACCOUNT, "prod").upsert(session, [acme])
    with sessions() as session:
        assert [a.name for a in iter_records(session, "prod", ObjectType.ACCOUNT)] == ["Acme Products, Inc."]
    engine.dispose()


def test_a_mirror_from_before_the_deal_clock_indexes_still_finds_its_deals_by_creation_and_partner(
        database_url: str) -> None:
    """Upgrading past 0013: a deal whose stage never changed turns stale by creation, a partner's deals are found."""
    engine = make_engine(database_url)
    with alembic(engine) as (config, _):
        command.upgrade(config, "0013")
        command.downgrade(config, "0013")  # the module's database may be at head already
    sessions = session_factory(engine)
    created = datetime(2026, 5, 1, 9, tzinfo=UTC)
    deal = Opportunity("006A", "Acme renewal", "001A", "005A", "Prospecting", created, created,
                       partner_account_id="001P")
    with sessions.begin() as session:
        MirrorWriter(session, ObjectType.OPPORTUNITY, "prod").upsert(session, [deal])
    migrate(engine)
    assert schema_diff(engine) == []
    with sessions() as session:
        turned = aggregates.opportunities_unmoved_between(session, "prod", datetime(2026, 4, 30, tzinfo=UTC), created)
        assert [d.id for d in turned] == ["006A"]
        assert aggregates.opportunities_with_partner(session, "prod", ["001P"]) == {"006A"}
    engine.dispose()
