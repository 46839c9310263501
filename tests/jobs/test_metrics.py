from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import Engine

from jobs.job_runner import JobOutcome
from jobs.metrics import WorkerMetrics, serve
from tests.jobs.worker_support import FakeClock, copy_crm, copy_policy, local_connector, make_worker, seed_small_crm


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_healthz_turns_unhealthy_when_the_worker_stops_making_progress() -> None:
    """/healthz says ok while passes keep coming and 503 once none came within stale_after."""
    ticks = Ticks()
    metrics = WorkerMetrics(stale_after=60, clock=ticks)
    server = serve(metrics, 0, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        metrics.progressed(policy_ok=True)
        assert fetch(f"{base}/healthz") == (200, "ok\n")
        ticks.now += 61
        assert fetch(f"{base}/healthz") == (503, "stalled\n")
        assert fetch(f"{base}/nothing")[0] == 404
    finally:
        server.shutdown()


def test_metrics_count_runs_by_connection_job_and_outcome() -> None:
    """Prometheus sees each job run with its outcome and duration, and whether the policy loaded."""
    metrics = WorkerMetrics()
    server = serve(metrics, 0, host="127.0.0.1")
    try:
        metrics.record(JobOutcome("acme-sf", "sla", "finished", seconds=0.4))
        metrics.record(JobOutcome("acme-sf", "sla", "locked"))
        metrics.progressed(policy_ok=False)
        status, body = fetch(f"http://127.0.0.1:{server.server_address[1]}/metrics")
    finally:
        server.shutdown()
    assert status == 200
    assert 'warden_job_runs_total{connection="acme-sf",job="sla",status="finished"} 1.0' in body
    assert 'warden_job_runs_total{connection="acme-sf",job="sla",status="locked"} 1.0' in body
    assert 'warden_job_duration_seconds_count{job="sla"} 2.0' in body
    assert "warden_policy_valid 0.0" in body



def _samples(metrics: WorkerMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in metrics.registry.collect() for s in family.samples}


def test_progress_and_success_are_unix_timestamps_an_alert_can_age(sqlite_engine: Engine, tmp_path: Path) -> None:
    """After a worker pass, `time() - warden_job_last_success_timestamp_seconds` is the seconds since each job
    finished, and the findings, actions by status and API calls of each connection are counted."""
    crm = copy_crm(seed_small_crm(tmp_path / "seeded.db"), tmp_path)
    metrics = WorkerMetrics(wall_clock=lambda: 1_796_000_000.0)
    worker = make_worker(sqlite_engine, copy_policy(tmp_path), local_connector(crm, FakeClock()), FakeClock())
    worker.on_outcome, worker.on_progress = metrics.record, metrics.progressed
    outcomes = worker.tick()
    samples = _samples(metrics)
    assert samples[("warden_worker_last_progress_timestamp_seconds", ())] == 1_796_000_000.0
    for outcome in outcomes:
        labels = (("connection", "local"), ("job", outcome.job))
        assert samples[("warden_job_last_success_timestamp_seconds", labels)] == 1_796_000_000.0
        assert samples[("warden_job_last_progress_timestamp_seconds", labels)] == 1_796_000_000.0
    findings = sum(v for (name, _), v in samples.items() if name == "warden_findings_total")
    assert findings == sum(o.findings for o in outcomes) > 0
    would_apply = samples[("warden_actions_total", (("connection", "local"), ("job", "stale"),
                                                    ("status", "would_apply")))]
    assert would_apply == next(o for o in outcomes if o.job == "stale").actions["would_apply"] > 0
    assert samples[("warden_api_calls_total", (("connection", "local"),))] == sum(o.api_calls for o in outcomes) > 0


def test_a_failed_run_moves_progress_but_not_the_last_success() -> None:
    """A failure is progress (the worker is alive) but the success timestamp stays where it was."""
    now = [1_796_000_000.0]
    metrics = WorkerMetrics(wall_clock=lambda: now[0])
    metrics.record(JobOutcome("acme-sf", "sla", "finished", api_calls=3, api_calls_left=14_000))
    now[0] += 900
    metrics.record(JobOutcome("acme-sf", "sla", "failed", error="INVALID_SESSION_ID"))
    samples = _samples(metrics)
    labels = (("connection", "acme-sf"), ("job", "sla"))
    assert samples[("warden_job_last_success_timestamp_seconds", labels)] == 1_796_000_000.0
    assert samples[("warden_job_last_progress_timestamp_seconds", labels)] == 1_796_000_900.0
    assert samples[("warden_api_daily_calls_left", (("connection", "acme-sf"),))] == 14_000
