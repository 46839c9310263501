"""Benchmark the Salesforce connector against the local HTTPS fake with a realistic round trip.

    python -m bench.salesforce_sync                                  # 200,000 records, 80 ms, 10,000 updates
    python -m bench.salesforce_sync --records 20000 --updates 2000   # smaller
    python -m bench.salesforce_sync --bulk-threshold 10000           # first sync through Bulk API 2.0
    python -m bench.salesforce_sync --records 1000000 --bulk-threshold 10000 --database postgresql

Phases: a first sync of every object into the mirror, a sync after 1% of the org changed, and 10,000
owner updates. Each reports the API calls it spent against the minimum the API allows (every query's
first page five to a composite call, then 2,000-record pages; 200-record sObject Collections writes)
and the naive way (one call per record; for updates measured on a sample and extrapolated), records
per second, and the process's peak memory.
The org lives in a child process so its rows do not count. The first sync without bulk (REST pages
one after another) was the path before bulk: run the same size with ``--bulk-threshold 0`` beside it.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench import salesforce_org
from bench.databases import KINDS
from bench.databases import database as bench_database
from connectors.salesforce import SalesforceConnector, SalesforceSettings
from domain.connector import RecordUpdate
from domain.records import ObjectType
from store import mirror
from store.db import make_engine, migrate

PAGE, BATCH, COMPOSITE_QUERIES = 2000, 200, 5
OBJECTS = (ObjectType.ACCOUNT, ObjectType.CONTACT, ObjectType.LEAD, ObjectType.OPPORTUNITY, ObjectType.TASK)
OWNER_QUERIES = 2
"""Users and queues: one query each."""
CONNECTION = "sf"
HISTORY_QUERIES = 1
"""OpportunityHistory since the last sync (one page here, in the composite calls), for the stage history."""


@dataclass(frozen=True)
class Phase:
    name: str
    records: int
    calls: dict[str, int]
    minimum: int
    naive: int
    seconds: float
    peak_mb: float
    naive_seconds: float | None = None

    @property
    def spent(self) -> int:
        return sum(self.calls.values())

    def line(self) -> str:
        over = (self.spent - self.minimum) / self.minimum if self.minimum else 0.0
        naive_time = f"{self.naive_seconds:,.0f}" if self.naive_seconds is not None else "-"
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.calls.items()))
        rate = self.records / self.seconds if self.seconds else 0.0
        return (f"{self.name:<16} {self.records:>9,} {self.spent:>7,} {self.minimum:>7,} {over:>6.1%} "
                f"{self.naive:>9,} {self.seconds:>8.1f} {rate:>10,.0f} {naive_time:>9} {self.peak_mb:>8.1f}  {kinds}")


HEADER = (f"{'phase':<16} {'records':>9} {'calls':>7} {'minimum':>7} {'over':>6} {'naive':>9} {'seconds':>8} "
          f"{'records/s':>10} {'naive s':>9} {'peak MB':>8}  calls by kind")


def measured(name: str, sf: SalesforceConnector, work: Callable[[], tuple[int, int, int]]) -> Phase:
    """Run ``work`` (returning records, minimum calls, naive calls) and record calls, time and peak memory."""
    before = dict(sf.usage.calls)
    started = time.perf_counter()
    records, minimum, naive = work()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    spent = {k: v - before.get(k, 0) for k, v in sf.usage.calls.items() if v - before.get(k, 0)}
    return Phase(name, records, spent, minimum, naive, seconds, peak)


class Run:
    def __init__(self, sf: SalesforceConnector, keep_leads: int, engine: Engine) -> None:
        self.sf = sf
        self.keep_leads = keep_leads
        self.engine = engine
        self.lead_ids: list[str] = []

    def sync(self, since_watermark: bool, expected: dict[str, int]) -> tuple[int, int, int]:
        report = mirror.sync(self.sf, self.engine, CONNECTION, (ObjectType.OWNER, *OBJECTS))
        records = sum(c.upserted + c.deleted for c in report.objects.values())
        if not since_watermark:
            with Session(self.engine) as session:
                leads = mirror.iter_records(session, CONNECTION, ObjectType.LEAD)
                self.lead_ids = [lead.id for lead, _ in zip(leads, range(self.keep_leads), strict=False)]
        first_pages = math.ceil((OWNER_QUERIES + len(OBJECTS) + HISTORY_QUERIES) / COMPOSITE_QUERIES)
        minimum = first_pages + sum(max(0, math.ceil(n / PAGE) - 1) for n in expected.values())
        return records, minimum, sum(expected.values())

    def updates(self, count: int, owner_id: str, offset: int = 0) -> list[RecordUpdate]:
        ids = self.lead_ids[offset : offset + count]
        return [RecordUpdate(f"bench:{i}", ObjectType.LEAD, i, {"owner_id": owner_id}) for i in ids]

    def apply(self, updates: Sequence[RecordUpdate]) -> tuple[int, int, int]:
        failed = [r for r in self.sf.update(updates) if not r.ok]
        if failed:
            raise SystemExit(f"{len(failed)} updates failed, first: {failed[0].error}")
        return len(updates), math.ceil(len(updates) / BATCH), len(updates)

    def naive_apply(self, updates: Sequence[RecordUpdate]) -> tuple[int, int, int]:
        for update in updates:
            self.apply([update])
        return len(updates), len(updates), len(updates)


def connect(info: dict[str, Any], bulk_threshold: int) -> SalesforceConnector:
    http = requests.Session()
    http.trust_env, http.verify = False, info["bundle"]
    settings = SalesforceSettings(login_url=info["url"], client_id=info["client_id"],
                                  client_secret=info["client_secret"], bulk_threshold=bulk_threshold)
    return SalesforceConnector.from_settings(settings, http=http)


def run_benchmark(
    records: int, latency: float, updates: int, naive_sample: int, changed: float, bulk_threshold: int = 0,
    database: str = "sqlite",
) -> list[Phase]:
    with tempfile.TemporaryDirectory() as folder, bench_database(database, Path(folder)) as url:
        engine = make_engine(url)
        migrate(engine)
        try:
            return _run(records, latency, updates, naive_sample, changed, bulk_threshold, engine)
        finally:
            engine.dispose()


def _run(records: int, latency: float, updates: int, naive_sample: int, changed: float, bulk_threshold: int,
         engine: Engine) -> list[Phase]:
    context = get_context("spawn")
    pipe, child_end = context.Pipe()
    child = context.Process(target=salesforce_org.run, args=(child_end, records, latency), daemon=True)
    child.start()
    try:
        info = pipe.recv()
        sf, sizes = connect(info, bulk_threshold), info["sizes"]
        run = Run(sf, keep_leads=updates + naive_sample, engine=engine)
        phases = [measured("first sync", sf, lambda: run.sync(False, sizes))]
        pipe.send(("touch", changed))
        touched = round(pipe.recv())
        per_object = {s: max(1, round(n * changed)) for s, n in sizes.items()}
        phases.append(measured(f"{changed:.0%} changed sync", sf, lambda: run.sync(True, per_object)))
        owner = next(o.id for o in sf.owners() if not o.is_queue)
        phases.append(measured(f"{updates:,} updates", sf, lambda: run.apply(run.updates(updates, owner))))
        sample = run.updates(naive_sample, owner, offset=updates)
        naive = measured("naive sample", sf, lambda: run.naive_apply(sample))
        per_call = naive.seconds / max(1, len(sample))
        phases[-1] = Phase(**{**phases[-1].__dict__, "naive_seconds": per_call * updates})
        print(f"org: {sum(sizes.values()):,} records {sizes}; {touched:,} changed; latency {latency * 1000:.0f} ms")
        return [*phases, naive]
    finally:
        pipe.send(("stop", None))
        pipe.recv()
        child.join(timeout=30)


def main(argv: Sequence[str] | None = None) -> list[Phase]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000, help="records across the objects")
    parser.add_argument("--latency-ms", type=float, default=80.0, help="round trip added to every request")
    parser.add_argument("--updates", type=int, default=10_000, help="owner updates to apply")
    parser.add_argument("--naive-sample", type=int, default=200, help="updates sent one call each")
    parser.add_argument("--changed", type=float, default=0.01, help="share of the org changed before the resync")
    parser.add_argument("--bulk-threshold", type=int, default=0,
                        help="first-sync objects this large go through Bulk API 2.0 (0: REST paging only)")
    parser.add_argument("--database", choices=KINDS, default="sqlite", help="the mirror's database")
    args = parser.parse_args(argv)
    print(f"mirror on {args.database}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start")
    phases = run_benchmark(args.records, args.latency_ms / 1000, args.updates, args.naive_sample, args.changed,
                           args.bulk_threshold, args.database)
    print(HEADER)
    for phase in phases:
        print(phase.line())
    return phases


if __name__ == "__main__":
    main()
