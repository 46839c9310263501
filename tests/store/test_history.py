import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from config.policy import CalendarPolicy
from domain.plan import Action, ActionKind, RuleResult
from domain.records import ObjectType
from enforcement.calendar import BusinessCalendar
from store.db import make_engine, migrate, session_factory
from store.findings import assigned_since, reminders_applied
from store.history import load_history
from store.ledger import Ledger
from store.merge_history import UNDO_RULE, applied_merges, taken_apart, times_undone
from store.report_queries import sla_reassignments

T0 = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)  # 10:00 in New York
CALENDAR = BusinessCalendar(CalendarPolicy(time_zone="America/New_York"))


def reassign(record_id: str, owner_id: str = "005B", rule: str = "opp-sla", key: str = "") -> Action:
    return Action(ActionKind.REASSIGN, ObjectType.OPPORTUNITY, record_id, key or f"{rule}:{record_id}",
                  "untouched", rule, {"owner_id": owner_id})


def applied(engine: Engine, at: datetime, *actions: Action, connection: str = "local", ok: bool = True) -> None:
    ledger = Ledger(session_factory(engine), clock=lambda: at)
    run_id = ledger.start_run("sla", connection, dry_run=False, now=at)
    for action_id in ledger.record_actions(run_id, actions):
        if ok:
            ledger.mark_applied(action_id)
        else:
            ledger.mark_failed(action_id, "refused")


def test_history_counts_only_applied_reassignments_of_this_connection(engine: Engine) -> None:
    """Escalation sees each record's applied reassignments per rule and when the last one happened."""
    task = Action(ActionKind.CREATE_TASK, ObjectType.OPPORTUNITY, "006A", "t", "r", "opp-sla", {})
    applied(engine, T0 - timedelta(days=3), reassign("006A", key="k1"), task, reassign("006B"))
    applied(engine, T0 - timedelta(days=1), reassign("006A", key="k2"), reassign("006A", rule="lead-sla"))
    applied(engine, T0, reassign("006C"), ok=False)
    applied(engine, T0, reassign("006D"), connection="hubspot")
    history = load_history(session_factory(engine), "local", CALENDAR.start_of_day(T0))
    assert history.reassignments == {("opp-sla", "006A"): 2, ("opp-sla", "006B"): 1, ("lead-sla", "006A"): 1}
    assert history.last_reassigned[("opp-sla", "006A")] == T0 - timedelta(days=1)


def test_assigned_today_counts_new_owners_since_the_company_midnight(engine: Engine) -> None:
    """Daily caps count what each owner received since midnight in the company's zone, not in UTC."""
    applied(engine, datetime(2026, 5, 4, 3, 0, tzinfo=UTC), reassign("006A", "005B"))  # 23:00 the day before
    applied(engine, datetime(2026, 5, 4, 5, 0, tzinfo=UTC), reassign("006B", "005B"), reassign("006C", "005C"))
    applied(engine, T0, reassign("006D", "005B"))
    history = load_history(session_factory(engine), "local", CALENDAR.start_of_day(T0))
    assert history.assigned_today == {"005B": 2, "005C": 1}


def test_assigned_recently_counts_new_owners_within_the_window(engine: Engine) -> None:
    """The round-robin load counts what each owner received since the window's start, across runs."""
    applied(engine, T0 - timedelta(days=8), reassign("006A", "005B"))
    applied(engine, T0 - timedelta(days=6), reassign("006B", "005B"), reassign("006C", "005C"))
    applied(engine, T0 - timedelta(hours=1), reassign("006D", "005C"))
    applied(engine, T0, reassign("006E", "005D"), ok=False)
    history = load_history(session_factory(engine), "local", CALENDAR.start_of_day(T0), T0 - timedelta(days=7))
    assert history.assigned_recently == {"005B": 1, "005C": 2}
    assert history.assigned_today == {"005C": 1}


def test_a_run_as_of_another_moment_dates_its_assignments_in_its_own_time(engine: Engine) -> None:
    """A run with ``--now`` a week back counts as a week back for caps and shares, not as applied today.

    The ledger stamps an action when it was applied (the wall clock); the rules judge as of the run's
    moment. An assignment applied by a run as of T0 - 3 days is three days old to a run as of T0, however
    late the wall clock says it was applied.
    """
    wall_clock = T0 + timedelta(days=30)
    ledger = Ledger(session_factory(engine), clock=lambda: wall_clock)
    for days_back, record_id in ((3, "006A"), (10, "006B")):
        run_id = ledger.start_run("route", "local", dry_run=False, now=T0 - timedelta(days=days_back))
        for action_id in ledger.record_actions(run_id, [reassign(record_id, "005B", rule="route-leads")]):
            ledger.mark_applied(action_id)
    history = load_history(session_factory(engine), "local", CALENDAR.start_of_day(T0), T0 - timedelta(days=7))
    assert history.assigned_today == {}
    assert history.assigned_recently == {"005B": 1}
    assert history.last_reassigned[("route-leads", "006A")] == T0 - timedelta(days=3)


