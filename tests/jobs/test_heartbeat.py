from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from config.policy import FieldMaps
from config.policy_connections import ConnectionPolicy
from connectors.local import LocalCRM
from domain.connector import Connector
from jobs.metrics import WorkerMetrics
from store.db import session_factory
from store.heartbeats import heartbeats
from tests.jobs.conftest import BlockingCRM
from tests.jobs.worker_support import FakeClock, copy_crm, copy_policy, make_worker, seed_small_crm


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_long_job_keeps_the_heartbeat_and_healthz_fresh(
    sqlite_engine: Engine, tmp_path: Path, blocking: type[BlockingCRM]
) -> None:
    """Ten minutes into one sync the ledger's heartbeat is current and /healthz still answers healthy."""
    crm = copy_crm(seed_small_crm(tmp_path / "seeded.db"), tmp_path)
    clock = FakeClock()

    def connector(_connection: ConnectionPolicy, _fields: FieldMaps) -> Connector:
        return blocking(crm, clock=clock)

    monotonic = [0.0]
    metrics = WorkerMetrics(stale_after=300.0, clock=lambda: monotonic[0])
    worker = make_worker(sqlite_engine, copy_policy(tmp_path), connector, clock)
    worker.idle_seconds, worker.on_progress = 0.05, metrics.progressed
    sessions = session_factory(sqlite_engine)
    thread = threading.Thread(target=worker.tick)
    thread.start()
    try:
        assert blocking.entered.wait(10)
        clock.advance(minutes=10)
        monotonic[0] = 600.0
        assert wait_for(lambda: heartbeats(sessions)[0].beat_at == clock())
        (beat,) = heartbeats(sessions)
        assert (beat.state, beat.job, beat.connection) == ("running", "sla", "local")
        assert wait_for(lambda: metrics.healthy)
    finally:
        blocking.release.set()
        thread.join(60)
    assert not thread.is_alive()


def test_no_beats_are_written_after_the_job_ends(sqlite_engine: Engine, tmp_path: Path) -> None:
    """The heartbeat thread stops with its job: the last beat is the worker going idle, and stays so."""
    crm = copy_crm(seed_small_crm(tmp_path / "seeded.db"), tmp_path)
    clock = FakeClock()
    worker = make_worker(sqlite_engine, copy_policy(tmp_path), lambda _c, _f: LocalCRM(crm, clock=clock), clock)
    worker.idle_seconds = 0.01
    worker.tick()
    clock.advance(minutes=1)
    time.sleep(0.1)
    (beat,) = heartbeats(session_factory(sqlite_engine))
    assert beat.state == "idle" and beat.beat_at == clock() - timedelta(minutes=1)
    assert [t for t in threading.enumerate() if t.name == "warden-heartbeat"] == []
