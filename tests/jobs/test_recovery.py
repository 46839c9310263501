"""Every way back after ``warden run all --apply`` was killed mid-apply finishes its plan once, never re-planned.

The issue's trials: a re-run at once, after the claims' 15-minute lease, through one job's run,
through ``warden worker --once --apply``, and a dry run first (which must not write to the CRM).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from domain.plan import ActionStatus
from store.db import make_engine, session_factory
from store.locks import locks_for
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


def _kill_half_way(setup: Setup, reference: Reference, percent: int = 50) -> str:
    """``run all --apply`` SIGKILLed after ``percent`` of its CRM calls, while it holds claims; its run id."""
    killed = setup.warden(*RUN_ALL, fault=Fault(reference.call_at(percent), "kill"))
    assert killed.exit_code == -9, killed.output
    engine = make_engine(setup.env["WARDEN_DATABASE_URL"])
    with session_factory(engine)() as session:
        run_id = session.scalars(select(RunRow.id).where(RunRow.status == "running")).one()
    engine.dispose()
    return run_id


def _age_claims(engine: Engine) -> None:
    """Move every claim 20 minutes into the past: beyond the 15-minute lease claims once had."""
    with session_factory(engine).begin() as session:
        for claim in session.scalars(select(ClaimRow)):
            claim.updated_at -= timedelta(minutes=20)


def test_a_rerun_after_the_claims_lease_settles_them_from_the_crm(
    reference: Reference, setup: Setup, engine: Engine
) -> None:
    """However old its claims (past the lease they once had), a dead run's plan is settled, never re-planned."""
    _kill_half_way(setup, reference)
    _age_claims(engine)
    again = setup.warden(*RUN_ALL)
    assert again.exit_code == 0, again.output
    assert_like_an_uninterrupted_apply(engine, setup, reference)


def _in_flight(engine: Engine, run_id: str) -> dict[str, str]:
    """Keys of ``run_id`` whose claim it still holds, with their rules."""
    with session_factory(engine)() as session:
        rows = session.execute(select(ActionRow.key, ActionRow.rule).join(ClaimRow, ClaimRow.action_id == ActionRow.id)
                               .where(ActionRow.run_id == run_id, ClaimRow.status == "planned")).all()
    return dict(rows)


def test_one_jobs_run_closes_a_killed_run_of_all_and_settles_its_own_rules_share(
    reference: Reference, setup: Setup, engine: Engine
) -> None:
    """``warden run stale`` (while ``sla`` runs elsewhere) settles the stale rules' actions the dead run began.

    The pulled-back deal is recorded as pulled back, so it is not closed lost on top; the SLA
    actions wait for a run holding the SLA lock, whatever their claims' age. Then ``run all`` finishes.
    """
    run_id = _kill_half_way(setup, reference, percent=5)  # after the first CRM call, before its record
    _age_claims(engine)
    assert {"stale-deals", "stale-leads", "first-contact"} <= set(_in_flight(engine, run_id).values())
    with locks_for(engine).hold("sla", "local") as taken:
        assert taken
        stale = setup.warden("run", "stale", "--apply", "--now", RUN_ALL[-1])
    assert stale.exit_code == 0, stale.output
    with session_factory(engine)() as session:
        status = session.scalar(select(RunRow.status).where(RunRow.id == run_id))
        applied = Counter(session.scalars(select(ActionRow.key).where(ActionRow.status == "applied")))
    left = set(_in_flight(engine, run_id).values())
    assert status == "failed" and "first-contact" in left and not {"stale-deals", "stale-leads"} & left
    assert not [k for k in applied if k.startswith("stale-deals:opportunity:o-pull:") and k.endswith("close_lost")]
    assert not [k for k in applied if k.startswith("first-contact")]
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
        own = select(ActionRow.status).where(ActionRow.run_id == run_id, ActionRow.opened.is_(None))
        statuses = set(session.scalars(own))
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
