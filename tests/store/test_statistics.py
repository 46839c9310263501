"""Rules read a mirror the database has statistics for, even right after a first sync and with autovacuum off."""

from __future__ import annotations

from sqlalchemy import Engine, text

from domain.plan import Finding, RuleResult
from domain.records import ObjectType
from store import mirror, rule_state, statistics
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


def test_the_judgments_a_full_pass_stored_are_analyzed_before_the_next_run(engine: Engine) -> None:
    """On PostgreSQL a rule's freshly stored judgments get planner statistics before the next run reads them."""
    reason = "Task 'Follow up' was due 2026-11-12 and is 8 days overdue. " * 4
    result = RuleResult([Finding("overdue", ObjectType.TASK, f"tsk{n:05d}", "005A", reason) for n in range(3000)])
    with session_factory(engine).begin() as session:
        rule_state.replace(session, "local", "overdue", result, None)
    analyzed = statistics.refresh(session_factory(engine))
    if engine.dialect.name != "postgresql":
        assert analyzed == []
        return
    assert "rule_state" in analyzed
