"""A first sync into an empty mirror table writes it without its indexes, then builds them.

Keeping an index current row by row costs a random B-tree insert per index per record, and each
one grows dearer as the table outgrows the page cache: the tasks table has five such indexes, and
at 600,000 tasks they took 40% of a first sync's write CPU and most of its wall time
(``bench/sync_local``). Building an index once over the finished table is one sort.

On SQLite the record key, the unique index on ``(connection, id)``, goes too: past a few million
rows its random inserts made a first sync 40% slower per record at ten million than at one
million. Without it the writer inserts with ``INSERT OR REPLACE`` (``store.ingest``), which adds a
second row for a record met twice; building the key keeps the last written row of each record. On
PostgreSQL the first sync copies with the key in place, merging on a duplicate instead.

Only an empty table is written this way: no other connection's rules need the indexes then. A
sync that stops midway leaves the indexes dropped; the next sync of the type builds them first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Index, Table, literal, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import CreateIndex, DropIndex

_PRESENT = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :table",
}
_KEEP_LAST_WRITTEN = "DELETE FROM {table} WHERE rowid NOT IN (SELECT max(rowid) FROM {table} GROUP BY connection, id)"
"""SQLite: of the rows of one record, keep the one written last (rowids only grow in a table written by inserts)."""


@contextmanager
def built_after(sessions: sessionmaker[Session], table: Table, *, first_sync: bool) -> Iterator[bool]:
    """Around the writes of a sync: on a first sync into an empty ``table``, its indexes are built at the end.

    Yields whether the table is being written without its key. They are built on the way out of an
    error too; only a killed process leaves them to the next sync.
    """
    if not first_sync:
        yield False
        return
    with sessions.begin() as session:
        dropped = drop_if_empty(session, table)
        keyless = dropped and _key(table) is not None and session.get_bind().dialect.name == "sqlite"
    try:
        yield keyless
    finally:
        if dropped:
            with sessions.begin() as session:
                restore(session, table)


def drop_if_empty(session: Session, table: Table) -> bool:
    """Drop ``table``'s secondary indexes (and on SQLite its key) if it holds no row at all; whether it did."""
    if session.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
        return False
    key = _key(table)
    for index in _secondary(table):
        session.execute(DropIndex(index, if_exists=True))
    if key is not None and session.get_bind().dialect.name == "sqlite":
        session.execute(DropIndex(key, if_exists=True))
    return True


def restore(session: Session, table: Table) -> None:
    """Build whichever of ``table``'s indexes is missing (none is, normally: one cheap query), the key first."""
    query = text(_PRESENT[session.get_bind().dialect.name])
    present = set(session.scalars(query, {"table": table.name}))
    key = _key(table)
    if key is not None and key.name not in present:
        _build_key(session, table, key)
    for index in _secondary(table):
        if index.name not in present:
            session.execute(CreateIndex(index))


def _build_key(session: Session, table: Table, key: Index) -> None:
    """Build the key; if a record was written twice (met again later in its first sync), keep its last row."""
    try:
        session.execute(CreateIndex(key))
    except IntegrityError:  # SQLite undid the failed statement alone: the transaction goes on
        session.execute(text(_KEEP_LAST_WRITTEN.format(table=table.name)))
        session.execute(CreateIndex(key))


def _key(table: Table) -> Index | None:
    """The mirror table's unique index on ``(connection, id)``."""
    return next((index for index in table.indexes
                 if index.unique and [column.name for column in index.columns] == ["connection", "id"]), None)


def _secondary(table: Table) -> list[Index]:
    return sorted((index for index in table.indexes if not index.unique), key=lambda index: str(index.name))
