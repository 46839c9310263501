from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import delete, inspect, text

from domain.plan import Action, ActionKind, Finding
from domain.records import Account, ObjectType, Opportunity
from store import aggregates
from store.db import make_engine, migrate, session_factory
from store.ingest import MirrorWriter
from store.ledger import Ledger
from store.mirror import iter_records
from store.models import Base, RunRow
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
    with alembic(engine) as (config, connection):
        command.upgrade(config, "0004")
        run_id = "run-0004"  # a run, its action and the action's claim as the 0004 code wrote them
        connection.execute(text("INSERT INTO runs (id, job, connection, dry_run, now, started_at, status, summary) "
                                f"VALUES ('{run_id}', 'sla', 'prod', false, '2026-11-20 15:00', '2026-11-20 15:00', "
                                "'finished', '{}')"))
        connection.execute(text("INSERT INTO actions (id, run_id, key, kind, object, record_id, rule, reason, payload, "
                                f"status, created_at, updated_at) VALUES (1, '{run_id}', 'sla:00Q1:1', 'reassign', "
                                "'lead', '00Q1', 'sla', 'untouched', '{}', 'applied', '2026-11-20 15:00', "
                                "'2026-11-20 15:00')"))
        connection.execute(text("INSERT INTO idempotency (key, action_id, status, run_id, updated_at) "
                                f"VALUES ('sla:00Q1:1', 1, 'applied', '{run_id}', '2026-11-20 15:00')"))
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    ledger = Ledger(session_factory(engine), clock=lambda: now)
    action = Action(ActionKind.REASSIGN, ObjectType.LEAD, "00Q1", "sla:00Q1:1", "untouched", "sla", {"owner_id": "005"})
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


def test_findings_recorded_run_by_run_stay_each_runs_own_after_the_upgrade(database_url: str) -> None:
    """Upgrading past 0014: each earlier run still reads back its own findings, and the next run records its own."""
    engine = make_engine(database_url)
    with alembic(engine) as (config, connection):
        command.upgrade(config, "0014")
        command.downgrade(config, "0014")
        for n, (run_id, record_ids) in enumerate((("run-a", ["006A", "006B"]), ("run-b", ["006B"]))):
            connection.execute(text(
                "INSERT INTO runs (id, job, connection, dry_run, now, started_at, status, summary) VALUES "
                f"('{run_id}', 'all', 'prod', true, '2026-11-2{n} 15:00', '2026-11-2{n} 15:00', 'finished', '{{}}')"))
            for record_id in record_ids:
                connection.execute(text(
                    "INSERT INTO findings (run_id, rule, object, record_id, owner_id, reason, evidence) VALUES "
                    f"('{run_id}', 'stale-deals', 'opportunity', '{record_id}', '005A', 'no activity', '{{}}')"))
    migrate(engine)
    assert schema_diff(engine) == []
    ledger = Ledger(session_factory(engine))
    stale = [Finding("stale-deals", ObjectType.OPPORTUNITY, i, "005A", "no activity", {}) for i in ("006A", "006B")]
    run_c = ledger.start_run("all", "prod", dry_run=True, now=datetime(2026, 11, 22, 15, tzinfo=UTC))
    ledger.record_findings(run_c, stale[:1])
    assert [ledger.run_report(r).findings for r in ("run-a", "run-b", run_c)] == [stale, stale[1:], stale[:1]]
    with session_factory(engine).begin() as session:
        session.execute(delete(RunRow).where(RunRow.id.in_(["run-a", "run-b", run_c])))
    engine.dispose()
