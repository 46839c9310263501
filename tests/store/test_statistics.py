"""Rules read a mirror the database has statistics for, even right after a first sync and with autovacuum off."""

from __future__ import annotations

from sqlalchemy import Engine, text

from domain.records import ObjectType
from store import mirror, statistics
from store.db import session_factory
from tests.store.fake_reader import FakeReader, task


def test_a_table_a_first_sync_filled_is_analyzed_before_rules_run(engine: Engine) -> None:
    """On PostgreSQL the filled tasks table, and only it, gets planner statistics; SQLite needs none."""
    reader = FakeReader()
    reader.put(*(task(n, minutes=n) for n in range(6000)))
    mirror.sync(reader, engine, "local", [ObjectType.TASK])
    analyzed = statistics.refresh(session_factory(engine))
    if engine.dialect.name != "postgresql":
        assert analyzed == []
        return
    assert analyzed == ["tasks"]
    with engine.connect() as connection:
        columns = connection.scalar(text("SELECT count(*) FROM pg_stats WHERE tablename = 'tasks'"))
    assert columns
