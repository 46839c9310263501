"""Under Celery our log lines keep their levels: an info is INFO, a warning WARNING (not all WARNING)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from celery import Celery

from jobs.celery_flow import RUN_JOB
from tests.jobs.worker_support import copy_policy, seed_small_crm

ROOT = Path(__file__).resolve().parents[2]


def _levels(log: str) -> dict[str, str]:
    """Event name -> the level Celery printed it at, from lines like ``[time: INFO/MainProcess] {json}``."""
    levels = {}
    for line in log.splitlines():
        head, _, body = line.partition("] ")
        if body.startswith("{") and ": " in head:
            levels[json.loads(body)["event"]] = head.rsplit(": ", 1)[1].split("/")[0]
    return levels


def test_a_celery_worker_logs_each_line_at_its_own_level(tmp_path: Path) -> None:
    """A job's `job.done` is INFO and an unscheduled task's warning is WARNING in the worker's log."""
    broker = f"redis://127.0.0.1:6379/{11 + uuid.uuid4().int % 5}"
    queue = f"warden-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WARDEN_DATABASE_URL": f"sqlite:///{tmp_path / 'warden.db'}",
           "WARDEN_LOCAL_CRM_URL": f"sqlite:///{seed_small_crm(tmp_path / 'crm.db')}",
           "WARDEN_POLICY": str(copy_policy(tmp_path)), "WARDEN_CRM": "local", "WARDEN_CELERY_BROKER_URL": broker}
    log = tmp_path / "celery.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "jobs.celery_app", "worker", "--concurrency=1", "-Q", queue,
             "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    client = Celery("log-test", broker=broker, backend=broker, set_as_current=False)
    try:
        assert client.send_task(RUN_JOB, args=("local", "sla"), queue=queue).get(timeout=60)["status"] == "finished"
        assert client.send_task(RUN_JOB, args=("local", "nope"), queue=queue).get(timeout=60)["status"] == "unscheduled"
        deadline = time.monotonic() + 10
        while "task.unscheduled" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(20)
    levels = _levels(log.read_text())
    assert levels.get("job.done") == "INFO", log.read_text()[-3000:]
    assert levels.get("task.unscheduled") == "WARNING"
