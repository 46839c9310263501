"""Writing synced records into the mirror at the database's own bulk speed.

A first sync of ten million records cannot afford SQLAlchemy's per-value type processing and a
statement compile per chunk, so records become plain tuples here, each value already in the form
the database stores (what :class:`store.db.UTCDateTime` and the column types would have written),
and go in through the driver:

- SQLite: one prepared ``INSERT .. ON CONFLICT DO UPDATE`` run by ``executemany``;
- PostgreSQL: ``COPY`` into a temporary staging table, then one ``INSERT .. SELECT .. ON CONFLICT``
  merge per batch.

Rows read back through the ORM exactly as if SQLAlchemy had written them (a test checks both ways).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from operator import attrgetter
from typing import Any

from sqlalchemy import Boolean, Date, Table, delete
from sqlalchemy import Enum as EnumType
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

from domain.records import RECORD_CLASSES, ObjectType, Record
from store.db import NaiveDatetimeError, UTCDateTime
from store.models import MIRROR_ROWS, Base
from store.upsert import UnsupportedDatabaseError

Encode = Callable[[Any], Any]
COLUMNS: dict[ObjectType, tuple[str, ...]] = {
    obj: tuple(f.name for f in dataclasses.fields(cls) if f.name != "deleted")
    for obj, cls in RECORD_CLASSES.items()
}
"""Record fields stored as columns, in dataclass order (``deleted`` is always the last field)."""
_EMPTY_JSON = "{}"


def table_of(obj: ObjectType) -> Table:
    return Base.metadata.tables[MIRROR_ROWS[obj].__tablename__]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise NaiveDatetimeError(
            f"naive datetime {value.isoformat()} given to the store: pass an aware datetime, "
            "e.g. datetime(..., tzinfo=UTC)"
        )
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _sqlite_datetime(value: datetime | None) -> str | None:
    """The naive UTC text SQLAlchemy writes for a SQLite datetime: fixed width, microseconds included."""
    return None if value is None else _aware(value).isoformat(" ", "microseconds")[:26]


def _postgres_datetime(value: datetime | None) -> datetime | None:
    return None if value is None else _aware(value)


def _date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _json(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value) if value else _EMPTY_JSON


def _enum(value: Enum | str | None) -> str | None:
    return value._value_ if isinstance(value, Enum) else value  # ``_value_``: ``value`` is a slow property


def _boolean(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _encoders(obj: ObjectType, dialect: str) -> list[tuple[int, Encode]]:
    """(position, encoder) for the columns whose Python value is not what the driver should get."""
    table = table_of(obj)
    found: list[tuple[int, Encode]] = []
    for position, name in enumerate(COLUMNS[obj]):
        column_type = table.c[name].type
        encoder: Encode | None = None
        if isinstance(column_type, UTCDateTime):
            encoder = _sqlite_datetime if dialect == "sqlite" else _postgres_datetime
        elif isinstance(column_type, Date) and dialect == "sqlite":
            encoder = _date
        elif isinstance(column_type, JSON):
            encoder = _json
        elif isinstance(column_type, EnumType):
            encoder = _enum
        elif isinstance(column_type, Boolean) and dialect == "sqlite":
            encoder = _boolean
        if encoder is not None:
            found.append((position, encoder))
    return found


class RowMaker:
    """Turns records of one type into tuples ``(connection, *columns)`` ready for the driver."""

    def __init__(self, obj: ObjectType, dialect: str) -> None:
        self._values = attrgetter(*COLUMNS[obj])
        self._encoders = _encoders(obj, dialect)

    def row(self, connection: str, record: Record) -> tuple[Any, ...]:
        values = list(self._values(record))
        for position, encode in self._encoders:
            values[position] = encode(values[position])
        return (connection, *values)


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in ("sqlite", "postgresql"):
        raise UnsupportedDatabaseError(
            f"the store supports sqlite and postgresql, not {name!r}: point WARDEN_DATABASE_URL at one of them"
        )
    return name


class MirrorWriter:
    """Upserts and deletes records of one type for one connection, batch by batch, in the caller's transaction."""

    def __init__(self, session: Session, obj: ObjectType, connection: str) -> None:
        self._dialect = _dialect(session)
        self._table = table_of(obj)
        self._rows = RowMaker(obj, self._dialect)
        self._connection = connection
        self.object_type, self.connection = obj, connection
        names = ["connection", *COLUMNS[obj]]
        self._names = ", ".join(names)
        updates = ", ".join(f"{n} = excluded.{n}" for n in COLUMNS[obj] if n != "id")
        self._conflict = f"ON CONFLICT (connection, id) DO UPDATE SET {updates}"
        self._placeholders = ", ".join("?" * len(names))

    def upsert(self, session: Session, records: Sequence[Record]) -> None:
        """Insert or replace ``records`` (one version per id: the caller keeps the latest)."""
        if not records:
            return
        rows = [self._rows.row(self._connection, r) for r in records]
        if self._dialect == "sqlite":
            sql = f"INSERT INTO {self._table.name} ({self._names}) VALUES ({self._placeholders}) {self._conflict}"
            session.connection().exec_driver_sql(sql, rows)
        else:
            self._copy_and_merge(session, rows)

    def delete(self, session: Session, ids: Sequence[str]) -> None:
        table = self._table
        for start in range(0, len(ids), 2000):
            chunk = list(ids[start : start + 2000])
            session.execute(delete(table).where(table.c.connection == self._connection, table.c.id.in_(chunk)))

    def _copy_and_merge(self, session: Session, rows: list[tuple[Any, ...]]) -> None:
        stage = f"warden_stage_{self._table.name}"
        driver = session.connection().connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {self._table.name}) ON COMMIT DROP")
            with cursor.copy(f"COPY {stage} ({self._names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {self._table.name} ({self._names}) SELECT {self._names} FROM {stage} "
                           f"{self._conflict}")
            cursor.execute(f"TRUNCATE {stage}")


def stored_datetime(dialect: str) -> Callable[[datetime | None], Any]:
    """How a datetime goes to the driver on ``dialect`` (as ``UTCDateTime`` stores it)."""
    return _sqlite_datetime if dialect == "sqlite" else _postgres_datetime


def insert_rows(session: Session, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert driver-ready tuples into ``table`` in one ``executemany`` (values already as stored)."""
    if not rows:
        return
    marker = "?" if _dialect(session) == "sqlite" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([marker] * len(names))})"
    session.connection().exec_driver_sql(sql, list(rows))
