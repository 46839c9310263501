import dataclasses
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from domain.records import Lead, ObjectType, Owner, Task, TaskPriority, TaskStatus, TaskType
from store import mirror
from store.aggregates import one_of
from store.db import make_engine, migrate
from store.mirror import MirrorOrg
from store.models import MirrorChangeRow, OpportunityRow
from tests.memory_org import InMemoryOrg
from tests.store.fake_reader import T0, FakeReader, opportunity


def _task(id: str, status: TaskStatus, kind: TaskType, what: str | None, done_days: int | None = None) -> Task:
    done = T0 + timedelta(days=done_days) if done_days is not None else None
    return Task(id, f"Task {id}", "u1", status, kind, TaskPriority.NORMAL, T0, T0, due_date=date(2026, 5, 3),
                completed_at=done, what_id=what)


TASKS = [
    _task("t1", TaskStatus.COMPLETED, TaskType.CALL, "a1", done_days=1),
    _task("t2", TaskStatus.COMPLETED, TaskType.CALL, "a1", done_days=5),
    _task("t3", TaskStatus.COMPLETED, TaskType.EMAIL, "a2", done_days=9),
    _task("t4", TaskStatus.OPEN, TaskType.CALL, "a2"),
    _task("t5", TaskStatus.OPEN, TaskType.TODO, "a3"),
    _task("t6", TaskStatus.OPEN, TaskType.CALL, None),
]


def test_mirror_aggregates_match_the_in_memory_org(engine: Engine) -> None:
    """Latest call, accounts with a scheduled call and open tasks read the same from the mirror as from memory."""
    reader = FakeReader()
    reader.owner_list = [Owner("u1", "Ann")]
    reader.put(*TASKS)
    mirror.sync(reader, engine, "local")
    expected = InMemoryOrg([*reader.owner_list, *TASKS])
    with Session(engine) as session:
        org = MirrorOrg(session, "local")
        calls, expected_calls = org.calls(), expected.calls()
        assert dict(calls.last_completed) == {"a1": T0 + timedelta(days=5)} == expected_calls.last_completed
        assert set(calls.scheduled) == {"a2"} == expected_calls.scheduled
        assert sorted(t.id for t in org.open_tasks(date(2026, 5, 4))) == ["t4", "t5", "t6"]
        assert not list(org.open_tasks(date(2026, 5, 3)))
        by_id = sorted(org.open_tasks(date(2026, 5, 4)), key=lambda t: t.id)
        assert by_id == sorted(expected.open_tasks(date(2026, 5, 4)), key=lambda t: t.id)


def test_unmoved_opportunities_are_open_and_last_changed_before_the_moment(engine: Engine) -> None:
    """Closed deals and deals moved since the cut-off are left out; a never-moved deal counts from creation."""
    deals = [
        opportunity(1, id="old", stage_changed_at=T0 - timedelta(days=90)),
        opportunity(2, id="recent", stage_changed_at=T0 - timedelta(days=5)),
        opportunity(3, id="closed", stage_changed_at=T0 - timedelta(days=90), is_closed=True),
        opportunity(4, id="never", stage_changed_at=None, created_at=T0 - timedelta(days=90)),
    ]
    reader = FakeReader()
    reader.put(*deals)
    mirror.sync(reader, engine, "local")
    cutoff = T0 - timedelta(days=60)
    with Session(engine) as session:
        found = sorted(o.id for o in MirrorOrg(session, "local").unmoved_opportunities(cutoff))
    assert found == ["never", "old"] == sorted(o.id for o in InMemoryOrg(deals).unmoved_opportunities(cutoff))


def test_last_activity_of_named_records_matches_the_full_aggregate(engine: Engine) -> None:
    """Asking for many records (what or who side, some without tasks) gives each its latest completed task."""
    tasks = [*TASKS, dataclasses.replace(TASKS[0], id="t7", what_id=None, who_id="l1")]
    reader = FakeReader()
    reader.put(*tasks)
    mirror.sync(reader, engine, "local")
    wanted = ["a1", "a2", "l1", "nobody", *[f"x{n}" for n in range(600)]]
    with Session(engine) as session:
        org = MirrorOrg(session, "local")
        found = dict(org.last_activity_of(wanted))
    assert found == {"a1": T0 + timedelta(days=5), "a2": T0 + timedelta(days=9), "l1": T0 + timedelta(days=1)}
    assert found == InMemoryOrg(tasks).last_activity_of(wanted)


