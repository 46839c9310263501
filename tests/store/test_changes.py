"""The change log names what an incremental sync changed, and nothing it merely read again."""

from __future__ import annotations

from sqlalchemy import Engine

from domain.records import ObjectType
from store import mirror
from store.changes import ACTIVITY, CALL_ACTIVITY, EVERYTHING, changes_after, last_change_id
from store.db import session_factory
from tests.store.fake_reader import FakeReader, opportunity, task


def logged_after(engine: Engine, after: int) -> tuple[dict[str, set[str]], set[str]]:
    with session_factory(engine)() as session:
        changes = changes_after(session, "local", after)
    return changes.ids, changes.everything


def test_a_first_sync_logs_every_record_of_its_types(engine: Engine) -> None:
    """Rules make a full pass after a first sync: the log says every record of each type changed."""
    reader = FakeReader()
    reader.put(opportunity(1), task(1))
    mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY, ObjectType.TASK])
    assert logged_after(engine, 0) == ({}, {ObjectType.OPPORTUNITY.value, ObjectType.TASK.value})
    assert EVERYTHING not in logged_after(engine, 0)[0]


def test_a_type_the_crm_holds_none_of_logs_no_change_however_often_it_is_synced(engine: Engine) -> None:
    """A type synced on its own (a Celery flow syncs each type as a task) that the CRM holds none of gets no
    watermark, so each of its syncs is a first sync. Before, each logged every record of the type changed, and
    the rules reading it (dedupe, leads already in the system) judged the whole org again every run."""
    reader = FakeReader()
    for _ in range(3):
        mirror.sync(reader, engine, "local", [ObjectType.TASK])
    assert logged_after(engine, 0) == ({}, set())
    reader.put(task(1))
    mirror.sync(reader, engine, "local", [ObjectType.TASK])
    assert logged_after(engine, 0) == ({}, {ObjectType.TASK.value})


def test_records_read_again_at_the_watermark_are_not_changes_but_edits_and_moved_tasks_are(engine: Engine) -> None:
    """The record at the watermark instant comes back unchanged: not logged; an edit, and a task's old and new
    parents, are."""
    reader = FakeReader()
    reader.put(opportunity(1, minutes=1), opportunity(2, minutes=2), task(1, minutes=3, what_id="006A"))
    mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY, ObjectType.TASK])
    with session_factory(engine)() as session:
        first = last_change_id(session, "local")
    mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY, ObjectType.TASK])
    assert logged_after(engine, first) == ({}, set())
    reader.put(opportunity(1, minutes=5, stage="Closed Won"), task(1, minutes=6, what_id="006B"))
    mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY, ObjectType.TASK])
    ids, everything = logged_after(engine, first)
    assert everything == set()
    assert ids == {ObjectType.OPPORTUNITY.value: {opportunity(1).id}, ObjectType.TASK.value: {task(1).id},
                   ACTIVITY: {"006A", "006B"}, CALL_ACTIVITY: {"006A", "006B"}}
