"""Optional ``/healthz`` and Prometheus ``/metrics`` for the worker, on ``WARDEN_METRICS_PORT``.

``/healthz`` answers 200 while the worker loop is making progress (it finished a pass or started a
job within ``stale_after``) and 503 otherwise, so a platform restarts a stuck worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from jobs.job_runner import JobOutcome


@dataclass
class WorkerMetrics:
    """Counters the worker updates; one registry per worker so tests do not share state."""

    stale_after: float = 600.0
    clock: Callable[[], float] = time.monotonic
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.runs = Counter("warden_job_runs", "Job runs by connection, job and outcome.",
                            ["connection", "job", "status"], registry=self.registry)
        self.duration = Histogram("warden_job_duration_seconds", "Wall time of one job run.", ["job"],
                                  registry=self.registry, buckets=(0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800))
        self.last_progress = Gauge("warden_worker_last_progress_seconds",
                                   "Monotonic time of the worker's latest pass or job start.", registry=self.registry)
        self.policy_ok = Gauge("warden_policy_valid", "1 when the latest policy edit loaded, 0 when refused.",
                               registry=self.registry)
        self._progress = self.clock()

    def progressed(self, policy_ok: bool) -> None:
        self._progress = self.clock()
        self.last_progress.set(self._progress)
        self.policy_ok.set(1 if policy_ok else 0)

    def record(self, outcome: JobOutcome) -> None:
        self.runs.labels(outcome.connection, outcome.job, outcome.status).inc()
        self.duration.labels(outcome.job).observe(outcome.seconds)
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
