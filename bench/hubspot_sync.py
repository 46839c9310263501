"""Benchmark the HubSpot connector against the local server enforcing a portal's rate limit.

The server runs in its own process with N companies, N deals and N tasks (each deal on a company,
each task on a deal and a company), enforces a rolling burst limit (100 requests per 10 s, scaled
down in time by ``--scale`` so the run is short: the ratios are what count) and the search API's
5 per second, and answers after a simulated network latency (scaled likewise). Three phases:
first sync, a sync after 1% of every type changed, and 10,000 deal updates. For each: calls
spent against the minimum the API allows, requests per second against the limit, 429s received.

    .venv/bin/python -m bench.hubspot_sync                      # 100,000 of each, 100 req/s
    .venv/bin/python -m bench.hubspot_sync --records 10000      # smaller
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from connectors.hubspot import HubSpotConnector
from connectors.hubspot._http import HubSpotHttp
from connectors.hubspot._ratelimit import RateLimiter
from domain.connector import ApiUsage, RecordUpdate
from domain.records import ObjectType
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.seed import seed
from tests.servers.hubspot.server import HubSpotServer, Limits

SYNCED = (ObjectType.ACCOUNT, ObjectType.OPPORTUNITY, ObjectType.TASK)
LINKS = {ObjectType.ACCOUNT: 0, ObjectType.OPPORTUNITY: 1, ObjectType.TASK: 3}
KINDS = ("companies", "deals", "tasks")


@dataclass
class Phase:
    name: str
    records: int
    calls: int
    minimum: int
    seconds: float
    throttled: int
    rate_limit: float
    rss_mb: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        over = 100 * (self.calls - self.minimum) / self.minimum
        return (f"{self.name:<16} {self.records:>8} records  calls {self.calls:>5} / min {self.minimum:>5} "
                f"(+{over:.1f}%)  {self.rate:7.1f} req/s of {self.rate_limit:.0f} "
                f"({100 * self.rate / self.rate_limit:.0f}%)  429s {self.throttled}  {self.seconds:6.1f} s  "
                f"peak rss {self.rss_mb:.0f} MB")


def _serve(pipe: Connection, records: int, limits: Limits, latency_s: float) -> None:
    portal = Portal()
    seeded = seed(portal, records)
    with HubSpotServer(portal, limits, latency_s=latency_s) as server:
        pipe.send(server.url)
        while True:
            command, argument = pipe.recv()
            if command == "stats":
                pipe.send((server.requests(), server.state.throttled))
            elif command == "clock":
                pipe.send(portal.now())
            elif command == "touch":
                step = round(1 / argument)
                for kind, ids in zip(KINDS, (seeded.companies, seeded.deals, seeded.tasks), strict=True):
                    for object_id in ids[::step]:
                        portal.update(kind, object_id, {"hubspot_owner_id": "32900490"})
                pipe.send((seeded.deals, len(seeded.companies[::step])))
            else:
                return


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bench:
    def __init__(self, records: int, scale: float, latency_ms: float, updates: int = 10_000) -> None:
        self.records, self.updates = records, updates
        self.limits = Limits(burst=100, interval_s=10 / scale, search_per_s=5, search_interval_s=1 / scale,
                             daily=10_000_000)
        parent, child = multiprocessing.get_context("fork").Pipe()
        self.pipe = parent
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(child, records, self.limits, latency_ms / scale / 1000), daemon=True)
        self.process.start()
        url = parent.recv()
        limiter = RateLimiter(100, clock=time.monotonic, sleep=time.sleep, interval_s=10 / scale,
                              search_per_s=5, search_interval_s=1 / scale)
        self.connector = HubSpotConnector(HubSpotHttp(url, "test-token", limiter, ApiUsage(), sleep=time.sleep))

    def _ask(self, command: str, argument: Any = None) -> Any:
        self.pipe.send((command, argument))
        return self.pipe.recv()

    def measure(self, name: str, records: int, minimum: int, rate_limit: float, work: Callable[[], Any]) -> Phase:
        calls_before, throttled_before = self._ask("stats")
        start = time.monotonic()
        work()
        seconds = time.monotonic() - start
        calls, throttled = self._ask("stats")
        spent = calls - calls_before + throttled - throttled_before
        return Phase(name, records, spent, minimum, seconds, throttled - throttled_before, rate_limit, _rss_mb())

    def run(self) -> list[Phase]:
        n, burst_rate = self.records, self.limits.burst / self.limits.interval_s

        def first_sync() -> None:
            for object_type in SYNCED:
                for _ in self.connector.iter_changed(object_type, None):
                    pass

        # + deal pipelines, + one page of (no) logged calls, which tasks include
        phases = [self.measure("first sync", 3 * n, 2 + 3 * math.ceil(n / 100), burst_rate, first_sync)]
        since = datetime.fromtimestamp(self._ask("clock") / 1000, UTC)  # seeding ran the portal's clock ahead
        deals, changed = self._ask("touch", 0.01)

        def changed_sync() -> None:
            for object_type in SYNCED:
                for _ in self.connector.iter_changed(object_type, since):
                    pass

        # per type: search pages, association reads, one page of archived records; + calls: search, archived
        minimum = sum(math.ceil(changed / 200) + LINKS[t] * math.ceil(changed / 1000) + 1 for t in SYNCED) + 2
        phases.append(self.measure("1%-changed sync", 3 * changed, minimum, burst_rate, changed_sync))
        updates = [RecordUpdate(f"k{i}", ObjectType.OPPORTUNITY, deals[i % len(deals)], {"amount": 10})
                   for i in range(self.updates)]
        phases.append(self.measure(f"{self.updates:,} updates", len(updates), math.ceil(len(updates) / 100), burst_rate,
                                   lambda: self.connector.update(updates)))
        self.pipe.send(("stop", None))
        self.process.join(timeout=10)
        return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="companies, deals and tasks, each")
    parser.add_argument("--scale", type=float, default=10, help="time speed-up: 10 turns 100/10 s into 100/s")
    parser.add_argument("--latency-ms", type=float, default=50, help="network latency before scaling")
    parser.add_argument("--updates", type=int, default=10_000, help="deal updates in the last phase")
    args = parser.parse_args()
    print(f"HubSpot bench: {args.records:,} companies + deals + tasks, limit 100 per {10 / args.scale:g} s, "
          f"search 5 per {1 / args.scale:g} s, latency {args.latency_ms / args.scale:g} ms")
    for phase in Bench(args.records, args.scale, args.latency_ms, args.updates).run():
        print(phase.line())


if __name__ == "__main__":
    main()
