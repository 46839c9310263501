"""`warden status` as ops use it: jobs run inside `all`, a broken policy file, Celery and beat, local times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from celery import Celery
from sqlalchemy import Engine
from typer.testing import CliRunner

from jobs.beat import PolicyScheduler
from jobs.celery_watch import BEAT_KEY
from jobs.cli import app
from store.db import session_factory
from store.models import RunRow
from store.runs import runs_per_job
from tests.jobs.probe_support import NOW, warden

ROOT = Path(__file__).resolve().parents[2]
RULE_JOBS = ("sla", "stale", "cadence", "overdue", "gates", "dedupe", "route", "accept", "activity")
NOBODY = "redis://:hunter2@127.0.0.1:9/0"
"""No broker listens here: status says so in one line, at once."""


@pytest.fixture
def status_env(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WARDEN_CELERY_BROKER_URL", NOBODY)
    return probe_env


def _status(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["status", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_jobs_run_inside_all_count_for_each_job(status_env: Path) -> None:
    """After `warden run all`, every rule job shows that run as its last run and last success, not "never"."""
    ran = CliRunner().invoke(app, ["run", "all", "--now", NOW, "--json"])
    assert ran.exit_code == 0, ran.output
    run_id = json.loads(ran.stdout)["run_id"]
    jobs = {j["job"]: j for j in _status()["jobs"]}
    for job in RULE_JOBS:
        shown = (jobs[job]["last_run_id"], jobs[job]["last_run_job"], jobs[job]["outcome"])
        assert shown == (run_id, "all", "finished")
        assert jobs[job]["last_success_at"] == jobs[job]["last_run_at"]
    assert jobs["digest"]["last_run_id"] is None
    shown = CliRunner().invoke(app, ["status"], env={"COLUMNS": "250"})
    assert "(in run all)" in shown.stdout and "never" in shown.stdout  # the digest job never ran


def test_a_failed_run_keeps_the_last_success(sqlite_engine: Engine) -> None:
    """sla finished, then `all` finished, then sla failed: sla's last run is the failure, its last success `all`."""
    sessions = session_factory(sqlite_engine)
    start = datetime(2026, 11, 20, 15, tzinfo=UTC)
    with sessions.begin() as session:
        for minutes, job, status in ((0, "sla", "finished"), (10, "all", "finished"), (20, "sla", "failed"),
                                     (30, "stale", "running")):
            at = start + timedelta(minutes=minutes)
            session.add(RunRow(id=f"{job}-{minutes}", job=job, connection="local", dry_run=True, now=at,
                               started_at=at, finished_at=None, status=status, summary={}))
    runs = runs_per_job(sessions, {"all": RULE_JOBS})
    sla, stale, overdue = runs[("local", "sla")], runs[("local", "stale")], runs[("local", "overdue")]
    assert (sla.last.id, sla.last_success and sla.last_success.id) == ("sla-20", "all-10")
    assert (stale.last.id, stale.last_success and stale.last_success.id) == ("stale-30", "all-10")
    assert overdue.last.id == overdue.last_success.id == "all-10"  # type: ignore[union-attr]


