from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from structlog.testing import capture_logs

from config.policy import FieldMaps
from config.policy_connections import ConnectionPolicy
from connectors.local import LocalCRM
from domain.connector import ApiUsage, Connector
from domain.records import ObjectType
from jobs import worker as worker_module
from jobs.job_runner import JobOutcome
from jobs.status import collect_status
from store.db import session_factory
from store.locks import locks_for
from store.stage_history import TRACKED
from tests.jobs.conftest import BlockingCRM
from tests.jobs.worker_support import FakeClock, copy_crm, copy_policy, local_connector, make_worker, seed_small_crm

JOBS = ["sla", "stale", "cadence", "overdue", "gates", "dedupe", "route", "accept", "activity", "digest"]
QUARTER_HOURLY = dict.fromkeys(("sla", "route", "accept"), "finished")
"""The jobs whose rules the shipped policy runs every 15 minutes: first-contact SLA, routing, acceptance."""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_small_crm(tmp_path_factory.mktemp("seeded") / "crm.db")


@pytest.fixture
def crm_path(seeded: Path, tmp_path: Path) -> Path:
    return copy_crm(seeded, tmp_path)


@pytest.fixture
def policy_path(tmp_path: Path) -> Path:
    return copy_policy(tmp_path)


def statuses(outcomes: list[JobOutcome]) -> dict[str, str]:
    return {o.job: o.status for o in outcomes}


def test_a_fresh_worker_runs_every_job_once_then_waits_for_the_schedule(
    sqlite_engine: Engine, crm_path: Path, policy_path: Path
) -> None:
    """First pass runs every job; a minute later nothing is due; at the quarter hour only quarter-hourly ones are."""
    clock = FakeClock()
    worker = make_worker(sqlite_engine, policy_path, local_connector(crm_path, clock), clock)
    assert statuses(worker.tick()) == dict.fromkeys(JOBS, "finished")
    clock.advance(minutes=1)
    assert worker.tick() == []
    clock.advance(minutes=15)
    assert statuses(worker.tick()) == QUARTER_HOURLY


def test_a_pass_over_an_unchanged_org_spends_at_most_one_call_per_object_type(
    sqlite_engine: Engine, crm_path: Path, policy_path: Path
) -> None:
    """Every job due at once shares one sync: a sync that finds nothing changed reads one page per type, one of
    activity records (for the activity_score rule) and the embedded CRM's stage history of leads and deals one read
    each, once for the whole pass."""
    clock = FakeClock()
    usage = ApiUsage()

    def counted(_connection: ConnectionPolicy, _fields: FieldMaps) -> Connector:
        crm = LocalCRM(crm_path, clock=clock)
        crm.usage = usage
        return crm

    worker = make_worker(sqlite_engine, policy_path, counted, clock)
    worker.tick()
    usage.calls.clear()
    clock.advance(days=7)
    assert len(statuses(worker.tick())) == len(JOBS)
    assert usage.total <= len(ObjectType) + 1 + len(TRACKED)


def test_missed_runs_after_downtime_run_once(sqlite_engine: Engine, crm_path: Path, policy_path: Path) -> None:
    """Three days down: each job runs once, and the log says how many fires it stood for."""
    clock = FakeClock()
    worker = make_worker(sqlite_engine, policy_path, local_connector(crm_path, clock), clock)
    worker.tick()
    clock.advance(days=3)
    with capture_logs() as logs:
        outcomes = worker.tick()
    assert sorted(o.job for o in outcomes) == sorted(JOBS)
    coalesced = {e["job"]: e["missed"] for e in logs if e["event"] == "job.coalesced"}
    assert coalesced["sla"] == 3 * 24 * 4
    assert coalesced["overdue"] == 3


def test_an_invalid_policy_edit_keeps_the_last_good_policy_and_says_why(
    sqlite_engine: Engine, crm_path: Path, policy_path: Path
) -> None:
    """A broken edit is logged and shown in status while the jobs keep running on the old policy."""
    clock = FakeClock()
    worker = make_worker(sqlite_engine, policy_path, local_connector(crm_path, clock), clock)
    worker.tick()
    policy_path.write_text(policy_path.read_text().replace("kind: sla", "kind: slaa", 1))
    clock.advance(minutes=16)
    with capture_logs() as logs:
        assert statuses(worker.tick()) == QUARTER_HOURLY
    rejected = [e for e in logs if e["event"] == "policy.rejected"]
    assert len(rejected) == 1 and "rules.0" in rejected[0]["reason"]
    report = collect_status(session_factory(sqlite_engine), worker.keeper.refresh(), str(policy_path),
                            worker.keeper.error, clock())
    assert report.policy_error is not None and "slaa" in report.policy_error
    assert report.workers[0].policy_error == report.policy_error


