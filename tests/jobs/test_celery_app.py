from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from jobs.celery_app import RUN_JOB, app, beat_schedule
from jobs.job_table import job_table
from jobs.locks import locks_for
from jobs.policy_keeper import LoadedPolicy
from store.db import session_factory
from store.models import ActionRow, RunRow
from tests.jobs.worker_support import copy_crm, copy_policy, seed_demo_crm

ROOT = Path(__file__).resolve().parents[2]


def test_the_beat_schedule_sends_each_job_of_each_connection_on_its_cron() -> None:
    """Every rule schedule of the packaged policy becomes a beat entry for its connection and job."""
    policy = load_policy(PACKAGED_POLICY)
    entries = beat_schedule(LoadedPolicy(policy, job_table(policy, "local")))
    assert entries["local/sla#1"]["args"] == ("local", "sla")
    assert entries["local/sla#1"]["task"] == RUN_JOB
    cadence = entries["local/cadence#0"]["schedule"]
    assert cadence.day_of_week == {1} and cadence.hour == {7} and cadence.minute == {0}
    digest = entries["local/digest#0"]["schedule"]  # morning lists: every hour, each rep at their own 08:00
    assert digest.minute == {0} and digest.hour == set(range(24))
    jobs = ("sla", "stale", "cadence", "overdue", "gates", "digest")
    assert {name.split("#")[0] for name in entries} == {f"local/{j}" for j in jobs}


@pytest.fixture(scope="module")
def celery_worker(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real Celery worker process on its own queue, with the local Redis and PostgreSQL as the store."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the Celery deployment uses PostgreSQL as its store")
    tmp_path = tmp_path_factory.mktemp("celery")
    crm = copy_crm(seed_demo_crm(tmp_path / "seeded.db"), tmp_path)
    queue = f"warden-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WARDEN_DATABASE_URL": database_url, "WARDEN_LOCAL_CRM_URL": f"sqlite:///{crm}",
           "WARDEN_POLICY": str(copy_policy(tmp_path)), "WARDEN_CRM": "local", "WARDEN_CELERY_APPLY": "true"}
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
