"""Optional ``/healthz`` and Prometheus ``/metrics`` for the worker, on ``WARDEN_METRICS_PORT``.

``/healthz`` answers 200 while the worker loop is making progress (it finished a pass or started a
job within ``stale_after``) and 503 otherwise, so a platform restarts a stuck worker.

Moments are Unix timestamps (wall clock), so an alert reads their age as ``time() - metric``:
``time() - warden_job_last_success_timestamp_seconds{job="sla"} > 7200`` fires when the SLA job
has not finished a run for two hours. Counters are per connection: findings, actions by status,
API calls, and the daily API calls the CRM says are left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from jobs.job_runner import JobOutcome
from jobs.job_table import ScheduledJob


@dataclass
class WorkerMetrics:
    """Counters the worker updates; one registry per worker so tests do not share state."""

    stale_after: float = 600.0
    clock: Callable[[], float] = time.monotonic
    """For ``/healthz``: a monotonic clock, which a change of the system time cannot fool."""
    wall_clock: Callable[[], float] = time.time
    """For the timestamps Prometheus shows."""
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.runs = Counter("warden_job_runs", "Job runs by connection, job and outcome.",
                            ["connection", "job", "status"], registry=self.registry)
        self.duration = Histogram("warden_job_duration_seconds", "Wall time of one job run.", ["job"],
                                  registry=self.registry, buckets=(0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800))
        self.last_progress = Gauge("warden_worker_last_progress_timestamp_seconds",
                                   "Unix time of the worker's latest pass, job start or heartbeat during a job.",
                                   registry=self.registry)
        self.job_progress = Gauge("warden_job_last_progress_timestamp_seconds",
                                  "Unix time a job last started, beat while running, or ended.",
                                  ["connection", "job"], registry=self.registry)
        self.job_success = Gauge("warden_job_last_success_timestamp_seconds",
                                 "Unix time a job last finished a run.", ["connection", "job"], registry=self.registry)
        self.findings = Counter("warden_findings", "Findings of the rules, per connection and job.",
                                ["connection", "job"], registry=self.registry)
        self.actions = Counter("warden_actions", "Planned actions by what became of them, per connection and job.",
                               ["connection", "job", "status"], registry=self.registry)
        self.api_calls = Counter("warden_api_calls", "Calls made to the CRM's API, per connection.", ["connection"],
                                 registry=self.registry)
        self.api_left = Gauge("warden_api_daily_calls_left",
                              "Daily API calls the CRM says are left (Salesforce, HubSpot), at the latest run.",
                              ["connection"], registry=self.registry)
        self.policy_ok = Gauge("warden_policy_valid", "1 when the latest policy edit loaded, 0 when refused.",
                               registry=self.registry)
        self._progress = self.clock()

    def progressed(self, policy_ok: bool, job: ScheduledJob | None = None) -> None:
        """The worker is alive: a pass ended, or ``job`` started or is still running."""
        self._progress = self.clock()
        self.last_progress.set(self.wall_clock())
        if job is not None:
            self.job_progress.labels(job.connection.name, job.job).set(self.wall_clock())
        self.policy_ok.set(1 if policy_ok else 0)

    def record(self, outcome: JobOutcome) -> None:
        """A job ended: count its run and what it found, did and spent."""
        connection, job = outcome.connection, outcome.job
        self.runs.labels(connection, job, outcome.status).inc()
        self.duration.labels(job).observe(outcome.seconds)
        self.job_progress.labels(connection, job).set(self.wall_clock())
        if outcome.status == "finished":
            self.job_success.labels(connection, job).set(self.wall_clock())
        self.findings.labels(connection, job).inc(outcome.findings)
        for status, count in outcome.actions.items():
            self.actions.labels(connection, job, status).inc(count)
        self.api_calls.labels(connection).inc(outcome.api_calls)
        if outcome.api_calls_left is not None:
            self.api_left.labels(connection).set(outcome.api_calls_left)
        self._progress = self.clock()

    @property
    def healthy(self) -> bool:
        return self.clock() - self._progress < self.stale_after


def serve(metrics: WorkerMetrics, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Serve ``/healthz`` and ``/metrics`` from a daemon thread; returns the server (``shutdown()`` stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
            elif self.path == "/healthz":
                ok = metrics.healthy
                self._send(200 if ok else 503, "text/plain", b"ok\n" if ok else b"stalled\n")
            else:
                self._send(404, "text/plain", b"try /healthz or /metrics\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Say nothing: platforms probe every few seconds."""

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="warden-metrics", daemon=True).start()
    return server
