"""What the ledger says a dead or failed run left unsettled: claims in flight, dependents, what it never began."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from domain.plan import Action, ActionKind, ActionStatus, RuleResult, by_rule
from domain.records import ObjectType
from store.db import session_factory
from store.ledger import Ledger
from store.recovery import claimed_runs, in_flight, jobs_to_settle, planned_dependents, skip_unattempted

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _reassign(record_id: str) -> Action:
    return Action(ActionKind.REASSIGN, ObjectType.LEAD, record_id, f"sla:{record_id}", "late", "sla",
                  {"owner_id": "005B"})


def _task_for(action: Action) -> Action:
    return Action(ActionKind.CREATE_TASK, action.object, action.record_id, f"{action.key}:task", "late", "sla",
                  {"subject": "Call", "owner_id": "005B", "due_date": "2026-11-21"}, requires=action.key)


def test_a_dead_run_is_found_by_its_claims_and_its_actions_sorted_by_what_reached_the_crm(engine: Engine) -> None:
    """Claimed and planned: in flight; waiting on a prerequisite: a dependent; never claimed: skipped, key free."""
    sessions = session_factory(engine)
    ledger = Ledger(sessions, clock=lambda: NOW)
    run_id = ledger.start_run("all", "local", dry_run=False, now=NOW)
    done, flying, untouched = (_reassign(i) for i in ("00Q1", "00Q2", "00Q3"))
    ids = ledger.record_actions(run_id, [done, flying, untouched, _task_for(done)])
    ledger.claim_all(ids[:2])
    ledger.mark_applied(ids[0])
    assert jobs_to_settle(sessions, "local") == {"all"}
    assert claimed_runs(sessions, ["all"], "local") == []  # still running: only a lock holder may call it dead

    ledger.finish_run(run_id, "failed", {})
    assert claimed_runs(sessions, ["all"], "local") == [run_id]
    assert claimed_runs(sessions, ["sla"], "local") == claimed_runs(sessions, ["all"], "sandbox") == []
    assert in_flight(sessions, [run_id]) == [(ids[1], flying)]
    assert planned_dependents(sessions, [run_id]) == [(ids[3], _task_for(done))]
    assert skip_unattempted(sessions, [run_id], "not attempted", NOW) == 2
    statuses = ledger.action_statuses(ids)
    assert [statuses[i][0] for i in ids] == ["applied", "planned", "skipped", "skipped"]
    next_run = ledger.start_run("all", "local", dry_run=False, now=NOW)
    (again,) = ledger.record_actions(next_run, [untouched])
    assert ledger.claim(again).proceed


def test_a_finished_run_with_nothing_in_flight_needs_no_settling(engine: Engine) -> None:
    """Applied and failed claims leave nothing to settle: no job is due for recovery."""
    sessions = session_factory(engine)
    ledger = Ledger(sessions, clock=lambda: NOW)
    run_id = ledger.start_run("sla", "local", dry_run=False, now=NOW)
    applied, failed = ledger.record_actions(run_id, [_reassign("00Q1"), _reassign("00Q2")])
    ledger.claim_all([applied, failed])
    ledger.mark_applied(applied)
    ledger.mark_failed(failed, "INVALID_CROSS_REFERENCE_KEY on 00Q2")
    ledger.finish_run(run_id, "finished", {})
    assert jobs_to_settle(sessions, "local") == set()
    assert ledger.action_statuses([failed])[failed][0] == ActionStatus.FAILED.value


def test_a_dead_dry_run_leaves_the_plan_later_dry_runs_share_as_planned(engine: Engine) -> None:
    """Settling a dry run that died touches none of its plan: the next dry run planned the same and still says so."""
    sessions = session_factory(engine)
    ledger = Ledger(sessions, clock=lambda: NOW)
    plan = [_reassign("00Q7"), _task_for(_reassign("00Q7"))]
    dead = ledger.start_run("all", "local", dry_run=True, now=NOW)
    ledger.record_dry_run(dead, by_rule(RuleResult(actions=plan)))
    later = ledger.start_run("all", "local", dry_run=True, now=NOW)
    ledger.record_dry_run(later, by_rule(RuleResult(actions=plan)))
    ledger.finish_run(dead, "failed", {})
    assert planned_dependents(sessions, [dead]) == []
    assert skip_unattempted(sessions, [dead], "not attempted", NOW) == 0
    reported = ledger.run_report(later).actions
    assert [(a.key, a.status) for a in reported] == [(a.key, ActionStatus.PLANNED) for a in plan]