def test_what_runs_applied_is_read_through_its_own_index_not_by_walking_the_whole_ledger(tmp_path: Path) -> None:
    """Every run reads the reassignments and leads applied so far (a digest, the reminders and reassignments since):
    a ledger of millions of planned rows must not be walked for the few applied (SQLite's plan names the index)."""
    sqlite_engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(sqlite_engine)
    applied(sqlite_engine, T0, reassign("006A"))
    sessions = session_factory(sqlite_engine)
    with _heard(sqlite_engine) as heard:
        load_history(sessions, "local", CALENDAR.start_of_day(T0))
        with sessions() as session:
            assigned_since(session, "local", "005B", T0 - timedelta(days=1))
            reminders_applied(session, "local", T0 - timedelta(days=1))
            sla_reassignments(session, "local", ["opp-sla"])
    reads = [(statement, parameters) for statement, parameters in heard
             if "FROM actions" in statement and "status" in statement]
    assert len(reads) == 5
    for statement, parameters in reads:
        plan = _query_plan(sqlite_engine, statement, parameters)
        assert "ix_actions_applied" in plan, f"{statement}\n{plan}"


@contextmanager
def _heard(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement ``engine`` runs inside the block, with its parameters."""
    heard: list[tuple[str, Any]] = []

    def hear(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        heard.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", hear)
    try:
        yield heard
    finally:
        event.remove(engine, "before_cursor_execute", hear)


def _query_plan(engine: Engine, statement: str, parameters: Any) -> str:
    """SQLite's plan for ``statement``, its steps on one line."""
    with engine.connect() as connection:
        return " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                          parameters))


def test_merges_and_their_undos_are_read_through_the_indexes_of_runs_own_actions(tmp_path: Path) -> None:
    """Undo finds a merge by its key, and every run asks which merges were taken apart: reads among runs' own
    action rows, through the indexes that hold them alone, not among the millions of the plan runs share (which
    those indexes leave out, so that writing the plan stays cheap)."""
    sqlite_engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(sqlite_engine)
    sessions = session_factory(sqlite_engine)
    merge = Action(ActionKind.MERGE, ObjectType.ACCOUNT, "001A", "merge:local:001A:001B", "same name", "dedupe",
                   {"losers": ["001B"], "cluster_key": "acme"})
    undo = Action(ActionKind.MERGE, ObjectType.ACCOUNT, "001A", "undo:merge:local:001A:001B", "undo", UNDO_RULE,
                  {"undoes": merge.key, "cluster_key": "acme", "accounts": ["001A", "001B"]})
    applied(sqlite_engine, T0, merge)
    applied(sqlite_engine, T0 + timedelta(hours=1), undo)
    plan = Ledger(sessions)
    plan.record_dry_run(plan.start_run("dedupe", "local", dry_run=True, now=T0), {"dedupe": RuleResult(
        actions=[replace(merge, key=f"merge:local:001{n}:001Z") for n in range(3)])}, ["dedupe"])
    with _heard(sqlite_engine) as heard:
        assert [m.key for m in applied_merges(sessions, merge.key)] == [merge.key]
        assert times_undone(sessions, ["001A"]) == {"acme": 1}
        assert taken_apart(sessions, "local") == {"001A", "001B"}
    reads = [(statement, parameters) for statement, parameters in heard if "FROM actions" in statement]
    assert len(reads) == 3
    for statement, parameters in reads:
        plan_text = _query_plan(sqlite_engine, statement, parameters)
        # through an index of runs' own rows, or of the applied ones (a few, read whole): never every row
        assert re.search(r"(SEARCH|SCAN) actions USING INDEX ix_actions_(own_|applied)", plan_text), \
            f"{statement}\n{plan_text}"
    with sqlite_engine.connect() as connection:
        indexed = connection.exec_driver_sql("SELECT count(*) FROM actions INDEXED BY ix_actions_own_key "
                                             "WHERE opened IS NULL AND key LIKE 'merge:%'").scalar()
    assert indexed == 1  # the three planned merges the dry run keeps are not in it
