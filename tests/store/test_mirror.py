from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from domain.records import ObjectType, Owner, Record, TaskStatus
from store import mirror
from store.db import session_factory
from store.models import OpportunityRow
from store.watermarks import get_watermark
from tests.store.fake_reader import OBJECT_OF, T0, FakeReader, one_of_each, opportunity, owners, task


@pytest.fixture
def reader() -> FakeReader:
    reader = FakeReader()
    reader.owner_list = owners()
    reader.put(*one_of_each())
    return reader


def mirrored(engine: Engine, obj: ObjectType, connection: str = "local") -> list[Any]:
    with session_factory(engine)() as session:
        return sorted(mirror.iter_records(session, connection, obj), key=lambda r: r.id)


def test_first_sync_mirrors_every_record_exactly(engine: Engine, reader: FakeReader) -> None:
    """After a first sync the mirror gives back every record as the CRM had it, datetimes aware in UTC."""
    report = mirror.sync(reader, engine, "local")
    for record in one_of_each():
        assert mirrored(engine, OBJECT_OF[type(record)]) == [record]
    assert mirrored(engine, ObjectType.OWNER) == sorted(owners(), key=lambda o: o.id)
    assert report.objects[ObjectType.OWNER].upserted == 3
    assert report.objects[ObjectType.TASK].upserted == 1
    completed = mirrored(engine, ObjectType.TASK)[0]
    assert completed.completed_at.tzinfo is UTC


def test_incremental_sync_reads_only_what_changed(engine: Engine) -> None:
    """A second sync asks the CRM only for records changed since the watermark and updates just those."""
    reader = FakeReader()
    reader.put(*(opportunity(n, minutes=n) for n in range(50)))
    mirror.sync(reader, session_factory(engine), "local", [ObjectType.OPPORTUNITY])
    reader.served.clear()
    reader.put(opportunity(3, minutes=120, stage="Closed Won"), opportunity(7, minutes=121, owner_id="005B"))
    report = mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY])
    boundary = opportunity(49).id  # the newest record already mirrored: re-read, never missed
    assert sorted(reader.served) == sorted([boundary, opportunity(3).id, opportunity(7).id])
    by_id = {o.id: o for o in mirrored(engine, ObjectType.OPPORTUNITY)}
    assert by_id[opportunity(3).id].stage == "Closed Won"
    assert by_id[opportunity(7).id].owner_id == "005B"
    assert len(by_id) == 50 and report.objects[ObjectType.OPPORTUNITY].upserted == 3


def test_deleted_records_leave_the_mirror(engine: Engine, reader: FakeReader) -> None:
    """A record the CRM reports deleted (or merged away) is gone from the mirror after the next sync."""
    mirror.sync(reader, engine, "local")
    reader.put(replace(opportunity(1), deleted=True, updated_at=T0 + timedelta(days=1)))
    report = mirror.sync(reader, engine, "local")
    assert mirrored(engine, ObjectType.OPPORTUNITY) == []
    assert report.objects[ObjectType.OPPORTUNITY].deleted == 1


def test_interrupted_sync_resumes_from_the_last_committed_chunk(engine: Engine) -> None:
    """When a sync dies mid-way, committed chunks stay and the next sync starts at their watermark."""
    reader = FakeReader()
    reader.put(*(task(n, minutes=n) for n in range(10)))
    reader.fail_after = 7
    with pytest.raises(ConnectionError):
        mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    assert len(mirrored(engine, ObjectType.TASK)) == 6
    with session_factory(engine)() as session:
        assert get_watermark(session, "local", ObjectType.TASK) == T0 + timedelta(minutes=5)
    reader.fail_after = None
    reader.served.clear()
    mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    assert reader.served == [task(n).id for n in range(5, 10)]
    assert len(mirrored(engine, ObjectType.TASK)) == 10


def test_interrupted_first_sync_in_id_order_sets_no_watermark(engine: Engine) -> None:
    """A reader whose first sync is not in change order (HubSpot lists) leaves no watermark until it ends."""
    reader = FakeReader()
    reader.first_sync_in_change_order = False  # type: ignore[attr-defined]
    reader.put(*(task(n, minutes=n) for n in range(10)))
    reader.fail_after = 7
    with pytest.raises(ConnectionError):
        mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    with session_factory(engine)() as session:
        assert get_watermark(session, "local", ObjectType.TASK) is None
    reader.fail_after = None
    mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=3)
    with session_factory(engine)() as session:
        assert get_watermark(session, "local", ObjectType.TASK) == T0 + timedelta(minutes=9)


def test_owners_are_taken_in_full_and_absent_ones_forgotten(engine: Engine, reader: FakeReader) -> None:
    """Each sync replaces the owner list: renamed owners update, owners the CRM no longer lists go."""
    mirror.sync(reader, engine, "local", [ObjectType.OWNER])
    avery, _, queue = owners()
    reader.owner_list = [replace(avery, name="Avery Reed-Stone", active=False), queue]
    report = mirror.sync(reader, engine, "local", [ObjectType.OWNER])
    with session_factory(engine)() as session:
        found = mirror.owners(session, "local")
    assert found == {"005A": replace(avery, name="Avery Reed-Stone", active=False), "00GQ": queue}
    assert report.objects[ObjectType.OWNER].deleted == 1


