"""Benchmark the mirror sync on the embedded CRM: first sync, a sync after 1% changed, and the naive way.

    python -m bench.sync_local                          # 300,000 accounts, 1,000,000 opportunities, 3,000,000 tasks
    python -m bench.sync_local --scale 0.01             # a hundredth of that
    python -m bench.sync_local --records 1000000        # one million records in the same proportions
    python -m bench.sync_local --records 1000000 --database postgresql   # the mirror on PostgreSQL

Each phase runs in its own child process, so its peak memory (maxrss) is its own. The naive way is
what a tool without watermarks pays on every run: re-read and re-write everything. The old path is
the first sync as the mirror wrote it before the bulk ingest (SQLAlchemy's upsert with its type
processing, 2,000 records a transaction, no read-ahead), run in the same process on the same org;
``--old-path skip`` prints its recorded figures instead (it takes hours at ten million records).

A sync's time includes the embedded CRM's own work: its SQLite query and the decoding of its rows
into records, which a real CRM does on its own servers while the mirror waits on the network. The
``ingest/s`` column leaves out the time the sync waited for the CRM's records (``SyncReport.
waited_on_crm_seconds``): the mirror's own rate. A SQLite mirror's sync reads in its own thread, so
that is the reads' time; a PostgreSQL mirror's reads in a read-ahead thread while it writes, so it is
the time the writer waited for the next chunk, and the writer's own time still carries what the
reading thread cost it on two cores (the GIL).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count, islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import delete, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bench.databases import database as bench_database
from connectors.local import LocalCRM
from demo.scaled import seed_scaled
from domain.connector import RecordUpdate
from domain.records import ObjectType, Owner, Record
from store import mirror
from store.db import make_engine, migrate
from store.ingest import COLUMNS, table_of
from store.models import Base, WatermarkRow
from store.watermarks import set_watermark

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
OLD_PATH_RECORDED = ((86_017, 19_500), (860_017, 16_700), (4_300_017, 4_600))
"""(records, records/s) of the old path's first sync, measured on this machine before the bulk ingest (issue 17)."""
OLD_CHUNK = 2000
READ_BATCH = 500


