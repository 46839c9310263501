"""Benchmark the scheduled worker against Celery on an I/O-bound load: many HubSpot portals.

Each connection is a local HubSpot server (tests/servers/hubspot/server.py) in its own process,
holding companies, deals and tasks, answering after a network latency. The policy is the packaged
one (every rule family) with one ``connections:`` entry per portal. Two runs from a cold store,
each on fresh portals and a fresh PostgreSQL database, every job of every connection once, applying:

- one worker process: ``Worker.tick()`` runs every rule job x N connections one after another (the
  first job of a connection syncs its portal from scratch);
- Celery: a worker with ``--concurrency`` processes on the local Redis, each connection as beat
  sends it (jobs/celery_flow.py): one sync task per object type side by side, then the rule jobs
  side by side, connections in parallel.

Prints wall time, records synced per second, and scheduling overhead per task (single worker: pass
time not spent inside jobs; Celery: worker-process time not spent inside tasks, idle tail included).

    .venv/bin/python -m bench.worker                 # 20 connections x 20,000 records, 4 Celery processes
    .venv/bin/python -m bench.worker --scale 0.1     # 2 connections x 2,000 records
"""

from __future__ import annotations

import argparse
import gc
import itertools
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml
from celery.result import GroupResult
from sqlalchemy import create_engine, make_url, text

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY, Settings
from domain.progress import NO_PROGRESS
from jobs.celery_flow import connection_flow
from jobs.inputs import open_store
from jobs.job_runner import JobOutcome
from jobs.job_table import job_table
from jobs.shutdown import ShutdownFlag
from jobs.worker import Worker
from jobs.worker_setup import build_runner, policy_keeper, utc_now
from store.heartbeats import Heartbeat
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.seed import seed
from tests.servers.hubspot.server import HubSpotServer, Limits

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("WARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LIMITS = Limits(burst=10_000, interval_s=10, search_per_s=50, daily=100_000_000)


@dataclass
class Result:
    mode: str
    seconds: float
    tasks: int
    """Jobs, plus the sync tasks Celery splits each connection's sync into."""
    task_seconds: float
    workers: int
    records: int
    statuses: dict[str, int]

    def line(self) -> str:
        overhead_ms = 1000 * (self.seconds * self.workers - self.task_seconds) / self.tasks
        return (f"{self.mode:<22} {self.seconds:8.1f} s  {self.records / self.seconds:8.0f} records/s  "
                f"{self.tasks} tasks {self.statuses}  overhead {overhead_ms:6.1f} ms/task")


def _serve(pipe: Connection, companies: int, latency_s: float, number: int) -> None:
    # Record ids of their own, as separate orgs have: the ledger's idempotency keys name records by id
    # only, so portals seeded alike would share keys and skip each other's actions.
    portal = Portal(_ids=itertools.count(5_000_000_001 + number * 100_000_000))
    seed(portal, companies)
    with HubSpotServer(portal, LIMITS, latency_s=latency_s) as server:
        pipe.send(server.url)
        while pipe.recv() == "count":
            pipe.send(server.requests())


@dataclass
class Portals:
    urls: list[str]
    pipes: list[Connection]

    def calls(self) -> int:
        """Requests the portals have served so far, all together."""
        for pipe in self.pipes:
            pipe.send("count")
        return sum(pipe.recv() for pipe in self.pipes)


@contextmanager
def portals(connections: int, companies: int, latency_s: float) -> Iterator[Portals]:
    """One freshly seeded HubSpot server process per connection."""
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for number in range(connections):
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, companies, latency_s, number), daemon=True)
        process.start()
        pipes.append(parent)
        processes.append(process)
    try:
        yield Portals([pipe.recv() for pipe in pipes], pipes)
    finally:
        for pipe, process in zip(pipes, processes, strict=True):
            pipe.send("stop")
            process.join(10)


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"warden_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as db:
            db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_policy(folder: Path, connections: int) -> tuple[Path, list[str]]:
    """The packaged policy's rules for ``connections`` portals (no digests: no mail server here), and its jobs."""
    policy = yaml.safe_load(PACKAGED_POLICY.read_text())
    policy.pop("digest", None)
    policy["limits"] = {"max_actions": 10**9}  # measure the whole apply: no blast-radius hold on a generated org
    policy["connections"] = [{"name": f"c{i:02d}", "crm": "hubspot", "env_prefix": f"C{i:02d}_"}
                             for i in range(connections)]
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    jobs = list(dict.fromkeys(j.job for j in job_table(load_policy(path), "hubspot")))
    return path, jobs


def connection_env(urls: list[str], database_url: str, policy: Path) -> dict[str, str]:
    env = {"WARDEN_DATABASE_URL": database_url, "WARDEN_POLICY": str(policy), "WARDEN_APPLY": "true"}
    for i, url in enumerate(urls):
        env |= {f"C{i:02d}_API_BASE": url, f"C{i:02d}_ACCESS_TOKEN": "test-token", f"C{i:02d}_BURST_LIMIT": "10000"}
    return env


