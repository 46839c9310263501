"""A first sync into an empty mirror table writes it without its indexes, then builds them.

Keeping an index current row by row costs a random B-tree insert per index per record, and each
one grows dearer as the table outgrows the page cache: the tasks table has five such indexes, and
at 600,000 tasks they took 40% of a first sync's write CPU and most of its wall time
(``bench/sync_local``). Building an index once over the finished table is one sort.

The record key, the unique index on ``(connection, id)``, goes too: past a few million rows its
random inserts made a SQLite first sync 40% slower per record at ten million than at one million.
Without it the writer only appends (``store.ingest``), so a record met twice in the sync (edited
while the CRM paged) has two rows; building the key keeps the row written last. A chunk that
deletes records has the key built first: deletes need it, and the rows stay in the order written.

Only an empty table is written this way: no other connection's rules need the indexes then. A
sync that stops midway leaves the indexes dropped; the next sync of the type builds them first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Index, Table, literal, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import CreateIndex, DropIndex

_PRESENT = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :table",
}
_KEEP_LAST_WRITTEN = {
    "sqlite": "DELETE FROM {table} WHERE rowid NOT IN (SELECT max(rowid) FROM {table} GROUP BY connection, id)",
    "postgresql": "DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM (SELECT ctid, row_number() OVER "
                  "(PARTITION BY connection, id ORDER BY ctid DESC) AS later FROM {table}) AS rows WHERE later > 1)",
}
"""Of the rows of one record, keep the one written last: in a table that was only appended to since it
was empty, SQLite's rowids and PostgreSQL's row positions (ctid) grow in the order rows were written."""


@contextmanager
def built_after(
    sessions: sessionmaker[Session], table: Table, *, first_sync: bool, loaded: Callable[[Session], None]
) -> Iterator[bool]:
    """Around the writes of a sync: on a first sync into an empty ``table``, its indexes are built at the end.

    Yields whether the table is being written without its key; ``loaded`` runs once the key is
    built, in the same transaction. They are built on the way out of an error too; only a killed
    process leaves them to the next sync.
    """
    if not first_sync:
        yield False
        return
    with sessions.begin() as session:
        dropped = drop_if_empty(session, table)
    try:
        yield dropped and _key(table) is not None
    finally:
        if dropped:
            with sessions.begin() as session:
                if restore(session, table):
                    loaded(session)


def drop_if_empty(session: Session, table: Table) -> bool:
    """Drop ``table``'s indexes, its key included, if it holds no row at all; whether it did."""
    if session.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
        return False
    for index in table.indexes:
        session.execute(DropIndex(index, if_exists=True))
    return True


def restore(session: Session, table: Table) -> bool:
    """Build whichever of ``table``'s indexes is missing (none is, normally: one cheap query), the key first.

    Returns whether the key was missing: the table was written without it since it was empty.
    """
    present = _present(session, table)
    built = build_key(session, table, present)
    for index in _secondary(table):
        if index.name not in present:
            session.execute(CreateIndex(index))
    return built


def build_key(session: Session, table: Table, present: set[str] | None = None) -> bool:
    """Build ``table``'s key if it is missing (a first sync about to delete records); whether it was."""
    key = _key(table)
    if key is None or key.name in (_present(session, table) if present is None else present):
        return False
    _build_key(session, table, key)
    return True


def _present(session: Session, table: Table) -> set[str]:
    return set(session.scalars(text(_PRESENT[session.get_bind().dialect.name]), {"table": table.name}))


def _build_key(session: Session, table: Table, key: Index) -> None:
    """Build the key; if a record was written twice (met again later in its first sync), keep its last row."""
    dialect = session.get_bind().dialect.name
    try:
        if dialect == "sqlite":  # a failed statement is undone alone: the transaction goes on
            session.execute(CreateIndex(key))
        else:
            with session.begin_nested():
                session.execute(CreateIndex(key))
    except IntegrityError:
        session.execute(text(_KEEP_LAST_WRITTEN[dialect].format(table=table.name)))
        session.execute(CreateIndex(key))


def _key(table: Table) -> Index | None:
    """The mirror table's unique index on ``(connection, id)``."""
    return next((index for index in table.indexes
                 if index.unique and [column.name for column in index.columns] == ["connection", "id"]), None)


def _secondary(table: Table) -> list[Index]:
    return sorted((index for index in table.indexes if not index.unique), key=lambda index: str(index.name))