def test_gate_suspects_keep_every_breach_and_drop_complete_deals(engine: Engine) -> None:
    """Blank columns, blank or absent custom fields, another probability and unknown stages come back; the rest not."""
    full = {"bant_budget": True}
    deals = [
        opportunity(1, id="complete", stage="Demo", probability=25.0, extra=full),
        opportunity(2, id="no-amount", stage="Demo", probability=25.0, amount=None, extra=full),
        opportunity(3, id="blank-bant", stage="Demo", probability=25.0, extra={"bant_budget": "  "}),
        opportunity(4, id="no-bant", stage="Demo", probability=25.0, extra={}),
        opportunity(5, id="odd-probability", stage="Demo", probability=60.0, extra=full),
        opportunity(6, id="unknown-stage", stage="Proposal", extra=full),
        opportunity(7, id="closed", stage="Demo", amount=None, is_closed=True, extra=full),
        opportunity(8, id="unchecked", stage="Discovery", probability=99.0, amount=None, extra={}),
    ]
    reader = FakeReader()
    reader.put(*deals)
    mirror.sync(reader, engine, "local")
    gates: dict[str, tuple[tuple[str, ...], float | None]] = {
        "Demo": (("amount", "close_date", "bant_budget"), 25.0), "Discovery": ((), None)}
    with Session(engine) as session:
        found = sorted(o.id for o in MirrorOrg(session, "local").gate_suspects(gates))
    assert found == ["blank-bant", "no-amount", "no-bant", "odd-probability", "unknown-stage"]


def test_sla_suspects_keep_every_record_the_rule_could_flag_and_drop_the_acted_on(engine: Engine) -> None:
    """Only deals acted on since creation by an active owner are left out; closed deals are never read."""
    later = T0 + timedelta(days=2)
    deals = [
        opportunity(1, id="untouched"),
        opportunity(2, id="moved", stage_changed_at=later),
        opportunity(3, id="called"),
        opportunity(4, id="called-before-creation"),
        opportunity(5, id="only-an-open-task"),
        opportunity(6, id="inactive-owner", owner_id="005GONE", stage_changed_at=later),
        opportunity(7, id="no-owner", owner_id=None, stage_changed_at=later),
        opportunity(8, id="clock-restarted", stage_changed_at=later),
        opportunity(9, id="won", stage="Closed Won"),
        opportunity(10, id="flagged-closed", is_closed=True),
        opportunity(11, id="no-stage", stage=None),
    ]
    tasks = [
        dataclasses.replace(TASKS[0], id="c1", what_id="called", completed_at=later),
        dataclasses.replace(TASKS[0], id="c2", what_id="called-before-creation", completed_at=T0 - timedelta(days=1)),
        dataclasses.replace(TASKS[3], id="c3", what_id="only-an-open-task"),
    ]
    reader = FakeReader()
    reader.put(*deals, *tasks)
    mirror.sync(reader, engine, "local")
    closed = {"Closed Won", "Closed Lost"}
    with Session(engine) as session:
        org = MirrorOrg(session, "local")
        found = [o.id for o in org.sla_suspects(ObjectType.OPPORTUNITY, closed, ["005A"], ["clock-restarted"])]
    assert sorted(found) == ["called-before-creation", "clock-restarted", "inactive-owner", "no-owner",
                             "no-stage", "only-an-open-task", "untouched"]


def test_sla_suspects_count_a_lead_touched_through_who_id_as_acted_on(engine: Engine) -> None:
    """A completed call logged against the lead (``who_id``) is activity, as is a status change."""
    leads = [
        Lead("called", "Ana", None, "005A", "Open", T0, T0),
        Lead("status-changed", "Bo", None, "005A", "Working", T0, T0, status_changed_at=T0 + timedelta(hours=1)),
        Lead("waiting", "Cy", None, "005A", "Open", T0, T0),
        Lead("converted", "Di", None, "005A", "Converted", T0, T0),
    ]
    call = dataclasses.replace(TASKS[0], id="c1", what_id=None, who_id="called", completed_at=T0 + timedelta(hours=2))
    reader = FakeReader()
    reader.put(*leads, call)
    mirror.sync(reader, engine, "local")
    with Session(engine) as session:
        found = [o.id for o in MirrorOrg(session, "local").sla_suspects(ObjectType.LEAD, {"Converted"}, ["005A"], [])]
    assert found == ["waiting"]


