"""The embedded CRM: a CRM kept in one SQLite file, with the semantics of a real one.

It is the default for the demo, the benchmarks and a user's trial. Like Salesforce it reads in
pages from a watermark, writes in batches with per-record errors, keeps merged-away records in a
recycle bin, and counts every page, batch and merge as one API call.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from connectors.local._activities import ACTIVITIES_DDL, insert_activities, read_pages
from connectors.local._history import HISTORY_DDL, TRACKED_FIELDS, insert_history, read_history, record_current
from connectors.local._merge import LOSERS_PER_CALL, merge_chunk, merge_problem, merged, restore_snapshot
from connectors.local._merge import snapshot_record as _snapshot_record
from connectors.local._schema import EXTRA_FIELDS_DDL, SCHEMA, Table, utc_text
from connectors.local._writes import apply_update, create_lead, create_task, delete_task
from domain.activities import Activity
from domain.connector import ApiUsage, MergeResult, NewLead, NewTask, RecordUpdate, Snapshot, TaskDeletion, WriteResult
from domain.errors import FatalConnectorError
from domain.records import ObjectType, Owner, Record, StageChange

T = TypeVar("T")
URL_PREFIX = "sqlite:///"
MERGE_HOPS = 5
"""How far ``fetch`` follows a merged-away record to its master's master."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class LocalCRM:
    """A CRM in a SQLite file that implements ``domain.connector.Connector``."""

    name = "local"
    reads_over_network = False
    """Reading is the process's own CPU work on a file: a read-ahead thread would only contend for the GIL."""

    def __init__(
        self,
        path: str | Path,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = 2000,
        batch_size: int = 200,
    ) -> None:
        if page_size < 1 or batch_size < 1:
            raise ValueError(f"page_size ({page_size}) and batch_size ({batch_size}) must be at least 1")
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.page_size = page_size
        self.batch_size = batch_size
        self.usage = ApiUsage()
        # Other threads may use the connector (a worker's stop signal, tests), one at a time.
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        with self._conn:
            for table in SCHEMA.values():
                for statement in table.ddl():
                    self._conn.execute(statement)
            self._conn.execute(EXTRA_FIELDS_DDL)
            for statement in (*HISTORY_DDL, *ACTIVITIES_DDL):
                self._conn.execute(statement)
        self._custom_fields: dict[str, set[str]] = {}
        for obj, name in self._conn.execute("SELECT object, name FROM custom_fields"):
            self._custom_fields.setdefault(obj, set()).add(name)

    @classmethod
    def from_url(cls, url: str, clock: Callable[[], datetime] = _utc_now) -> LocalCRM:
        """Open the CRM named by a URL such as ``sqlite:///.warden/local_crm.db``."""
        if not url.startswith(URL_PREFIX) or url == URL_PREFIX:
            raise FatalConnectorError(
                f"local CRM URL {url!r} is not a SQLite file URL: set WARDEN_LOCAL_CRM_URL to "
                "sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        path = url.removeprefix(URL_PREFIX)
        try:
            return cls(path, clock=clock)
        except (OSError, sqlite3.Error) as exc:
            raise FatalConnectorError(f"cannot open the local CRM {path} (WARDEN_LOCAL_CRM_URL): {exc}") from None

    def close(self) -> None:
        self._conn.close()

    def _now(self) -> str:
        return utc_text(self.clock())

    # Reading

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        """Yield records with ``updated_at >= since`` by (updated_at, id), one read call per page."""
        table = SCHEMA[object_type]
        select = f"SELECT {table.select_list} FROM {table.name}"
        order = f"ORDER BY updated_at, id LIMIT {self.page_size + 1}"
        if since is None:
            rows = self._conn.execute(f"{select} {order}").fetchall()
        else:
            rows = self._conn.execute(f"{select} WHERE updated_at >= ? {order}", (utc_text(since),)).fetchall()
        while True:
            self.usage.count("read")
            page = rows[: self.page_size]
            yield from map(table.decode_record, page)
            if len(rows) <= self.page_size:
                return
            last = page[-1]
            cursor = (last[table.columns.index("updated_at")], last[0])
            rows = self._conn.execute(f"{select} WHERE (updated_at, id) > (?, ?) {order}", cursor).fetchall()

    def iter_stage_history(self, object_type: ObjectType, since: datetime | None) -> Iterator[StageChange]:
        """The stage (status) and forecast changes recorded at or after ``since``, oldest first (one read call)."""
        self.usage.count("read")
        return read_history(self._conn, object_type, since)

    def insert_history(self, changes: Iterable[StageChange]) -> None:
        """Seed stage history (the demo's deals passed through earlier stages before today)."""
        with self._conn:
            insert_history(self._conn, changes)

    def iter_activities(self, since: datetime | None) -> Iterator[Activity]:
        """Activity records changed at or after ``since``, oldest change first (one read call per page)."""
        for page in read_pages(self._conn, since, self.page_size):
            self.usage.count("read")
            yield from page

    def insert_activities(self, activities: Iterable[Activity]) -> int:
        """Add activity records (the demo's, a test's), as a marketing tool would log them; not an API call."""
        with self._conn:
            return insert_activities(self._conn, activities)

    def owners(self) -> list[Owner]:
        """Every user and queue, active or not (one read call)."""
        self.usage.count("read")
        table = SCHEMA[ObjectType.OWNER]
        rows = self._conn.execute(f"SELECT {table.select_list} FROM owners ORDER BY id").fetchall()
        return [owner for owner in map(table.decode_record, rows) if isinstance(owner, Owner)]

    def fetch(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        """The records behind these ids, ``page_size`` ids per read call; a merged-away id gives its master."""
        table = SCHEMA[object_type]
        master_of = table.columns.index("master_record_id")
        found: dict[str, Record] = {}
        merged: dict[str, str] = {}
        for record_id, row in self._rows(table, list(dict.fromkeys(record_ids))).items():
            record = table.decode_record(row)
            if not record.deleted:
                found[record_id] = record
            elif row[master_of]:
                merged[record_id] = row[master_of]
        for _ in range(MERGE_HOPS):  # a master may itself have been merged away since: follow it
            survivors = self._rows(table, list(dict.fromkeys(merged.values())))
            following: dict[str, str] = {}
            for asked, master in ((a, m) for a, m in merged.items() if m in survivors):
                if not (record := table.decode_record(survivors[master])).deleted:
                    found[asked] = record
                elif survivors[master][master_of]:
                    following[asked] = survivors[master][master_of]
            if not (merged := following):
                break
        return found

    def _rows(self, table: Table, record_ids: list[str]) -> dict[str, tuple[Any, ...]]:
        rows: dict[str, tuple[Any, ...]] = {}
        for chunk in _chunks(record_ids, self.page_size):
            self.usage.count("read")
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT {table.select_list} FROM {table.name} WHERE id IN ({marks})"
            rows.update((row[0], row) for row in self._conn.execute(query, chunk))
        return rows

    def count(self, object_type: ObjectType) -> int:
        """How many undeleted records of a type the CRM holds (not an API call)."""
        table = SCHEMA[object_type]
        (total,) = self._conn.execute(f"SELECT COUNT(*) FROM {table.name} WHERE deleted = 0").fetchone()
        return int(total)

    # Seeding

    def insert_rows(self, object_type: ObjectType, rows: Iterable[Mapping[str, Any]]) -> int:
        """Bulk-insert record-shaped mappings in one transaction; the fast path for seeding.

        Keys are the record's field names (plus ``master_record_id``, and ``external_key`` for
        tasks); values are Python values (datetimes, dates, enums...). Not an API call.
        Returns the number of rows inserted.
        """
        table = SCHEMA[object_type]
        extra_keys: set[str] = set()

        def encoded() -> Iterator[tuple[Any, ...]]:
            for row in rows:
                if table.has_extra and row.get("extra"):
                    extra_keys.update(row["extra"])
                yield table.encode_row(row)

        placeholders = ", ".join("?" * len(table.columns))
        with self._conn:
            cursor = self._conn.executemany(
                f"INSERT INTO {table.name} ({table.select_list}) VALUES ({placeholders})", encoded()
            )
            self._conn.executemany(
                "INSERT OR IGNORE INTO custom_fields (object, name) VALUES (?, ?)",
                [(object_type.value, key) for key in sorted(extra_keys)],
            )
        self._custom_fields.setdefault(object_type.value, set()).update(extra_keys)
        return cursor.rowcount

    def insert_records(self, records: Iterable[Record]) -> int:
        """Insert normalized records of any types (grouped by type); returns how many."""
        by_type: dict[ObjectType, list[dict[str, Any]]] = {}
        for record in records:
            obj = next(o for o, t in SCHEMA.items() if isinstance(record, t.record_class))
            by_type.setdefault(obj, []).append({f.name: getattr(record, f.name) for f in fields(record)})
        return sum(self.insert_rows(obj, rows) for obj, rows in by_type.items())

    # Writing

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        """Apply updates in batches of ``batch_size`` (one write call each), errors per record."""
        results: list[WriteResult] = []
        for batch in _chunks(updates, self.batch_size):
            self.usage.count("write")
            now = self._now()
            with self._conn:
                done = [apply_update(self._conn, u, now, self._custom_fields.get(u.object_type.value, set()))
                        for u in batch]
                tracked = (ObjectType.LEAD, ObjectType.OPPORTUNITY)
                for update, result in zip(batch, done, strict=True):
                    if result.ok and update.object_type in tracked and TRACKED_FIELDS & set(update.fields):
                        record_current(self._conn, update.object_type, update.record_id, self.clock())
                results.extend(done)
        return results

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        """Create tasks in batches (one write call each); a known key returns the existing task."""
        results: list[WriteResult] = []
        for batch in _chunks(tasks, self.batch_size):
            self.usage.count("write")
            now = self._now()
            with self._conn:
                results.extend(create_task(self._conn, task, now) for task in batch)
        return results

    def create_leads(self, leads: Sequence[NewLead]) -> list[WriteResult]:
        """Create leads in batches (one write call each); an email a live lead has returns that lead."""
        results: list[WriteResult] = []
        for batch in _chunks(leads, self.batch_size):
            self.usage.count("write")
            now = self._now()
            with self._conn:
                results.extend(create_lead(self._conn, lead, now) for lead in batch)
            self._custom_fields.setdefault(ObjectType.LEAD.value, set()).update(("lead_source", "description"))
        return results

    def delete_tasks(self, tasks: Sequence[TaskDeletion]) -> list[WriteResult]:
        """Delete tasks into the recycle bin, ``batch_size`` per write call; one already deleted counts as done."""
        results: list[WriteResult] = []
        for batch in _chunks(tasks, self.batch_size):
            self.usage.count("write")
            now = self._now()
            with self._conn:
                results.extend(delete_task(self._conn, task, now) for task in batch)
        return results

    # Merging

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        """Each record's stored row with the children a merge would move (one read call)."""
        self.usage.count("read")
        return [_snapshot_record(self._conn, object_type, record_id) for record_id in record_ids]

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        """Merge losers into the master, two per merge call, each call its own transaction."""
        problem = merge_problem(self._conn, object_type, master_id, loser_ids)
        if problem is not None:
            self.usage.count("merge")
            return merged(master_id, (), problem)
        for chunk in _chunks(loser_ids, LOSERS_PER_CALL):
            self.usage.count("merge")
            with self._conn:
                merge_chunk(self._conn, object_type, master_id, chunk, self._now())
        return merged(master_id, loser_ids)

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        """Undelete each snapshotted record as it was and move its snapshotted children back."""
        self.usage.count("write")
        now = self._now()
        with self._conn:
            for snapshot in snapshots:
                restore_snapshot(self._conn, snapshot, now)
