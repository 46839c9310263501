"""Every way back after ``warden run all --apply`` was killed mid-apply finishes its plan once, never re-planned.

The issue's trials: a re-run at once, after the claims' 15-minute lease, through one job's run,
through ``warden worker --once --apply``, and a dry run first (which must not write to the CRM).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from domain.plan import ActionKind, ActionStatus
from store.db import make_engine, session_factory
from store.models import ActionRow, ClaimRow, RunRow
from tests.jobs.fault_driver import Fault
from tests.jobs.fault_org import crm_state
from tests.jobs.fault_support import (
    RUN_ALL,
    Reference,
    Setup,
    assert_like_an_uninterrupted_apply,
    assert_settled,
    reference,
    seeded,
    setup,
)

__all__ = ["reference", "seeded", "setup"]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite only: the fault suite (``test_apply_faults``) runs the same recovery on PostgreSQL."""
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'warden.db'}"


def _kill_half_way(setup: Setup, reference: Reference) -> str:
    """``run all --apply`` SIGKILLed after half its CRM calls, while it holds claims; its run id."""
    killed = setup.warden(*RUN_ALL, fault=Fault(reference.call_at(50), "kill"))
    assert killed.exit_code == -9, killed.output
    engine = make_engine(setup.env["WARDEN_DATABASE_URL"])
    with session_factory(engine)() as session:
        run_id = session.scalars(select(RunRow.id).where(RunRow.status == "running")).one()
    engine.dispose()
    return run_id


def test_a_rerun_after_the_claims_lease_settles_them_from_the_crm(
    reference: Reference, setup: Setup, engine: Engine
) -> None:
    """Once the lease is over the claims could be taken over and re-planned; they are settled instead."""
    _kill_half_way(setup, reference)
    with session_factory(engine).begin() as session:
        for claim in session.scalars(select(ClaimRow)):
            claim.updated_at -= timedelta(minutes=20)
    again = setup.warden(*RUN_ALL)
    assert again.exit_code == 0, again.output
    assert_like_an_uninterrupted_apply(engine, setup, reference)


def test_one_jobs_run_settles_a_killed_run_of_all_by_taking_the_other_jobs_locks(
    reference: Reference, setup: Setup, engine: Engine
) -> None:
    """``warden run sla`` finishes the dead ``all`` run's plan (tasks for the new owners included) first."""
    run_id = _kill_half_way(setup, reference)
    sla = setup.warden("run", "sla", "--apply", "--now", RUN_ALL[-1])
    assert sla.exit_code == 0, sla.output
    with session_factory(engine)() as session:
        left = session.execute(select(ActionRow.key, ActionRow.kind, ActionRow.status)
                               .where(ActionRow.run_id == run_id)).all()
    assert {status for _, _, status in left} <= {ActionStatus.APPLIED.value, ActionStatus.SKIPPED.value}
    reassigned = {key for key, kind, status in left if kind == ActionKind.REASSIGN and status == "applied"}
    tasks = {key for key, kind, status in left if kind == ActionKind.CREATE_TASK and status == "applied"}
    assert {f"{key}:task" for key in reassigned if key.startswith("first-contact")} <= tasks
    assert setup.warden(*RUN_ALL).exit_code == 0
    assert_like_an_uninterrupted_apply(engine, setup, reference)


def test_the_worker_settles_a_killed_run_of_all_before_its_own_jobs(
    reference: Reference, setup: Setup, engine: Engine
) -> None:
    """``warden worker --once --apply`` (jobs by name, at today's date) settles the ``all`` run: nothing twice."""
    run_id = _kill_half_way(setup, reference)
    worker = setup.warden("worker", "--once", "--apply")
    assert worker.exit_code == 0, worker.output
    assert_settled(engine)
    with session_factory(engine)() as session:
        statuses = set(session.scalars(select(ActionRow.status).where(ActionRow.run_id == run_id)))
        jobs = set(session.scalars(select(RunRow.job).where(RunRow.id != run_id)))
    assert statuses <= {ActionStatus.APPLIED.value, ActionStatus.SKIPPED.value}
    assert "all" not in jobs and "sla" in jobs


def test_a_dry_run_after_a_kill_closes_the_dead_run_and_writes_nothing(
    reference: Reference, setup: Setup, engine: Engine
) -> None:
    """Without --apply nothing is sent to the CRM; the next applying run settles the claims as usual."""
    _kill_half_way(setup, reference)
    after_kill = crm_state(setup.crm)
    dry = setup.warden(*(a for a in RUN_ALL if a != "--apply"))
    assert dry.exit_code == 0, dry.output
    assert crm_state(setup.crm) == after_kill
    assert setup.warden(*RUN_ALL).exit_code == 0
    assert_like_an_uninterrupted_apply(engine, setup, reference)