@dataclass(frozen=True)
class Phase:
    name: str
    records: int
    """Records read from the CRM (written, for the seed and change phases)."""
    seconds: float
    api_calls: dict[str, int] = field(default_factory=dict)
    start_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of the phase's process (all its threads): on a shared machine, what the work itself cost."""
    read_seconds: float = 0.0
    """Of ``seconds``, the time the sync waited for the connector's records (0: not measured)."""

    @property
    def ingest_rate(self) -> float | None:
        """Records per second of the sync's own work, the connector's reads left out."""
        own = self.seconds - self.read_seconds
        return self.records / own if self.read_seconds and own > 0 else None

    def line(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        calls = ", ".join(f"{k} {v:,}" for k, v in self.api_calls.items()) or "-"
        ingest = f"{self.ingest_rate:>11,.0f}" if self.ingest_rate else f"{'-':>11}"
        return (f"{self.name:<20} {self.records:>11,} {self.seconds:>9.1f} {rate:>11,.0f} {ingest} "
                f"{self.cpu_seconds:>8.1f}  {self.peak_rss_mb:>8.0f} ({self.start_rss_mb:.0f})  {calls}")


HEADER = (f"{'phase':<20} {'records':>11} {'seconds':>9} {'records/s':>11} {'ingest/s':>11} {'CPU s':>8}  "
          f"{'peak MB (start)':>16}  API calls")


class CountingReader:
    """Passes a connector's reads through, counting the records it hands over and timing its reads (the old
    path's: it reads in its own thread; the sync reports its own waits)."""

    def __init__(self, crm: LocalCRM) -> None:
        self.crm = crm
        self.records = 0
        self.read_seconds = 0.0
        self.reads_over_network = crm.reads_over_network

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        records = self.crm.iter_changed(object_type, since)
        while True:  # timed a batch at a time: a clock read per record would cost more than it measures
            started = time.perf_counter()
            batch = list(islice(records, READ_BATCH))
            self.read_seconds += time.perf_counter() - started
            if not batch:
                return
            self.records += len(batch)
            yield from batch

    def owners(self) -> list[Owner]:
        started = time.perf_counter()
        owners = self.crm.owners()
        self.read_seconds += time.perf_counter() - started
        self.records += len(owners)
        return owners


def sizes_at(scale: float) -> dict[ObjectType, int]:
    return {obj: max(1, round(n * scale)) for obj, n in FULL_SIZE.items()}


def scale_for(records: int) -> float:
    """The scale whose org holds ``records`` records in all."""
    return records / sum(FULL_SIZE.values())


def run_benchmark(
    workdir: Path, scale: float, changed_share: float = 0.01, *, url: str | None = None, old_path: bool = True
) -> Iterator[Phase]:
    """Seed, first sync, change a share of every object through the connector, sync again, then naive.

    ``url`` is the mirror's database (default: a SQLite file in ``workdir``); with ``old_path`` the
    old path's first sync runs too, into a mirror of its own.
    """
    sizes = sizes_at(scale)
    if url is None:  # an earlier run's mirror would make the first sync an incremental one
        for leftover in workdir.glob("mirror*.db*"):
            leftover.unlink()
        url = f"sqlite:///{workdir / 'mirror.db'}"
    if not (workdir / "crm.db").exists():
        yield _in_child(_seed, workdir, sizes)
    yield _in_child(_sync, workdir, url, "first sync", False)
    if old_path:
        yield _in_child(_old_first_sync, workdir, _sibling(url))
    yield _in_child(_change, workdir, sizes, changed_share)
    yield _in_child(_sync, workdir, url, f"{changed_share:.0%} changed sync", False)
    yield _in_child(_sync, workdir, url, "naive full re-read", True)


def _sibling(url: str) -> str:
    """A second, empty mirror beside ``url`` for the old path (same database server, another schema or file)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url.replace(".db", "-old-path.db")
    return url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dold_path"


def _in_child(phase: Callable[..., Phase], *args: Any) -> Phase:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as pool:
        return pool.submit(_measured, phase, *args).result()


def _measured(phase: Callable[..., Phase], *args: Any) -> Phase:
    start_rss, start_cpu = _max_rss_mb(), _cpu_seconds()
    result = phase(*args)
    return Phase(result.name, result.records, result.seconds, result.api_calls, start_rss, _max_rss_mb(),
                 _cpu_seconds() - start_cpu, result.read_seconds)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


def _sync(workdir: Path, url: str, name: str, forget_watermarks: bool) -> Phase:
    crm = _crm(workdir)
    engine = make_engine(url)
    migrate(engine)
    if forget_watermarks:
        with engine.begin() as connection:
            connection.execute(delete(WatermarkRow).where(WatermarkRow.connection == CONNECTION))
    reader = CountingReader(crm)
    report = mirror.sync(reader, engine, CONNECTION)
    engine.dispose()
    crm.close()
    return Phase(name, reader.records, report.elapsed_seconds, crm.usage.as_dict(),
                 read_seconds=report.waited_on_crm_seconds)


def _old_first_sync(workdir: Path, url: str) -> Phase:
    """The first sync as the mirror wrote it before the bulk ingest, for the comparison."""
    crm = _crm(workdir)
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("CREATE SCHEMA IF NOT EXISTS old_path"))
    Base.metadata.create_all(engine)
    reader = CountingReader(crm)
    sessions = sessionmaker(engine)
    started = time.perf_counter()
    _old_owners(sessions, reader.owners())
    for obj in (o for o in ObjectType if o is not ObjectType.OWNER):
        newest = None
        changes = reader.iter_changed(obj, None)
        while chunk := list(islice(changes, OLD_CHUNK)):
            with sessions.begin() as session:
                _old_upsert(session, obj, chunk)
                newest = max(r.updated_at for r in chunk if r.updated_at is not None)
                set_watermark(session, CONNECTION, obj, newest, datetime.now(UTC))
    seconds = time.perf_counter() - started
    engine.dispose()
    crm.close()
    return Phase("old path first sync", reader.records, seconds, crm.usage.as_dict(), read_seconds=reader.read_seconds)


def _old_owners(sessions: sessionmaker[Session], owners: list[Owner]) -> None:
    with sessions.begin() as session:
        _old_upsert(session, ObjectType.OWNER, owners)


def _old_upsert(session: Session, obj: ObjectType, chunk: Sequence[Record]) -> None:
    """The old writer: a SQLAlchemy ``INSERT .. ON CONFLICT`` with its per-value type processing."""
    table = table_of(obj)
    latest = {r.id: r for r in chunk}
    rows = [{"connection": CONNECTION, **{n: getattr(r, n) for n in COLUMNS[obj]}} for r in latest.values()
            if not r.deleted]
    insert = sqlite.insert(table) if session.get_bind().dialect.name == "sqlite" else postgresql.insert(table)
    key = ["connection", "id"]
    changed = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in key}
    if rows:
        session.execute(insert.on_conflict_do_update(index_elements=key, set_=changed), rows)


def _change(workdir: Path, sizes: dict[ObjectType, int], share: float) -> Phase:
    ticks = count()
    # after any change an earlier run in a kept folder made, or the sync would find them all older than its watermark
    start = max(CHANGED_FROM, datetime.now(UTC))
    crm = _crm(workdir, clock=lambda: start + timedelta(milliseconds=next(ticks)))
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
    parser.add_argument("--records", type=int, help="records in all, in the full-size org's proportions "
                        "(overrides --scale)")
    parser.add_argument("--workdir", type=Path, help="keep the CRM and mirror files here (default: a temp dir); "
                        "a CRM already there is reused, a mirror is not")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the mirror's database (postgresql: a fresh database on WARDEN_TEST_POSTGRES_URL)")
    parser.add_argument("--old-path", choices=("run", "skip"), default="run",
                        help="run the old ingest path for the comparison, or print its recorded figures")
    args = parser.parse_args(argv)
    scale = scale_for(args.records) if args.records else args.scale
    sizes = ", ".join(f"{n:,} {PLURAL[obj]}" for obj, n in sizes_at(scale).items())
    print(f"Org: {sizes}; mirror on {args.database}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores at the start")
    with tempfile.TemporaryDirectory(prefix="warden-bench-") as temp, _mirror_url(args.database, Path(temp)) as url:
        workdir = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(HEADER)
        phases = []
        for phase in run_benchmark(workdir, scale, url=url, old_path=args.old_path == "run"):
            print(phase.line(), flush=True)
            phases.append(phase)
    by_name = {p.name: p for p in phases}
    _compare(by_name)
    changed, incremental = by_name["change via CRM"].records, phases[-2].records
    print(f"The {phases[-2].name} read {incremental:,} records for {changed:,} changed "
          f"(owners are re-read in full; records at the watermark instant are read again). "
          f"Load average at the end {os.getloadavg()[0]:.1f}.")
    return phases


def _compare(phases: dict[str, Phase]) -> None:
    first = phases["first sync"]
    rate = first.records / first.seconds
    old = phases.get("old path first sync")
    per_cpu = f"{first.records / first.cpu_seconds:,.0f} records per CPU second" if first.cpu_seconds else ""
    ingest = f", ingest {first.ingest_rate:,.0f} records/s without waiting for the CRM" if first.ingest_rate else ""
    if old is not None:
        print(f"first sync: {rate:,.0f} records/s ({per_cpu}{ingest}); old path {old.records / old.seconds:,.0f} "
              f"records/s ({old.records / old.cpu_seconds:,.0f} per CPU second) in the same run: "
              f"{old.seconds / first.seconds:.2f}x its rate")
        return
    recorded = ", ".join(f"{n:,} records: {r:,} records/s" for n, r in OLD_PATH_RECORDED)
    print(f"first sync: {rate:,.0f} records/s ({per_cpu}{ingest}); the old path, as recorded before (not run): "
          f"{recorded}")


@contextmanager
def _mirror_url(database: str, workdir: Path) -> Iterator[str | None]:
    """None for SQLite (a file in the work folder), else a fresh PostgreSQL database, dropped afterwards."""
    if database == "sqlite":
        yield None
        return
    with bench_database(database, workdir) as url:
        yield url


if __name__ == "__main__":
    main()
