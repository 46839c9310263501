"""A first sync into an empty mirror table writes it without its secondary indexes, then builds them.

Keeping an index current row by row costs a random B-tree insert per index per record, and each
one grows dearer as the table outgrows the page cache: the tasks table has five such indexes, and
at 600,000 tasks they took 40% of a first sync's write CPU and most of its wall time
(``bench/sync_local``). Building an index once over the finished table is one sort.

Only an empty table is written this way: no other connection's rules need the indexes then. A
sync that stops midway leaves the indexes dropped; the next sync of the type builds them first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Index, Table, literal, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import CreateIndex, DropIndex

_PRESENT = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :table",
}


@contextmanager
def built_after(sessions: sessionmaker[Session], table: Table, *, first_sync: bool) -> Iterator[None]:
    """Around the writes of a sync: on a first sync into an empty ``table``, its indexes are built at the end.

    They are built on the way out of an error too; only a killed process leaves them to the next sync.
    """
    if not first_sync:
        yield
        return
    with sessions.begin() as session:
        dropped = drop_if_empty(session, table)
    try:
        yield
    finally:
        if dropped:
            with sessions.begin() as session:
                restore(session, table)


def drop_if_empty(session: Session, table: Table) -> bool:
    """Drop ``table``'s secondary indexes if it holds no row at all; whether it did."""
    if session.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
        return False
    for index in _secondary(table):
        session.execute(DropIndex(index, if_exists=True))
    return True


def restore(session: Session, table: Table) -> None:
    """Build whichever of ``table``'s secondary indexes is missing (none is, normally: one cheap query)."""
    query = text(_PRESENT[session.get_bind().dialect.name])
    present = set(session.scalars(query, {"table": table.name}))
    for index in _secondary(table):
        if index.name not in present:
            session.execute(CreateIndex(index))


def _secondary(table: Table) -> list[Index]:
    return sorted((index for index in table.indexes if not index.unique), key=lambda index: str(index.name))