@dataclass
class PassCalls:
    """API calls of one pass of every job over the unchanged portals, all connections together."""

    each_job_syncs: int
    one_sync_per_pass: int
    connections: int
    jobs: int

    def line(self) -> str:
        per = self.connections * self.jobs
        return (f"pass over unchanged portals ({self.jobs} jobs x {self.connections} connections): "
                f"each job syncing for itself {self.each_job_syncs} calls ({self.each_job_syncs / per:.1f} per job), "
                f"one sync per pass {self.one_sync_per_pass} calls "
                f"({self.one_sync_per_pass / self.connections:.1f} per connection, 7 object types); "
                f"{self.each_job_syncs / max(self.one_sync_per_pass, 1):.1f}x fewer")


def run_single(env: dict[str, str], records: int, served: Portals) -> tuple[Result, PassCalls]:
    """The cold pass (timed), then passes over the unchanged portals: each job syncing for itself, then the worker's."""
    os.environ.update(env)
    settings = Settings()
    engine, sessions = open_store(settings)
    runner = build_runner(settings, engine, sessions, apply=True, shutdown=ShutdownFlag(), progress=NO_PROGRESS)
    outcomes: list[JobOutcome] = []
    later = [timedelta(0)]
    keeper = policy_keeper(settings)
    worker = Worker(keeper, runner, Heartbeat(sessions, utc_now), lambda: utc_now() + later[0],
                    on_outcome=outcomes.append)
    start = time.perf_counter()
    worker.tick()
    seconds = time.perf_counter() - start
    result = Result("one worker process", seconds, len(outcomes), sum(o.seconds for o in outcomes), 1, records,
                    _count(o.status for o in outcomes))
    later[0] = timedelta(days=7)  # every job due again
    worker.tick()  # unmeasured: the first incremental syncs also read the portals' archived lists
    loaded = keeper.refresh()
    before = served.calls()
    for scheduled in loaded.jobs:  # the way before one sync per pass: every job syncs its connection
        runner.run(scheduled.job, scheduled.connection, loaded.policy, utc_now() + later[0])
    each_job = served.calls() - before
    later[0] = timedelta(days=14)
    before = served.calls()
    worker.tick()
    calls = PassCalls(each_job, served.calls() - before, len(served.urls), len({j.job for j in loaded.jobs}))
    engine.dispose()
    return result, calls


def run_celery(env: dict[str, str], connections: int, jobs: list[str], processes: int, records: int) -> Result:
    from jobs.celery_app import app

    queue = f"warden-bench-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jobs.celery_app", "worker", f"--concurrency={processes}",
         "-Q", queue, "--without-mingle", "--without-gossip", "--loglevel=WARNING"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while not app.control.ping(timeout=0.5):
            time.sleep(0.2)
        start = time.perf_counter()
        flows = [connection_flow(app, f"c{i:02d}", jobs, utc_now(), queue=queue).apply_async()
                 for i in range(connections)]
        outcomes = [o for last in flows for o in _flow_results(last)]
        seconds = time.perf_counter() - start
        del flows
        gc.collect()  # let pending results unregister while the interpreter is still whole
    finally:
        worker.terminate()
        worker.wait(60)
    return Result(f"celery x{processes} processes", seconds, len(outcomes), sum(o["seconds"] for o in outcomes),
                  processes, records, _count(o["status"] for o in outcomes))


def _flow_results(last: Any) -> list[dict[str, Any]]:
    """Outcomes of a flow (syncs, then jobs), first task first."""
    results: list[dict[str, Any]] = []
    node = last
    while node is not None:
        value = node.get(timeout=3600, propagate=True)
        results[:0] = value if isinstance(node, GroupResult) else [value]
        node = node.parent
    return results


def _count(statuses: Iterator[str] | Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def bench(connections: int, records: int, latency_ms: float, processes: int) -> list[Result]:
    companies = max(records // 3, 1)
    total = connections * companies * 3
    results = []
    with tempfile.TemporaryDirectory() as folder:
        policy, jobs = write_policy(Path(folder), connections)
        print(f"jobs per connection: {', '.join(jobs)}", flush=True)
        with portals(connections, companies, latency_ms / 1000) as served, fresh_database() as url:
            single, calls = run_single(connection_env(served.urls, url, policy), total, served)
            results.append(single)
            print(results[-1].line(), flush=True)
            print(calls.line(), flush=True)
        with portals(connections, companies, latency_ms / 1000) as served, fresh_database() as url:
            results.append(run_celery(connection_env(served.urls, url, policy), connections, jobs, processes, total))
            print(results[-1].line(), flush=True)
    return results


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 20 connections x 20,000 records")
    parser.add_argument("--latency-ms", type=float, default=80, help="round trip of every API call")
    parser.add_argument("--processes", type=int, default=4, help="Celery worker processes")
    args = parser.parse_args(argv)
    connections = max(round(20 * args.scale), 1)
    records = max(round(20_000 * args.scale), 30)
    print(f"worker bench: {connections} HubSpot connections x {records:,} records (companies, deals, tasks), "
          f"latency {args.latency_ms:g} ms, every rule, applying")
    results = bench(connections, records, args.latency_ms, args.processes)
    print(f"speed-up: {results[0].seconds / results[1].seconds:.2f}x")
    return results


if __name__ == "__main__":
    main()
