"""A first sync into an empty table builds its indexes at the end: the mirror's schema is whole after every sync."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import Engine, inspect

from domain.records import ObjectType, Record
from store import bulk_indexes, mirror
from store.db import session_factory
from store.ingest import table_of
from tests.store.fake_reader import FakeReader, task
from tests.store.schema import schema_diff

TASK_INDEXES = {index.name for index in table_of(ObjectType.TASK).indexes}


def _tasks(engine: Engine) -> list[Record]:
    """The mirrored tasks, read in a session closed at once: an open one would block the next sync's DROP INDEX."""
    with session_factory(engine)() as session:
        return list(mirror.iter_records(session, "local", ObjectType.TASK))


def _task_indexes(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {str(index["name"]) for index in inspect(connection).get_indexes("tasks")}


class WatchingReader(FakeReader):
    """Notes which of the tasks table's indexes exist while the sync reads from it."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.seen: set[str] | None = None

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        if object_type is ObjectType.TASK:
            self.seen = _task_indexes(self.engine)
        yield from super().iter_changed(object_type, since)


def test_a_first_sync_into_an_empty_mirror_leaves_every_index_in_place(engine: Engine) -> None:
    """Written without its indexes, the tasks table has them all again when the first sync ends."""
    reader = WatchingReader(engine)
    reader.put(*(task(n, minutes=n) for n in range(30)))
    mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=7)
    assert reader.seen is not None and not reader.seen & TASK_INDEXES  # the key too
    assert _task_indexes(engine) >= TASK_INDEXES and schema_diff(engine) == []
    assert len(_tasks(engine)) == 30


def test_a_first_sync_that_fails_midway_builds_the_indexes_on_its_way_out(engine: Engine) -> None:
    """A CRM that drops the connection mid-sync leaves the committed records and a whole schema."""
    reader = FakeReader()
    reader.put(*(task(n, minutes=n) for n in range(10)))
    reader.fail_after = 7
    with pytest.raises(ConnectionError):
        mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    assert schema_diff(engine) == []


def test_indexes_left_dropped_by_a_killed_sync_come_back_with_the_next_sync(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed mid first sync leaves the indexes dropped; the next sync builds them before it writes."""
    reader = WatchingReader(engine)
    reader.put(*(task(n, minutes=n) for n in range(10)))
    reader.fail_after = 7
    with monkeypatch.context() as killed:  # killed: nothing runs on the way out
        killed.setattr(bulk_indexes, "restore", lambda session, table: None)
        with pytest.raises(ConnectionError):
            mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    assert not _task_indexes(engine) & TASK_INDEXES
    reader.fail_after = None
    mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    assert reader.seen is not None and reader.seen >= TASK_INDEXES
    assert schema_diff(engine) == []


def test_a_first_sync_beside_another_connections_records_keeps_the_indexes(engine: Engine) -> None:
    """Only an empty table loses its indexes: another connection's rules read this one meanwhile."""
    first = FakeReader()
    first.put(task(1))
    mirror.sync(first, engine, "salesforce", [ObjectType.TASK])
    reader = WatchingReader(engine)
    reader.put(*(task(n, minutes=n) for n in range(5)))
    mirror.sync(reader, engine, "hubspot", [ObjectType.TASK])
    assert reader.seen is not None and reader.seen >= TASK_INDEXES


def test_a_killed_first_sync_that_wrote_a_record_twice_leaves_its_last_version_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed mid first sync after a record edited meanwhile came back: the next sync keeps only its last version."""
    edited = task(1, minutes=10, subject="Call back on Monday")

    class EditedMidway(FakeReader):
        def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
            for record in super().iter_changed(object_type, since):
                yield record
                if since is None and record.id == task(5).id:
                    yield edited  # the CRM's paging meets the edited record again, after its later ones

    reader = EditedMidway()
    reader.put(*(task(n, minutes=n) for n in range(6)), *(task(n, minutes=20 + n) for n in range(6, 9)))
    reader.fail_after = 8  # the chunk holding the edited record is written, the one after it is not
    with monkeypatch.context() as killed:
        killed.setattr(bulk_indexes, "restore", lambda session, table: None)
        with pytest.raises(ConnectionError):
            mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    reader.put(edited)
    reader.fail_after = None
    mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    tasks = _tasks(engine)
    assert sorted(t.id for t in tasks) == sorted(task(n).id for n in range(9))
    assert next(t.subject for t in tasks if t.id == task(1).id) == "Call back on Monday"
    assert _task_indexes(engine) >= TASK_INDEXES and schema_diff(engine) == []


def test_a_record_deleted_while_the_first_sync_pages_is_gone_and_the_rest_all_arrive(engine: Engine) -> None:
    """Deleted in the CRM after the first sync wrote it, a record comes back deleted: the mirror drops it alone."""
    class DeletedMidway(FakeReader):
        def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
            for record in super().iter_changed(object_type, since):
                yield record
                if since is None and record.id == task(5).id:
                    yield replace(task(2), updated_at=task(6).updated_at, deleted=True)
                    yield replace(task(4), updated_at=task(6).updated_at, subject="Moved to Friday")

    reader = DeletedMidway()
    reader.put(*(task(n, minutes=n) for n in range(10)))
    mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=4)
    tasks = {t.id: t for t in _tasks(engine)}
    assert sorted(tasks) == sorted(task(n).id for n in range(10) if n != 2)
    assert tasks[task(4).id].subject == "Moved to Friday"
    assert _task_indexes(engine) >= TASK_INDEXES and schema_diff(engine) == []
