"""The mirror: an incremental copy of each connection's records, and the readers rules use.

``sync`` pulls only what changed since each object's watermark and commits per chunk together
with the advanced watermark, so an interrupted sync resumes where it stopped and memory stays
flat however large the org is. Chunks are large (``CHUNK_SIZE`` records, one transaction each) and
go through ``store.ingest``, the database's bulk path.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, select
from sqlalchemy.orm import Session, sessionmaker

from domain.activities import Activity
from domain.connector import HistoryReader, KeepsState, Reader, ReadsAhead, reading_traits
from domain.org import Calls
from domain.progress import NO_PROGRESS, Phase, Progress
from domain.records import RECORD_CLASSES, Lead, ObjectType, Opportunity, Owner, Record, Task
from store import aggregates, bulk_indexes, stage_history, statistics
from store.activities import activities_since
from store.changes import note_everything, note_records
from store.collector import collections_every
from store.ingest import COLUMNS, MirrorWriter, table_of
from store.prefetch import chunked, prefetched
from store.read_progress import PageCount, SyncProgress
from store.sync_marks import mark_synced, not_synced_since
from store.watermarks import get_watermark, keep_reader_state, reader_state, set_watermark

CHUNK_SIZE = 20_000
"""Records written per transaction: large enough that commits cost little, small enough to stay flat."""
READ_CHUNK = 2000
OBJECTS_PER_RECORD_IN_FLIGHT = 5
"""Garbage-collected objects alive per record of a chunk, with the read-ahead's chunks and the CRM's page
(``store.collector``): a young collection waits until that many more exist."""


@dataclass
class ObjectCounts:
    upserted: int = 0
    deleted: int = 0


@dataclass
class SyncReport:
    objects: dict[ObjectType, ObjectCounts] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    waited_on_crm_seconds: float = 0.0
    """Of ``elapsed_seconds``, the time the writer waited for the CRM's records: the reads themselves when they
    run in its thread, the waits for the read-ahead thread's next chunk when they do not. The rest is the
    mirror's own work: a slow sync with little waiting is the database's doing, one that mostly waits the CRM's."""

    def as_dict(self) -> dict[str, Any]:
        counts = {str(obj): dataclasses.asdict(c) for obj, c in self.objects.items()}
        return {**counts, "elapsed_seconds": round(self.elapsed_seconds, 3),
                "waited_on_crm_seconds": round(self.waited_on_crm_seconds, 3)}


