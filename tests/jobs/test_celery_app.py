from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from domain.records import ObjectType
from jobs.celery_app import RUN_FLOW, RUN_JOB, app
from jobs.celery_flow import connection_flow
from jobs.worker_setup import utc_now
from store.db import session_factory
from store.locks import locks_for
from store.models import ActionRow, RunRow
from tests.jobs.worker_support import copy_crm, copy_policy, seed_demo_crm

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def celery_worker(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real Celery worker process on its own queue, with the local Redis and PostgreSQL as the store."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the Celery deployment uses PostgreSQL as its store")
    tmp_path = tmp_path_factory.mktemp("celery")
    crm = copy_crm(seed_demo_crm(tmp_path / "seeded.db"), tmp_path)
    queue = f"warden-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WARDEN_DATABASE_URL": database_url, "WARDEN_LOCAL_CRM_URL": f"sqlite:///{crm}",
           "WARDEN_POLICY": str(copy_policy(tmp_path)), "WARDEN_CRM": "local", "WARDEN_APPLY": "true"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jobs.celery_app", "worker", "--pool=solo", "-Q", queue,
         "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    yield queue, crm
    worker.terminate()
    worker.wait(20)


def test_a_celery_worker_runs_a_job_end_to_end(engine: Engine, celery_worker: tuple[str, Path]) -> None:
    """A task sent through Redis syncs the embedded CRM, plans and applies, and the ledger in Postgres shows it."""
    queue, _crm = celery_worker
    outcome = app.send_task(RUN_JOB, args=("local", "sla"), queue=queue).get(timeout=60)
    assert outcome["status"] == "finished", outcome
    with session_factory(engine)() as session:
        run = session.get_one(RunRow, outcome["run_id"])
        applied = session.scalar(select(func.count()).where(ActionRow.run_id == run.id, ActionRow.status == "applied"))
    assert (run.job, run.connection, run.dry_run, run.status) == ("sla", "local", False, "finished")
    assert applied


def test_a_celery_task_skips_a_job_another_process_is_running(engine: Engine, celery_worker: tuple[str, Path]) -> None:
    """The same Postgres advisory lock as the single worker: a held job comes back 'locked'."""
    queue, _crm = celery_worker
    with locks_for(engine).hold("stale", "local") as taken:
        assert taken
        outcome = app.send_task(RUN_JOB, args=("local", "stale"), queue=queue).get(timeout=60)
    assert outcome["status"] == "locked"


def test_a_flow_syncs_each_object_in_its_own_task_then_runs_the_jobs(
    engine: Engine, celery_worker: tuple[str, Path]
) -> None:
    """Every object type syncs as a task of its own; once all have, the jobs run and record their runs."""
    queue, _crm = celery_worker
    flow = connection_flow(app, "local", ["stale", "overdue"], utc_now(), queue=queue).apply_async()
    jobs = flow.get(timeout=120)
    syncs = flow.parent.get(timeout=10)
    assert {(o["job"], o["status"]) for o in syncs} == {(f"sync:{obj.value}", "finished") for obj in ObjectType}
    assert [(o["job"], o["status"]) for o in jobs] == [("stale", "finished"), ("overdue", "finished")]
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).where(RunRow.id.in_([o["run_id"] for o in jobs]))) == 2


def test_a_sync_held_elsewhere_is_skipped_and_the_jobs_still_run(
    engine: Engine, celery_worker: tuple[str, Path]
) -> None:
    """The lock of one connection's account sync makes that task come back 'locked'; the rest of the flow runs."""
    queue, _crm = celery_worker
    with locks_for(engine).hold("sync:account", "local") as taken:
        assert taken
        flow = connection_flow(app, "local", ["gates"], utc_now(), queue=queue).apply_async()
        jobs = flow.get(timeout=120)
    statuses = {o["job"]: o["status"] for o in flow.parent.get(timeout=10)}
    assert statuses.pop("sync:account") == "locked"
    assert set(statuses.values()) == {"finished"}
    assert jobs[0]["status"] == "finished"


def test_beat_s_task_sends_the_flow_on_its_own_queue(engine: Engine, celery_worker: tuple[str, Path]) -> None:
    """``warden.run_flow``, which beat sends, starts the sync and the job on the queue it came from."""
    queue, _crm = celery_worker
    app.send_task(RUN_FLOW, args=("local", ["cadence"]), queue=queue).get(timeout=30)
    finished = select(func.count()).where(RunRow.job == "cadence", RunRow.status == "finished")
    deadline = time.monotonic() + 120
    with session_factory(engine)() as session:
        while not session.scalar(finished) and time.monotonic() < deadline:
            time.sleep(0.2)
            session.expire_all()
        assert session.scalar(finished) == 1
