from __future__ import annotations

import urllib.error
import urllib.request

from jobs.job_runner import JobOutcome
from jobs.metrics import WorkerMetrics, serve


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

