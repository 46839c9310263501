"""Rules read a mirror the database has statistics for, even right after a first sync and with autovacuum off."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from domain.plan import Finding, RuleResult
from domain.records import ObjectType
from store import mirror, rule_state, statistics
from store.db import session_factory
from store.ledger import Ledger
from store.models import OPEN_ROWS
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


def test_the_rows_a_first_run_wrote_to_the_ledger_are_found_by_record_in_the_next_run(engine: Engine) -> None:
    """On PostgreSQL a run that reads back the open rows of the records its rules judged differently finds them by
    record, right after a first run filled the ledger and before autovacuum came to it: the first run's write
    leaves the statistics that show the records are many (without them, a rule's open rows look like a handful,
    and each lookup read them all)."""
    ledger = Ledger(session_factory(engine))
    run_id = ledger.start_run("overdue", "local", dry_run=True, now=datetime(2026, 11, 20, tzinfo=UTC))
    ledger.record_findings(run_id, (Finding("overdue", ObjectType.TASK, f"tsk{n:06d}", "005A", "8 days overdue")
                                    for n in range(20_000)), ["overdue"])
    if engine.dialect.name != "postgresql":
        return
    ids = [f"tsk{n:06d}" for n in range(0, 20_000, 200)]
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            f"EXPLAIN SELECT fingerprint, id FROM findings WHERE connection = %s AND rule = %s AND record_id = ANY(%s) "
            f"AND {OPEN_ROWS}", ("local", "overdue", ids)).scalars().all()
    assert any("Index Cond" in line and "record_id" in line for line in plan), "\n".join(plan)


def test_the_sync_after_a_first_sync_finds_what_changed_by_id(engine: Engine) -> None:
    """On PostgreSQL the sync after a first sync analyzes the table before it looks up the records it read (what a
    changed task was about): without statistics each batch of ids was found by filtering every task of the
    connection (1.2 s a batch at ten million records)."""
    reader = FakeReader()
    reader.put(*(task(n, minutes=n, what_id=f"006{n:012d}") for n in range(6000)))
    mirror.sync(reader, engine, "local", [ObjectType.TASK])
    reader.put(task(7, minutes=9000, what_id="006changed"))
    mirror.sync(reader, engine, "local", [ObjectType.TASK])
    if engine.dialect.name != "postgresql":
        return
    ids = [task(n).id for n in range(0, 6000, 60)]
    with engine.connect() as connection:
        analyzed = connection.scalar(text("SELECT count(*) FROM pg_stats WHERE tablename = 'tasks'"))
        plan = connection.exec_driver_sql(
            "EXPLAIN SELECT what_id, who_id, task_type FROM tasks WHERE connection = %s AND id = ANY(%s)",
            ("local", ids)).scalars().all()
    assert analyzed
    estimated = int(re.search(r"rows=(\d+)", plan[0])[1])  # type: ignore[index]
    assert estimated <= 2 * len(ids), "\n".join(plan)  # the planner knows the ids are few among many tasks


def test_the_rules_judgments_are_analyzed_from_a_small_sample_that_still_plans_lookups_by_record(
    engine: Engine,
) -> None:
    """On PostgreSQL a scheduled run may analyze ``rule_state`` (its rewrites pass the threshold every few runs):
    it samples at most 3,000 rows (the default samples 30,000, reading most of the table), and the statistics
    still show each rule's share, so the judgments that changed are deleted by record through the key."""
    if engine.dialect.name != "postgresql":
        return
    with session_factory(engine).begin() as session:
        for rule, count in (("overdue", 30_000), ("stale", 9_000), ("gates", 1_000)):
            result = RuleResult([Finding(rule, ObjectType.TASK, f"tsk{n:06d}", "005A", "8 days overdue")
                                 for n in range(count)])
            rule_state.replace(session, "sampled", rule, result, None)
    notices: list[str] = []
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.add_notice_handler(lambda notice: notices.append(notice.message_primary))  # type: ignore[union-attr]
        connection.exec_driver_sql("ANALYZE VERBOSE rule_state")
        plan = connection.exec_driver_sql(
            "EXPLAIN DELETE FROM rule_state WHERE connection = %s AND rule = %s AND record_id = ANY(%s)",
            ("sampled", "overdue", [f"tsk{n:06d}" for n in range(0, 30_000, 300)])).scalars().all()
        estimated = connection.exec_driver_sql(
            "EXPLAIN SELECT record_id FROM rule_state WHERE connection = %s AND rule = %s",
            ("sampled", "stale")).scalars().first()
        connection.rollback()
    (sampled,) = [int(m[1]) for n in notices if (m := re.search(r"(\d+) rows in sample", n))]
    assert sampled <= 3000
    assert any("pk_rule_state" in line for line in plan), "\n".join(plan)
    rows = int(re.search(r"rows=(\d+)", estimated or "")[1])  # type: ignore[index]
    assert 9_000 * 0.8 <= rows <= 9_000 * 1.2, estimated