def sync(
    reader: Reader,
    database: Engine | sessionmaker[Session],
    connection: str,
    objects: Sequence[ObjectType] = tuple(ObjectType),
    *,
    chunk_size: int = CHUNK_SIZE,
    clock: Callable[[], float] = time.perf_counter,
    fresh_since: datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> SyncReport:
    """Bring the mirror of ``connection`` up to date with what ``reader`` reports changed.

    ``fresh_since``: skip the types whose latest complete sync started at or after this moment
    (``store.sync_marks``), without a call to the CRM when every type is that fresh. ``progress``
    hears of each object type as a phase: records written, and records and pages read as they
    arrive (pages: the reader's read calls, when it counts them; ``store.read_progress``).
    """
    sessions = database if isinstance(database, sessionmaker) else sessionmaker(database)
    started = clock()
    began = datetime.now(UTC)
    report = SyncReport()
    if fresh_since is not None:
        with sessions() as session:
            objects = not_synced_since(session, connection, objects, fresh_since)
        if not objects:
            report.elapsed_seconds = clock() - started
            return report
    if isinstance(reader, KeepsState):
        with sessions() as session:
            reader.resume_state(reader_state(session, connection))
    if isinstance(reader, ReadsAhead):
        with sessions() as session:
            since: dict[ObjectType, datetime | None] = {
                obj: get_watermark(session, connection, obj) for obj in objects if obj is not ObjectType.OWNER}
            history_since = {obj: stage_history.crm_history_since(session, connection, obj)
                             for obj in objects if obj in stage_history.TRACKED and isinstance(reader, HistoryReader)}
        reader.read_ahead(since, history_since)
    read_up_to: list[datetime] = []
    """Watermarks of the types this sync read before: how far the CRM's own clock had come."""
    with collections_every(chunk_size * OBJECTS_PER_RECORD_IN_FLIGHT):
        for obj in objects:
            with progress.phase(f"sync {obj.value}") as phase:
                report.objects[obj] = _sync_object(sessions, reader, connection, obj, chunk_size, read_up_to, phase,
                                                   report)
            with sessions.begin() as session:
                mark_synced(session, connection, obj, began)
    if isinstance(reader, KeepsState) and (kept := reader.saved_state()):
        with sessions.begin() as session:
            keep_reader_state(session, connection, kept, datetime.now(UTC))
    report.elapsed_seconds = clock() - started
    return report


def _sync_object(
    sessions: sessionmaker[Session], reader: Reader, connection: str, obj: ObjectType, chunk_size: int,
    read_up_to: list[datetime], phase: Phase, report: SyncReport,
) -> ObjectCounts:
    if obj is ObjectType.OWNER:
        pages = PageCount(reader)
        started = time.perf_counter()
        owners = reader.owners()
        report.waited_on_crm_seconds += time.perf_counter() - started
        counts = _sync_owners(sessions, owners, connection)
        phase.update(counts.upserted + counts.deleted, pages=pages.read())
    else:
        counts = _sync_changes(sessions, reader, connection, obj, chunk_size, read_up_to, phase, report)
    if obj in stage_history.TRACKED and isinstance(reader, HistoryReader):
        stage_history.sync_crm_history(reader, sessions, connection, obj)
    return counts


def _sync_changes(
    sessions: sessionmaker[Session], reader: Reader, connection: str, obj: ObjectType, chunk_size: int,
    read_up_to: list[datetime], phase: Phase, report: SyncReport,
) -> ObjectCounts:
    table = _table(obj)
    with sessions.begin() as session:
        since = get_watermark(session, connection, obj)
        if bulk_indexes.restore(session, table):  # an earlier first sync of the type stopped midway
            stage_history.start_loaded(session, obj)
    counts = ObjectCounts()
    if since is not None:  # its lookups by id, right after a first sync filled the table, need the planner's statistics
        statistics.refresh(sessions, [table.name])
    changes = reader.iter_changed(obj, since)
    told = SyncProgress(reader, phase)
    newest = since
    in_change_order, over_network = reading_traits(reader)
    resumable = since is not None or in_change_order
    loaded = partial(stage_history.start_loaded, obj=obj)
    with bulk_indexes.built_after(sessions, table, first_sync=since is None, loaded=loaded) as keyless:
        with sessions() as session:
            writer = MirrorWriter(session, obj, connection, first_sync=since is None, keyless=keyless)
            in_process = not over_network and session.get_bind().dialect.name == "sqlite"
        # A thread reads ahead while the writer waits on the network or the database server; when both
        # the reader and SQLite work in this process it would only contend with the writer for the GIL.
        chunks = (chunked(changes, chunk=chunk_size, on_read=told) if in_process
                  else prefetched(changes, chunk=chunk_size, depth=2, on_read=told))
        for number, chunk in enumerate(_waits_timed(chunks, report)):
            with sessions.begin() as session:
                if since is not None:
                    note_records(session, connection, obj, _changed_since_read(session, connection, obj, chunk,
                                                                               since))
                elif number == 0:
                    # Rules that follow change judge every record of the type again, once the first sync writes
                    # one: an empty type (synced on its own, it gets no watermark) is read from scratch each time.
                    note_everything(session, connection, obj)
                upserted, deleted = _write_chunk(session, writer, chunk)
                newest = max([r.updated_at for r in chunk if r.updated_at is not None] + ([newest] if newest else []))
                if resumable:  # records come oldest first: a stop after this chunk resumes from it
                    set_watermark(session, connection, obj, newest, datetime.now(UTC))
            counts.upserted += upserted
            counts.deleted += deleted
            told.wrote(len(chunk))
    told.tell()  # with the last read call, which found no more records
    if since is None and newest is None and read_up_to:
        # An empty first sync: anything of this type created since carries a later stamp than the
        # newest record of a type read before it, by the CRM's own clock, so the next sync starts there.
        newest = max(read_up_to)
    if (not resumable or since is None) and newest is not None:
        # This first sync came in id order (HubSpot's list endpoint): only a finished one may set the
        # watermark, or an interrupted one would leave older records behind it forever.
        with sessions.begin() as session:
            set_watermark(session, connection, obj, newest, datetime.now(UTC))
    if newest is not None:
        read_up_to.append(newest)
    return counts


def _waits_timed(chunks: Iterator[list[Record]], report: SyncReport) -> Iterator[list[Record]]:
    """``chunks``, adding the time each took to arrive to ``report.waited_on_crm_seconds``."""
    while True:
        started = time.perf_counter()
        chunk = next(chunks, None)
        report.waited_on_crm_seconds += time.perf_counter() - started
        if chunk is None:
            return
        yield chunk


def _changed_since_read(
    session: Session, connection: str, obj: ObjectType, chunk: Sequence[Record], since: datetime
) -> list[Record]:
    """The chunk without the records the last sync already mirrored as they are.

    A sync reads again the records stamped exactly at the watermark (so none stamped in the same
    instant after the last read is missed); those that come back unchanged are not changes.
    """
    at_mark = [r for r in chunk if r.updated_at == since and not r.deleted]
    if not at_mark:
        return list(chunk)
    table = _table(obj)
    stored = {r.id: r for r in iter_records(session, connection, obj, where=table.c.id.in_([r.id for r in at_mark]))}
    return [r for r in chunk if stored.get(r.id) != r]


def _sync_owners(sessions: sessionmaker[Session], owners: list[Owner], connection: str) -> ObjectCounts:
    """Owners are few and have no reliable change date: take the full list, forget the absent."""
    table = _table(ObjectType.OWNER)
    live = {o.id for o in owners if not o.deleted}
    with sessions.begin() as session:
        before = set(iter_records(session, connection, ObjectType.OWNER))
        writer = MirrorWriter(session, ObjectType.OWNER, connection)
        upserted, _ = _write_chunk(session, writer, [o for o in owners if o.id in live])
        known = session.scalars(select(table.c.id).where(table.c.connection == connection)).all()
        gone = [owner_id for owner_id in known if owner_id not in live]
        writer.delete(session, gone)
        if set(iter_records(session, connection, ObjectType.OWNER)) != before:
            note_everything(session, connection, ObjectType.OWNER)
    return ObjectCounts(upserted=upserted, deleted=len(gone))


def _write_chunk(session: Session, writer: MirrorWriter, chunk: Sequence[Record]) -> tuple[int, int]:
    """Upsert the live records of a chunk and delete the deleted ones; the last version of an id wins."""
    latest = {r.id: r for r in chunk}
    live = [r for r in latest.values() if not r.deleted]
    gone = [r.id for r in latest.values() if r.deleted]
    if gone and writer.keyless:  # deletes need the key; the rows written so far keep their order
        if bulk_indexes.build_key(session, table_of(writer.object_type)):
            stage_history.start_loaded(session, writer.object_type)
        writer.keyless = False
    if not writer.keyless:  # else the history starts once the table is loaded (stage_history.start_loaded)
        stage_history.capture(session, writer.object_type, writer.connection, list(latest.values()))
    writer.upsert(session, live)
    writer.delete(session, gone)
    return len(live), len(gone)


def _table(obj: ObjectType) -> Table:
    return table_of(obj)


def iter_records(
    session: Session, connection: str, obj: ObjectType, *, where: ColumnElement[bool] | None = None
) -> Iterator[Record]:
    """Stream the mirrored records of one type, optionally filtered by a condition on its table."""
    table = _table(obj)
    build = RECORD_CLASSES[obj]
    stmt = select(*(table.c[n] for n in COLUMNS[obj])).where(table.c.connection == connection)
    if where is not None:
        stmt = stmt.where(where)
    for row in session.execute(stmt.execution_options(yield_per=READ_CHUNK)):
        yield build(*row)


def owners(session: Session, connection: str) -> dict[str, Owner]:
    """Every mirrored user and queue of a connection, by id."""
    return {o.id: o for o in iter_records(session, connection, ObjectType.OWNER) if isinstance(o, Owner)}


class MirrorOrg:
    """One connection's mirror as the rules see it (``domain.org.OrgData``)."""

    def __init__(self, session: Session, connection: str) -> None:
        self._session = session
        self._connection = connection

    def records(self, object_type: ObjectType) -> Iterable[Record]:
        return iter_records(self._session, self._connection, object_type)

    def owners(self) -> dict[str, Owner]:
        return owners(self._session, self._connection)

    def records_by_id(self, object_type: ObjectType, ids: Collection[str]) -> Iterator[Record]:
        table = _table(object_type)
        for chunk in aggregates.id_chunks(ids):
            by_id = aggregates.one_of(self._session, table.c.id, chunk)
            yield from iter_records(self._session, self._connection, object_type, where=by_id)

    def sla_suspects(
        self, object_type: ObjectType, closed: Collection[str], acting_owners: Collection[str], recheck: Collection[str]
    ) -> Iterator[Lead | Opportunity]:
        return aggregates.sla_suspects(self._session, self._connection, object_type, closed, acting_owners, recheck)

    def calls(self) -> Calls:
        return aggregates.calls(self._session, self._connection)

    def last_activity_of(self, record_ids: Collection[str]) -> dict[str, datetime]:
        return aggregates.last_activity_of(self._session, self._connection, record_ids)

    def open_tasks(self, due_before: date) -> Iterator[Task]:
        return aggregates.open_tasks(self._session, self._connection, due_before)

    def gate_suspects(self, gates: Mapping[str, tuple[Sequence[str], float | None]]) -> Iterator[Opportunity]:
        return aggregates.gate_suspects(self._session, self._connection, gates)

    def unmoved_opportunities(self, before: datetime) -> Iterator[Opportunity]:
        return aggregates.unmoved_opportunities(self._session, self._connection, before)

    def activities(self, since: datetime) -> Iterator[Activity]:
        return activities_since(self._session, self._connection, since)
