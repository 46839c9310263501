"""The bulk ingest path stores exactly what SQLAlchemy's own insert would have stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select
from sqlalchemy.dialects import sqlite

from domain.records import ObjectType, Record
from store.db import NaiveDatetimeError, UTCDateTime, session_factory
from store.ingest import COLUMNS, ID_SEPARATOR, MirrorWriter, split_text, stored_datetime, table_of
from tests.store.fake_reader import OBJECT_OF, one_of_each, owners, task


def _stored(engine: Engine, obj: ObjectType, connection: str) -> list[tuple[object, ...]]:
    table = table_of(obj)
    with engine.connect() as db:
        raw = db.exec_driver_sql(f"SELECT {', '.join(COLUMNS[obj])} FROM {table.name} WHERE connection = "
                                 f"{'?' if engine.dialect.name == 'sqlite' else '%s'}", (connection,))
        return [tuple(row) for row in raw]


@pytest.mark.parametrize("record", [*one_of_each(), owners()[0]], ids=lambda r: type(r).__name__)
def test_bulk_rows_equal_the_orm_rows_byte_for_byte(engine: Engine, record: Record) -> None:
    """Every column of every record type is stored in the same form as SQLAlchemy's insert stores it."""
    obj = OBJECT_OF[type(record)]
    with session_factory(engine).begin() as session:
        MirrorWriter(session, obj, "bulk").upsert(session, [record])
        session.execute(insert(table_of(obj)), [{"connection": "orm", **{n: getattr(record, n) for n in COLUMNS[obj]}}])
    assert _stored(engine, obj, "bulk") == _stored(engine, obj, "orm")


def test_a_datetime_in_another_zone_is_stored_as_its_utc_instant(engine: Engine) -> None:
    """A record whose datetimes carry an offset is stored as the same instant in UTC."""
    eastern = timezone(timedelta(hours=-5))
    record = task(1, created_at=datetime(2026, 5, 1, 4, 30, tzinfo=eastern))
    with session_factory(engine).begin() as session:
        MirrorWriter(session, ObjectType.TASK, "bulk").upsert(session, [record])
    with session_factory(engine)() as session:
        stored = session.scalar(select(table_of(ObjectType.TASK).c.created_at))
    assert stored == record.created_at and stored.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused(engine: Engine) -> None:
    """A connector that hands over a naive datetime is told to pass an aware one, nothing is written."""
    with pytest.raises(NaiveDatetimeError, match="aware"), session_factory(engine).begin() as session:
        MirrorWriter(session, ObjectType.TASK, "bulk").upsert(session, [task(1, created_at=datetime(2026, 5, 1))])
    assert _stored(engine, ObjectType.TASK, "bulk") == []


OFFSETS = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60))


@given(st.datetimes(min_value=datetime(2, 1, 1), timezones=st.just(UTC) | OFFSETS))
def test_any_aware_datetime_goes_to_sqlite_as_sqlalchemy_would_store_it(moment: datetime) -> None:
    """The bulk path's datetime text (its fast path for UTC included) is the text the ORM writes, for any instant."""
    dialect = sqlite.dialect()
    orm = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert orm is not None
    assert stored_datetime("sqlite")(moment) == orm(moment)


@given(st.lists(st.text(alphabet=["a", "7", ID_SEPARATOR, ",", "{", '"'], max_size=4), max_size=6))
def test_ids_go_as_one_text_only_when_splitting_it_gives_them_back(ids: list[str]) -> None:
    """Ids sent to PostgreSQL as one text are split back by the server at the separator: only ids that survive that
    unchanged go so (none empty, none holding it); the others go as an array."""
    joined = split_text(ids)
    if all(i and ID_SEPARATOR not in i for i in ids):
        assert joined is not None and (joined.split(ID_SEPARATOR) if ids else []) == ids
    else:
        assert joined is None


def test_numbers_never_go_as_one_text() -> None:
    assert split_text([1, 2]) is None