def test_a_policy_edit_applies_at_the_next_run(sqlite_engine: Engine, crm_path: Path, policy_path: Path) -> None:
    """Moving the gates rules to every five minutes makes gates due at the next five-minute mark."""
    clock = FakeClock()
    worker = make_worker(sqlite_engine, policy_path, local_connector(crm_path, clock), clock)
    worker.tick()
    policy_path.write_text(policy_path.read_text().replace('schedule: "30 * * * *"', 'schedule: "*/5 * * * *"'))
    clock.advance(minutes=5)
    assert statuses(worker.tick()) == {"gates": "finished"}


def test_two_workers_contend_and_only_one_runs_a_job(
    engine: Engine, crm_path: Path, policy_path: Path, blocking: type[BlockingCRM]
) -> None:
    """While one worker is inside the sla job, a second worker skips it as locked."""
    clock = FakeClock()

    def slow(_connection: ConnectionPolicy, _fields: FieldMaps) -> Connector:
        return blocking(crm_path, clock=clock)

    first = make_worker(engine, policy_path, slow, clock)
    second = make_worker(engine, policy_path, local_connector(crm_path, clock), clock)
    results: list[JobOutcome] = []
    thread = threading.Thread(target=lambda: results.extend(first.tick()[:1]))
    thread.start()
    assert blocking.entered.wait(10)
    contended = second.tick()
    blocking.release.set()
    thread.join(30)
    assert statuses(contended)["sla"] == "locked"
    assert statuses(results) == {"sla": "finished"}


def test_a_job_locked_elsewhere_is_not_run(engine: Engine, crm_path: Path, policy_path: Path) -> None:
    """A lock held by another process on one connection's job leaves the other jobs running."""
    clock = FakeClock()
    worker = make_worker(engine, policy_path, local_connector(crm_path, clock), clock)
    with locks_for(engine).hold("stale", "local") as taken:
        assert taken
        assert statuses(worker.tick())["stale"] == "locked"


def test_status_shows_last_and_next_runs_budget_and_heartbeat(
    engine: Engine, crm_path: Path, policy_path: Path
) -> None:
    """After a pass, status names each job's outcome and next run, today's API calls, a fresh heartbeat."""
    clock = FakeClock()
    worker = make_worker(engine, policy_path, local_connector(crm_path, clock), clock)
    worker.tick()
    clock.advance(minutes=2)
    report = collect_status(session_factory(engine), worker.keeper.refresh(), str(policy_path), None, clock())
    sla = next(j for j in report.jobs if j.job == "sla")
    assert (sla.connection, sla.outcome, sla.due_now) == ("local", "finished", False)
    assert sla.next_run_at - clock() == timedelta(minutes=13)
    (connection,) = report.connections
    assert connection.api_calls_today == len(ObjectType) + len(TRACKED)  # one sync for the pass
    assert connection.pending_actions == 0  # a dry run plans, it leaves nothing pending
    (beat,) = report.workers
    assert beat.state == "idle" and beat.heartbeat_age_seconds == 120


def test_the_pass_reaches_the_database_file_before_the_worker_idles(
    sqlite_engine: Engine, crm_path: Path, policy_path: Path
) -> None:
    """SQLite's write-ahead log is copied into the database after a pass (``store.db.checkpoint``): read without the
    log, the file holds every run of the pass. Left to SQLite, the copy falls inside a later run."""
    clock = FakeClock()
    worker = make_worker(sqlite_engine, policy_path, local_connector(crm_path, clock), clock)
    ran = {outcome.run_id for outcome in worker.tick()}
    assert ran and None not in ran
    file_alone = f"file:{sqlite_engine.url.database}?immutable=1"
    with closing(sqlite3.connect(file_alone, uri=True)) as database:
        assert ran <= {run_id for (run_id,) in database.execute("SELECT id FROM runs")}


def test_a_refused_copy_of_the_log_is_logged_and_the_worker_goes_on(
    sqlite_engine: Engine, crm_path: Path, policy_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy is only about when SQLite writes what it holds: a database that refuses it (full disk) is a warning."""
    def refused(_engine: Engine) -> None:
        raise OperationalError("PRAGMA wal_checkpoint", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(worker_module, "checkpoint", refused)
    clock = FakeClock()
    worker = make_worker(sqlite_engine, policy_path, local_connector(crm_path, clock), clock)
    with capture_logs() as logs:
        outcomes = worker.tick()
    assert outcomes and all(o.status == "finished" for o in outcomes)
    (warning,) = [e for e in logs if e["event"] == "worker.checkpoint_failed"]
    assert "database or disk is full" in warning["error"]


def test_the_worker_settles_its_memory_after_a_pass_that_ran_jobs_not_after_an_idle_one(
    sqlite_engine: Engine, crm_path: Path, policy_path: Path
) -> None:
    """A full garbage collection falls between passes, not inside a scheduled run (``store.collector.settle``)."""
    clock = FakeClock()
    worker = make_worker(sqlite_engine, policy_path, local_connector(crm_path, clock), clock)
    settled: list[int] = []
    worker.settle = lambda: settled.append(1)
    assert worker.tick()
    assert len(settled) == 1
    clock.advance(minutes=1)
    assert worker.tick() == []
    assert len(settled) == 1