def test_status_shows_the_last_good_policy_while_the_file_is_broken(status_env: Path) -> None:
    """A worker ran with the policy, then the file broke: status shows every job, and the error's key and line."""
    assert CliRunner().invoke(app, ["worker", "--once"]).exit_code == 0
    policy = Path(os.environ["WARDEN_POLICY"])
    lines = policy.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("time_zone:"))
    lines[at] = lines[at].replace("America/New_York", "Mars/Olympus_Mons")
    policy.write_text("\n".join(lines) + "\n")
    report = _status()
    assert {j["job"] for j in report["jobs"]} == {*RULE_JOBS, "digest"}
    assert report["policy_kept_at"] is not None
    assert f"line {at + 1}" in report["policy_error"] and "time_zone" in report["policy_error"]
    shown = CliRunner().invoke(app, ["status"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "does not load: showing the last good version" in shown.stdout
    assert f"line {at + 1}: calendar.time_zone" in shown.stdout


def test_status_without_any_good_policy_is_one_line_exit_2(status_env: Path) -> None:
    """No worker ever ran with this file and it does not load: nothing to show, one line, exit 2."""
    Path(os.environ["WARDEN_POLICY"]).write_text("rules: [{kind: nonsense}]\n")
    assert "no worker has run with an earlier version" in warden("status").line


def test_status_times_are_in_the_company_time_zone(status_env: Path) -> None:
    """The policy's calendar is New York: the next runs print in New York time, with its abbreviation."""
    report = _status()
    assert report["time_zone"] == "America/New_York"
    shown = CliRunner().invoke(app, ["status"], env={"COLUMNS": "250"}).stdout
    assert "times in America/New_York" in shown
    zone = ZoneInfo("America/New_York")
    for job in report["jobs"]:
        local = datetime.fromisoformat(job["next_run_at"]).astimezone(zone)
        assert f"{local:%Y-%m-%d %H:%M %Z}" in shown or job["due_now"]
    assert " UTC (" not in shown


def test_status_says_when_the_broker_cannot_be_asked(status_env: Path) -> None:
    """No broker: one line saying so, quickly, and the rest of status as usual."""
    started = time.monotonic()
    shown = CliRunner().invoke(app, ["status"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0
    assert "Celery: cannot ask the broker redis://:***@127.0.0.1:9/0" in shown.stdout
    assert "hunter2" not in shown.stdout
    assert time.monotonic() - started < 10


@pytest.fixture
def broker(status_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The local Redis on a database of its own for this test, emptied afterwards."""
    url = f"redis://127.0.0.1:6379/{11 + uuid.uuid4().int % 5}"
    monkeypatch.setenv("WARDEN_CELERY_BROKER_URL", url)
    yield url
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{BEAT_KEY}*{os.getpid()}"):
        client.delete(key)
    client.close()


def test_status_says_no_workers_and_no_beat_were_seen(broker: str) -> None:
    """A broker with nobody on it: no Celery workers seen, no beat seen."""
    report = _status()
    assert report["celery"]["broker_problem"] is None
    shown = CliRunner().invoke(app, ["status"], env={"COLUMNS": "250"}).stdout
    if not report["celery"]["workers"]:  # another process may share the database
        assert "No Celery workers seen" in shown
    assert "No Celery beat seen" in shown or report["celery"]["beats"]


def test_status_lists_a_live_celery_worker_and_beat(broker: str, status_env: Path) -> None:
    """A real Celery worker on the broker answers status; beat's heartbeat names it with its entries."""
    name = f"warden-test-{uuid.uuid4().hex[:8]}@{os.uname().nodename}"
    env = {**os.environ, "WARDEN_CELERY_BROKER_URL": broker}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jobs.celery_app", "worker", "--pool=solo", "-n", name,
         "-Q", f"warden-test-{uuid.uuid4().hex[:8]}", "--without-heartbeat", "--without-mingle",
         "--without-gossip", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline, seen = time.monotonic() + 60, []
        while time.monotonic() < deadline and name not in seen:
            seen = [w["name"] for w in _status()["celery"]["workers"]]
        assert name in seen
        beat_app = Celery("beat-test", broker=broker, set_as_current=False)
        beat_app.conf.warden_policy, beat_app.conf.warden_crm = os.environ["WARDEN_POLICY"], "local"
        beat = PolicyScheduler(app=beat_app, schedule_filename=str(status_env / "beat-schedule"))
        beat.follow_policy()
        beat.announce()
        entries = len(beat.schedule)
        beat.close()
        beats = _status()["celery"]["beats"]
        mine = [b for b in beats if b["name"].endswith(f":{os.getpid()}")]
        assert mine and mine[0]["entries"] == entries
        assert (datetime.now(UTC) - datetime.fromisoformat(mine[0]["beat_at"])).total_seconds() < 60
        shown = CliRunner().invoke(app, ["status"], env={"COLUMNS": "250"}).stdout
        assert f"Celery worker {name}: idle" in shown and "Celery beat " in shown
    finally:
        worker.terminate()
        worker.wait(20)
