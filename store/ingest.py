"""Writing synced records into the mirror at the database's own bulk speed.

A first sync of ten million records cannot afford SQLAlchemy's per-value type processing and a
statement compile per chunk, so records become plain tuples here, each value already in the form
the database stores (what :class:`store.db.UTCDateTime` and the column types would have written),
and go in through the driver:

- SQLite: one prepared ``INSERT OR REPLACE`` run by ``executemany`` (one row per record where the
  table has its key; where a first sync writes it without, ``store.bulk_indexes``, a plain append);
- PostgreSQL: ``COPY`` into a temporary staging table, then one ``INSERT .. SELECT .. ON CONFLICT``
  merge per batch; a first sync copies straight into the table.

Rows read back through the ORM exactly as if SQLAlchemy had written them (a test checks both ways).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from functools import lru_cache
from typing import Any, cast

from psycopg.errors import UniqueViolation
from sqlalchemy import Date, Table, delete
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
IDS_PER_QUERY = 5000
"""Ids bound in one IN list (SQLite allows 32,766 parameters, PostgreSQL 65,535)."""


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
    """The naive UTC text SQLAlchemy writes for a SQLite datetime: fixed width, microseconds included.

    Connectors hand over UTC datetimes of four-digit years, which are formatted from their fields at
    about two thirds the cost of ``isoformat`` (a first sync formats three or four per record); the date
    part is looked up, records of one sync falling on far fewer days than there are records.
    """
    if value is None:
        return None
    if value.tzinfo is not UTC or value.year < _FOUR_DIGITS:
        return _aware(value).isoformat(" ", "microseconds")[:26]
    two = _TWO_DIGITS
    return (f"{_day(value.toordinal())}{two[value.hour]}:{two[value.minute]}:{two[value.second]}."
            f"{value.microsecond:06d}")


@lru_cache(maxsize=4096)
def _day(ordinal: int) -> str:
    return f"{date.fromordinal(ordinal).isoformat()} "


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_FOUR_DIGITS = 1000


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


def _encoders(obj: ObjectType, dialect: str) -> dict[str, Encode]:
    """Column -> encoder, for the columns whose Python value is not what the driver should get.

    On SQLite a ``StrEnum`` member needs none: it is a ``str``, and the driver stores its value.
    """
    table = table_of(obj)
    found: dict[str, Encode] = {}
    for name in COLUMNS[obj]:
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            found[name] = _sqlite_datetime if dialect == "sqlite" else _postgres_datetime
        elif isinstance(column_type, Date) and dialect == "sqlite":
            found[name] = _date
        elif isinstance(column_type, JSON):
            found[name] = _json
        elif isinstance(column_type, EnumType) and not (dialect == "sqlite" and _str_enum(column_type)):
            found[name] = _enum
    return found


def _str_enum(column_type: EnumType) -> bool:
    return column_type.enum_class is not None and issubclass(column_type.enum_class, StrEnum)


def row_maker(obj: ObjectType, dialect: str) -> Callable[[str, Record], tuple[Any, ...]]:
    """A function turning a record of ``obj`` into the tuple ``(connection, *columns)`` the driver takes.

    Generated, as dataclasses generate ``__init__``: each value is one attribute read and at most
    one encoder call, with no loop over the columns (a first sync makes a row per record). Booleans
    need no encoder: the SQLite driver stores ``True`` as 1.
    """
    encoders = _encoders(obj, dialect)
    names = {name: f"_{position}" for position, name in enumerate(encoders)}
    values = ", ".join(f"{names[n]}(record.{n})" if n in encoders else f"record.{n}" for n in COLUMNS[obj])
    source = f"def row(connection, record):\n    return (connection, {values})\n"
    scope: dict[str, Any] = {names[n]: encode for n, encode in encoders.items()}
    exec(compile(source, f"<row of {obj.value} for {dialect}>", "exec"), scope)  # our own source, from column names
    made: Callable[[str, Record], tuple[Any, ...]] = scope["row"]
    return made


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in ("sqlite", "postgresql"):
        raise UnsupportedDatabaseError(
            f"the store supports sqlite and postgresql, not {name!r}: point WARDEN_DATABASE_URL at one of them"
        )
    return name


class MirrorWriter:
    """Upserts and deletes records of one type for one connection, batch by batch, in the caller's transaction.

    ``keyless``: a first sync into an empty table written without its key (``store.bulk_indexes``).
    Records are then appended (SQLite's ``INSERT OR REPLACE`` finds no key to replace by, PostgreSQL
    copies); the caller builds the key before it deletes, and sets ``keyless`` off.

    ``first_sync`` into a table that has the key (another connection's records are there): on
    PostgreSQL the records are copied straight into the table, about twice as fast as staging and
    merging; the first batch holding an id the table already has is rolled back to a savepoint and
    merged instead, and so is every batch after it.
    """

    def __init__(
        self, session: Session, obj: ObjectType, connection: str, *, first_sync: bool = False, keyless: bool = False
    ) -> None:
        self._dialect = _dialect(session)
        self._expect_new = first_sync and self._dialect == "postgresql"
        self.keyless = keyless
        self._table = table_of(obj)
        self._row = row_maker(obj, self._dialect)
        self._connection = connection
        self.object_type, self.connection = obj, connection
        names = ["connection", *COLUMNS[obj]]
        self._names = ", ".join(names)
        updates = ", ".join(f"{n} = excluded.{n}" for n in COLUMNS[obj] if n != "id")
        self._conflict = f"ON CONFLICT (connection, id) DO UPDATE SET {updates}"
        placeholders = ", ".join("?" * len(names))
        self._replace = f"INSERT OR REPLACE INTO {self._table.name} ({self._names}) VALUES ({placeholders})"

    def upsert(self, session: Session, records: Sequence[Record]) -> None:
        """Insert or replace ``records`` (one version per id: the caller keeps the latest)."""
        if not records:
            return
        row, connection = self._row, self._connection
        rows = [row(connection, r) for r in records]
        if self._dialect == "sqlite":
            session.connection().exec_driver_sql(self._replace, rows)
        elif self.keyless:
            self._copy(_driver(session), self._table.name, rows)
        elif not (self._expect_new and self._copied_as_new(session, rows)):
            self._expect_new = False
            self._copy_and_merge(session, rows)

    def delete(self, session: Session, ids: Sequence[str]) -> None:
        table = self._table
        for start in range(0, len(ids), 2000):
            chunk = list(ids[start : start + 2000])
            session.execute(delete(table).where(table.c.connection == self._connection, table.c.id.in_(chunk)))

    def _copy(self, driver: Any, target: str, rows: list[tuple[Any, ...]]) -> None:
        _copy_rows(driver, target, self._names, rows)

    def _copied_as_new(self, session: Session, rows: list[tuple[Any, ...]]) -> bool:
        """COPY ``rows`` into the table itself; False, with nothing written, if one of their ids was there."""
        driver = _driver(session)
        with driver.cursor() as cursor:
            cursor.execute("SAVEPOINT warden_copy_new")
            try:
                self._copy(driver, self._table.name, rows)
            except UniqueViolation:
                cursor.execute("ROLLBACK TO SAVEPOINT warden_copy_new")
                return False
            cursor.execute("RELEASE SAVEPOINT warden_copy_new")
        return True

    def _copy_and_merge(self, session: Session, rows: list[tuple[Any, ...]]) -> None:
        stage = f"warden_stage_{self._table.name}"
        driver = _driver(session)
        with driver.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {self._table.name}) ON COMMIT DROP")
            self._copy(driver, stage, rows)
            cursor.execute(f"INSERT INTO {self._table.name} ({self._names}) SELECT {self._names} FROM {stage} "
                           f"{self._conflict}")
            cursor.execute(f"TRUNCATE {stage}")


def _driver(session: Session) -> Any:
    """The psycopg connection under the session's transaction (for ``COPY``)."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return driver


def stored_datetime(dialect: str) -> Callable[[datetime | None], Any]:
    """How a datetime goes to the driver on ``dialect`` (as ``UTCDateTime`` stores it)."""
    return _sqlite_datetime if dialect == "sqlite" else _postgres_datetime


def stored_date(dialect: str) -> Callable[[date | None], Any]:
    """How a date goes to the driver on ``dialect`` (SQLite keeps ISO text)."""
    return _date if dialect == "sqlite" else _same


def _same(value: Any) -> Any:
    return value


def insert_rows(
    session: Session, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]], *,
    skip_existing: bool = False,
) -> None:
    """Insert driver-ready tuples into ``table`` in one ``executemany`` (values already as stored).

    With ``skip_existing`` a row that would break a unique constraint is left out (``ON CONFLICT DO NOTHING``).
    """
    if not rows:
        return
    marker = "?" if _dialect(session) == "sqlite" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([marker] * len(names))})"
    session.connection().exec_driver_sql(sql + (" ON CONFLICT DO NOTHING" if skip_existing else ""), list(rows))


