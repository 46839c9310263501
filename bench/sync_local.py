"""Benchmark the mirror sync on the embedded CRM: first sync, a sync after 1% changed, and the naive way.

    python -m bench.sync_local                 # 300,000 accounts, 1,000,000 opportunities, 3,000,000 tasks
    python -m bench.sync_local --scale 0.01    # a hundredth of that

Each phase runs in its own child process, so its peak memory (maxrss) is its own. The naive way is
what a tool without watermarks pays on every run: re-read and re-write everything.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count, islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from connectors.local import LocalCRM
from demo.scaled import seed_scaled
from domain.connector import RecordUpdate
from domain.records import ObjectType, Owner, Record
from store import mirror
from store.db import make_engine, migrate
from store.models import WatermarkRow

FULL_SIZE = {ObjectType.ACCOUNT: 300_000, ObjectType.OPPORTUNITY: 1_000_000, ObjectType.TASK: 3_000_000}
PLURAL = {ObjectType.ACCOUNT: "accounts", ObjectType.OPPORTUNITY: "opportunities", ObjectType.TASK: "tasks"}
ID_PREFIX = {ObjectType.ACCOUNT: "acc", ObjectType.OPPORTUNITY: "opp", ObjectType.TASK: "tsk"}
CHANGES: dict[ObjectType, dict[str, Any]] = {
    ObjectType.ACCOUNT: {"phone": "+1 555 0100"},
    ObjectType.OPPORTUNITY: {"amount": 4200.0},
    ObjectType.TASK: {"priority": "high"},
}
SEEDED_AT = datetime(2026, 5, 4, 12, tzinfo=UTC)
CHANGED_FROM = SEEDED_AT + timedelta(days=1)
CONNECTION = "local"
UPDATE_CHUNK = 10_000


@dataclass(frozen=True)
class Phase:
    name: str
    records: int
    """Records read from the CRM (written, for the seed and change phases)."""
    seconds: float
    api_calls: dict[str, int] = field(default_factory=dict)
    start_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0

    def line(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        calls = ", ".join(f"{k} {v:,}" for k, v in self.api_calls.items()) or "-"
        return (f"{self.name:<18} {self.records:>11,} {self.seconds:>9.1f} {rate:>11,.0f}  "
                f"{self.peak_rss_mb:>8.0f} ({self.start_rss_mb:.0f})  {calls}")


HEADER = f"{'phase':<18} {'records':>11} {'seconds':>9} {'records/s':>11}  {'peak MB (start)':>16}  API calls"


class CountingReader:
    """Passes a connector's reads through, counting the records it hands over."""

    def __init__(self, crm: LocalCRM) -> None:
        self.crm = crm
        self.records = 0

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        for record in self.crm.iter_changed(object_type, since):
            self.records += 1
            yield record

    def owners(self) -> list[Owner]:
        owners = self.crm.owners()
        self.records += len(owners)
        return owners


def sizes_at(scale: float) -> dict[ObjectType, int]:
    return {obj: max(1, round(n * scale)) for obj, n in FULL_SIZE.items()}


def run_benchmark(workdir: Path, scale: float, changed_share: float = 0.01) -> Iterator[Phase]:
    """Seed, first sync, change a share of every object through the connector, sync again, then naive."""
    sizes = sizes_at(scale)
    yield _in_child(_seed, workdir, sizes)
    yield _in_child(_sync, workdir, "first sync", False)
    yield _in_child(_change, workdir, sizes, changed_share)
    yield _in_child(_sync, workdir, f"{changed_share:.0%} changed sync", False)
    yield _in_child(_sync, workdir, "naive full re-read", True)


def _in_child(phase: Callable[..., Phase], *args: Any) -> Phase:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as pool:
        return pool.submit(_measured, phase, *args).result()


def _measured(phase: Callable[..., Phase], *args: Any) -> Phase:
    start_rss = _max_rss_mb()
    result = phase(*args)
    return Phase(result.name, result.records, result.seconds, result.api_calls, start_rss, _max_rss_mb())


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _crm(workdir: Path, clock: Callable[[], datetime] = lambda: SEEDED_AT) -> LocalCRM:
    return LocalCRM(workdir / "crm.db", clock=clock)


def _seed(workdir: Path, sizes: dict[ObjectType, int]) -> Phase:
    crm = _crm(workdir)
    started = time.perf_counter()
    seed_scaled(crm, accounts=sizes[ObjectType.ACCOUNT], opportunities=sizes[ObjectType.OPPORTUNITY],
                tasks=sizes[ObjectType.TASK], now=SEEDED_AT)
    crm.close()
    return Phase("seed CRM", sum(sizes.values()), time.perf_counter() - started)


def _sync(workdir: Path, name: str, forget_watermarks: bool) -> Phase:
    crm = _crm(workdir)
    engine = make_engine(f"sqlite:///{workdir / 'mirror.db'}")
    migrate(engine)
    if forget_watermarks:
        with engine.begin() as connection:
            connection.execute(delete(WatermarkRow).where(WatermarkRow.connection == CONNECTION))
    reader = CountingReader(crm)
    report = mirror.sync(reader, engine, CONNECTION)
    engine.dispose()
    crm.close()
    return Phase(name, reader.records, report.elapsed_seconds, crm.usage.as_dict())


def _change(workdir: Path, sizes: dict[ObjectType, int], share: float) -> Phase:
    ticks = count()
    crm = _crm(workdir, clock=lambda: CHANGED_FROM + timedelta(milliseconds=next(ticks)))
    started = time.perf_counter()
    changed = 0
    for obj, size in sizes.items():
        updates = _updates(obj, size, share)
        while chunk := list(islice(updates, UPDATE_CHUNK)):
            changed += sum(result.ok for result in crm.update(chunk))
    crm.close()
    return Phase("change via CRM", changed, time.perf_counter() - started, crm.usage.as_dict())


def _updates(obj: ObjectType, size: int, share: float) -> Iterator[RecordUpdate]:
    """Every k-th record of a type, spread evenly over the ids, so ``share`` of them change."""
    step = max(1, round(1 / share))
    for n in range(step, size + 1, step):
        record_id = f"{ID_PREFIX[obj]}-{n:09d}"
        yield RecordUpdate(key=f"bench:{record_id}", object_type=obj, record_id=record_id, fields=CHANGES[obj])


def main(argv: Sequence[str] | None = None) -> list[Phase]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full-size org (default 1)")
    parser.add_argument("--workdir", type=Path, help="keep the CRM and mirror files here (default: a temp dir)")
    args = parser.parse_args(argv)
    sizes = ", ".join(f"{n:,} {PLURAL[obj]}" for obj, n in sizes_at(args.scale).items())
    print(f"Org: {sizes}")
    with tempfile.TemporaryDirectory(prefix="warden-bench-") as temp:
        workdir = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(HEADER)
        phases = []
        for phase in run_benchmark(workdir, args.scale):
            print(phase.line(), flush=True)
            phases.append(phase)
    changed, incremental = phases[2].records, phases[3].records
    print(f"The {phases[3].name} read {incremental:,} records for {changed:,} changed "
          f"(owners are re-read in full; records at the watermark instant are read again).")
    return phases


if __name__ == "__main__":
    main()