def test_connections_keep_their_own_records(engine: Engine, reader: FakeReader) -> None:
    """Two CRM connections in one database never see or delete each other's records."""
    mirror.sync(reader, engine, "salesforce")
    other = FakeReader()
    other.owner_list = [Owner("1", "HubSpot owner")]
    mirror.sync(other, engine, "hubspot")
    assert len(mirrored(engine, ObjectType.OPPORTUNITY, "salesforce")) == 1
    assert mirrored(engine, ObjectType.OPPORTUNITY, "hubspot") == []
    assert len(mirrored(engine, ObjectType.OWNER, "salesforce")) == 3


def test_last_activity_is_the_latest_completed_task_per_record(engine: Engine) -> None:
    """Only completed tasks count, and each record gets its most recent one, by what_id or who_id."""
    late = T0 + timedelta(days=3)
    reader = FakeReader()
    reader.put(
        task(1, status=TaskStatus.COMPLETED, completed_at=T0, what_id="006X"),
        task(2, status=TaskStatus.COMPLETED, completed_at=late, what_id="006X", who_id="00QL"),
        task(3, status=TaskStatus.OPEN, what_id="006Y", who_id="00QM"),
        task(4, status=TaskStatus.COMPLETED, completed_at=T0, what_id=None, who_id="00QM"),
    )
    mirror.sync(reader, engine, "local", [ObjectType.TASK])
    with session_factory(engine)() as session:
        found = mirror.MirrorOrg(session, "local").last_activity_of(["006X", "006Y", "00QL", "00QM"])
    assert found == {"006X": late, "00QL": late, "00QM": T0}


def test_iter_records_filters_with_a_where_clause(engine: Engine) -> None:
    """Rules can ask the mirror for a subset, such as open deals of one owner, without loading the rest."""
    reader = FakeReader()
    reader.put(opportunity(1), opportunity(2, owner_id="005B"), opportunity(3, owner_id="005B", is_closed=True))
    mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY])
    where = (OpportunityRow.owner_id == "005B") & (OpportunityRow.is_closed.is_(False))
    with session_factory(engine)() as session:
        found = [o.id for o in mirror.iter_records(session, "local", ObjectType.OPPORTUNITY, where=where)]
    assert found == [opportunity(2).id]


def test_sync_report_counts_and_times_each_object(engine: Engine, reader: FakeReader) -> None:
    """The report says how many records each object type upserted or deleted and how long it took."""
    ticks = iter([10.0, 12.5])
    report = mirror.sync(reader, engine, "local", clock=lambda: next(ticks))
    summary = report.as_dict()
    assert summary["elapsed_seconds"] == 2.5
    assert summary["account"] == {"upserted": 1, "deleted": 0}
    assert set(summary) == {str(o) for o in ObjectType} | {"elapsed_seconds", "waited_on_crm_seconds"}


class SlowCRM(FakeReader):
    """A CRM that takes a while to hand over each record and its owner list, as one far away over the network."""

    pause = 0.05

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        for record in super().iter_changed(object_type, since):
            time.sleep(self.pause)
            yield record

    def owners(self) -> list[Owner]:
        time.sleep(self.pause)
        return super().owners()


def test_sync_report_says_how_long_the_sync_waited_on_the_crm(engine: Engine) -> None:
    """Of a sync's time, the report tells the share spent waiting for the CRM's records, whether they are read in
    the writer's thread (a SQLite mirror of a local CRM) or ahead of it (PostgreSQL): what is left is the mirror's."""
    slow = SlowCRM()
    slow.put(*(opportunity(n, minutes=n) for n in range(1, 9)))
    report = mirror.sync(slow, engine, "local")
    assert 9 * SlowCRM.pause <= report.waited_on_crm_seconds <= report.elapsed_seconds
    assert report.as_dict()["waited_on_crm_seconds"] == round(report.waited_on_crm_seconds, 3)
    fast = FakeReader()
    fast.put(*(opportunity(n, minutes=n) for n in range(1, 9)))
    assert mirror.sync(fast, engine, "other").waited_on_crm_seconds < 9 * SlowCRM.pause


def test_records_with_later_changes_in_one_chunk_keep_the_last_version(engine: Engine) -> None:
    """If the CRM serves the same record twice in one read, the newer version is what the mirror keeps."""
    class ServesTwice(FakeReader):
        def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
            yield from super().iter_changed(object_type, since)
            yield opportunity(1, minutes=2, stage="Negotiation")

    reader = ServesTwice()
    reader.put(opportunity(1, minutes=1))
    mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY])
    assert [o.stage for o in mirrored(engine, ObjectType.OPPORTUNITY)] == ["Negotiation"]


def test_a_first_sync_that_meets_a_record_again_in_a_later_chunk_keeps_every_record(engine: Engine) -> None:
    """A record edited while the first sync pages through the CRM comes back in a later chunk: it is
    updated in place, and the chunks before and after it are all mirrored (PostgreSQL copies a first
    sync's chunks straight into the table until one holds an id the table already has)."""
    class EditedMidway(FakeReader):
        def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
            yield from super().iter_changed(object_type, since)
            if since is None:
                yield opportunity(1, minutes=60, stage="Negotiation")
                yield opportunity(99, minutes=61)

    reader = EditedMidway()
    reader.put(*(opportunity(n, minutes=n) for n in range(1, 8)))
    mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY], chunk_size=3)
    stages = {o.id: o.stage for o in mirrored(engine, ObjectType.OPPORTUNITY)}
    assert len(stages) == 8 and stages[opportunity(1).id] == "Negotiation"