def append_rows(session: Session, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Append driver-ready tuples to ``table``: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite."""
    if _dialect(session) == "sqlite":
        insert_rows(session, table, names, rows)
        return
    _copy_rows(_driver(session), table.name, ", ".join(names), rows)


def _copy_rows(driver: Any, target: str, names: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL's ``COPY .. FROM STDIN`` of driver-ready tuples into the ``names`` columns of ``target``."""
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def driver_rows(session: Session, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The driver's own rows for ``sql`` (``?`` marks each parameter), without SQLAlchemy's work per row."""
    if _dialect(session) == "postgresql":
        sql = sql.replace("?", "%s")
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


ID_SEPARATOR = "\x1f"
"""Between the ids of a lookup sent to PostgreSQL as one text the server splits (``string_to_array``)."""


def split_text(values: Sequence[str] | Sequence[int]) -> str | None:
    """``values`` as one text PostgreSQL splits back at ``ID_SEPARATOR``; None unless all are non-empty texts.

    A text holding the separator shows in the joined text's count of it: checked there rather than id by id, as a
    scheduled run sends a third of a million ids.
    """
    try:
        joined = ID_SEPARATOR.join(cast(Sequence[str], values))
    except TypeError:  # not all texts
        return None
    return joined if "" not in values and joined.count(ID_SEPARATOR) == max(len(values) - 1, 0) else None


def driver_one_of(session: Session, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    """``column`` among ``values`` for :func:`driver_rows`: the condition, and its parameters.

    SQLite takes one placeholder a value. PostgreSQL takes them as one text the server splits: psycopg's
    array of a million texts spends a second quoting them in Python (a regular expression each), the split
    a tenth of that. Values it cannot split back (``split_text``) go as an array instead.
    """
    if _dialect(session) != "postgresql":
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)
    joined = split_text(values)
    if joined is None:
        return f"{column} = ANY(?)", [list(values)]
    return f"{column} = ANY(string_to_array(?, ?))", [joined, ID_SEPARATOR]


def rows_by_id(
    session: Session, table: Table, names: Sequence[str], connection: str, ids: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    """The driver's rows of ``names`` for the ids of ``connection`` that ``table`` holds, values as stored.

    Plain SQL with thousands of ids a query (``driver_one_of``): a sync looks up whole chunks of records, and
    SQLAlchemy's expanding parameters cost more per id than the lookup.
    """
    unique = sorted(set(ids))
    for start in range(0, len(unique), IDS_PER_QUERY):
        chunk = unique[start : start + IDS_PER_QUERY]
        listed, params = driver_one_of(session, "id", chunk)
        sql = f"SELECT {', '.join(names)} FROM {table.name} WHERE connection = ? AND {listed}"
        yield from driver_rows(session, sql, (connection, *params))
