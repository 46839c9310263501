"""The mirror's change log: which records each incremental sync changed, for rules that follow change.

A first sync of a type, or an owner list that differs from the mirrored one, logs ``*`` (every
record of the type changed): rules then make a full pass. An incremental sync logs each record it
upserted or deleted, and for tasks also the records the task is, or was before, about (as
``activity``, and for calls also as ``call_activity``), since a completed or removed task moves its
parent's last activity. Accounts that
were created, deleted, or changed in a field the matchers read (``account_identity``) are logged a
second time, so the rules that judge the whole org at once (dedupe, leads already in the system)
make a full pass only for those, not for a changed account type.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from domain.records import RECORD_CLASSES, Account, ObjectType, Record, Task, TaskType
from store.aggregates import one_of
from store.db import one_at_a_time
from store.ingest import COLUMNS, append_rows, table_of
from store.models import MirrorChangeRow, TaskRow

EVERYTHING = "*"
ACTIVITY = "activity"
CALL_ACTIVITY = "call_activity"
"""The records a call task is, or was before, about (``what_id``), logged besides ``activity``: the call
cadence reads calls alone, and most changed tasks are not calls."""
ACCOUNT_IDENTITY = "account_identity"
IDENTITY_FIELDS = ("name", "owner_id", "created_at", "website", "phone", "billing_city", "billing_postcode",
                   "billing_country", "extra", "deleted")
"""What dedupe (``dedupe.candidate.Candidate``, its findings' owner and dates) and the lead matcher
(``dedupe.lead_match``) read of an account: every field but the account type and the update stamp.
Stale deals read a partner account's owner (``jobs.rule_passes``)."""
_IDS_PER_QUERY = 5000
_CHANGES = cast(Table, MirrorChangeRow.__table__)


@dataclass
class Changes:
    """What changed in one connection's mirror after a given change id."""

    last_id: int
    ids: dict[str, set[str]] = field(default_factory=dict)
    """Object type (or ``activity``) -> changed record ids."""
    everything: set[str] = field(default_factory=set)
    """Object types of which every record counts as changed."""
    after: int = 0
    """The change id the log was read after."""

    def of(self, *objects: str) -> set[str]:
        return set().union(*(self.ids.get(o, set()) for o in objects))


def note_everything(session: Session, connection: str, obj: ObjectType) -> None:
    _in_commit_order(session, connection)
    session.execute(insert(MirrorChangeRow), [{"connection": connection, "object": obj.value, "record_id": EVERYTHING}])


def _in_commit_order(session: Session, connection: str) -> None:
    """Make the connection's change ids rise in commit order, so a reader past id N never misses one below N.

    PostgreSQL hands out ids as rows are inserted, not as transactions commit: two syncs of one
    connection (Celery runs one per object) take this transaction lock in turn. SQLite has one writer.
    """
    one_at_a_time(session, f"mirror_changes:{connection}")


def note_records(session: Session, connection: str, obj: ObjectType, records: Collection[Record]) -> None:
    """Log ``records`` as changed; for tasks, also what they were and are now about."""
    rows = [(connection, obj.value, r.id) for r in records]
    if obj is ObjectType.TASK:
        about, called = _parents_before(session, connection, [r.id for r in records])
        about |= {p for r in records if isinstance(r, Task) for p in (r.what_id, r.who_id) if p}
        called |= {r.what_id for r in records if isinstance(r, Task) and r.task_type is TaskType.CALL and r.what_id}
        rows += [(connection, ACTIVITY, p) for p in sorted(about)]
        rows += [(connection, CALL_ACTIVITY, p) for p in sorted(called)]
    if obj is ObjectType.ACCOUNT:
        rows += [(connection, ACCOUNT_IDENTITY, i) for i in sorted(_identity_changed(session, connection, records))]
    if rows:  # through the driver (COPY on PostgreSQL): 190,000 rows for a 1% change of ten million records
        _in_commit_order(session, connection)
        append_rows(session, _CHANGES, ("connection", "object", "record_id"), rows)


def _parents_before(session: Session, connection: str, task_ids: list[str]) -> tuple[set[str], set[str]]:
    """What the mirrored tasks among ``task_ids`` are about, and of those what the calls are about (``what_id``)."""
    found: set[str] = set()
    called: set[str] = set()
    for start in range(0, len(task_ids), _IDS_PER_QUERY):
        chunk = task_ids[start : start + _IDS_PER_QUERY]
        stmt = select(TaskRow.what_id, TaskRow.who_id, TaskRow.task_type).where(TaskRow.connection == connection,
                                                                                one_of(session, TaskRow.id, chunk))
        for what, who, kind in session.execute(stmt):
            found.update(p for p in (what, who) if p)
            if kind is TaskType.CALL and what:
                called.add(what)
    return found, called


def _identity_changed(session: Session, connection: str, accounts: Collection[Record]) -> set[str]:
    """The accounts among ``accounts`` that are new, deleted, or differ from the mirror in an identity field."""
    table, build = table_of(ObjectType.ACCOUNT), RECORD_CLASSES[ObjectType.ACCOUNT]
    stored: dict[str, Record] = {}
    ids = [a.id for a in accounts]
    for start in range(0, len(ids), _IDS_PER_QUERY):
        stmt = select(*(table.c[n] for n in COLUMNS[ObjectType.ACCOUNT])).where(
            table.c.connection == connection, one_of(session, table.c.id, ids[start : start + _IDS_PER_QUERY]))
        stored.update((row[0], build(*row)) for row in session.execute(stmt))
    return {a.id for a in accounts if not _same_identity(stored.get(a.id), a)}


def _same_identity(before: Record | None, after: Record) -> bool:
    return (isinstance(before, Account) and isinstance(after, Account)
            and all(getattr(before, f) == getattr(after, f) for f in IDENTITY_FIELDS))


def last_change_id(session: Session, connection: str) -> int:
    return session.scalar(select(func.max(MirrorChangeRow.id)).where(MirrorChangeRow.connection == connection)) or 0


def changes_after(session: Session, connection: str, after: int) -> Changes:
    """Every change logged for ``connection`` after change id ``after``."""
    changes = Changes(after, after=after)
    stmt = (select(MirrorChangeRow.id, MirrorChangeRow.object, MirrorChangeRow.record_id)
            .where(MirrorChangeRow.connection == connection, MirrorChangeRow.id > after))
    for change_id, obj, record_id in session.execute(stmt):
        changes.last_id = max(changes.last_id, change_id)
        if record_id == EVERYTHING:
            changes.everything.add(obj)
        else:
            changes.ids.setdefault(obj, set()).add(record_id)
    return changes


def forget_before(session: Session, connection: str, change_id: int, after: int = 0) -> None:
    """Drop the log from ``after`` (dropped before) up to ``change_id``, which every rule of the connection saw."""
    session.execute(delete(MirrorChangeRow).where(MirrorChangeRow.connection == connection,
                                                  MirrorChangeRow.id > after, MirrorChangeRow.id <= change_id))