def test_records_by_id_find_the_named_records_across_lookup_chunks(engine: Engine) -> None:
    """More ids than one lookup binds: every live record named comes back once, unknown ids are ignored."""
    deals = [opportunity(n) for n in range(1, 1201)]
    reader = FakeReader()
    reader.put(*deals)
    mirror.sync(reader, engine, "local")
    wanted = [d.id for d in deals[::2]] + ["unknown"]
    with Session(engine) as session:
        found = sorted(r.id for r in MirrorOrg(session, "local").records_by_id(ObjectType.OPPORTUNITY, wanted))
    assert found == sorted(d.id for d in deals[::2])
    assert found == sorted(r.id for r in InMemoryOrg(deals).records_by_id(ObjectType.OPPORTUNITY, wanted))


def test_a_lookup_by_id_on_sqlite_searches_the_index_for_each_id(tmp_path: Path) -> None:
    """The ids go as one JSON array (``one_of``): SQLite's plan still finds each through the index, scanning nothing."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    migrate(engine)
    reader = FakeReader()
    reader.put(*(opportunity(n) for n in range(1, 50)))
    mirror.sync(reader, engine, "local")
    heard: list[tuple[str, Any]] = []
    listen = lambda _c, _cur, statement, parameters, _ctx, _many: heard.append((statement, parameters))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    with Session(engine) as session:
        stmt = select(OpportunityRow.id).where(OpportunityRow.connection == "local",
                                               one_of(session, OpportunityRow.id,
                                                      [opportunity(1).id, opportunity(2).id, "nobody"]))
        assert len(session.execute(stmt).all()) == 2
    event.remove(engine, "before_cursor_execute", listen)
    (statement, parameters), = heard
    with engine.connect() as connection:
        plan = [str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert any(step.startswith("SEARCH opportunities USING") and "id=?" in step for step in plan), plan
    assert not any(step.startswith("SCAN opportunities") for step in plan), plan
    engine.dispose()


def test_a_lookup_by_ids_finds_exactly_those_ids_whatever_they_hold(engine: Engine) -> None:
    """``one_of`` sends the ids as one text (split by the server on PostgreSQL): ids holding its separator, quotes,
    commas, braces or backslashes, an empty list and integer ids all find exactly their rows."""
    odd = ["o,1", 'o"2', "o\\3", "o{4}", "o\x1f5", "o 6", "ö7", "NULL"]
    reader = FakeReader()
    reader.put(*(dataclasses.replace(opportunity(n), id=i) for n, i in enumerate(odd, start=1)))
    mirror.sync(reader, engine, "local")
    reader.put(*(dataclasses.replace(opportunity(n), id=i, name="Renamed") for n, i in enumerate(odd, start=1)))
    mirror.sync(reader, engine, "local")
    with Session(engine) as session:
        def ids_among(wanted: list[str]) -> list[str]:
            return sorted(session.scalars(select(OpportunityRow.id).where(
                OpportunityRow.connection == "local", one_of(session, OpportunityRow.id, wanted))))

        assert ids_among([*odd, "nobody"]) == sorted(odd)
        assert ids_among([i for i in odd if "\x1f" not in i]) == sorted(i for i in odd if "\x1f" not in i)
        assert ids_among(["o", "1", "o,1,"]) == []
        assert ids_among([]) == []
        logged = sorted(session.scalars(select(MirrorChangeRow.id)))
        assert len(logged) > 2
        some = logged[::2]
        assert sorted(session.scalars(select(MirrorChangeRow.id).where(
            one_of(session, MirrorChangeRow.id, some)))) == some
        assert list(session.scalars(select(MirrorChangeRow.id).where(one_of(session, MirrorChangeRow.id, [])))) == []
