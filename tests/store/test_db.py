from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, bindparam, create_engine, select, text
from sqlalchemy.exc import StatementError

from store.db import NaiveDatetimeError, UTCDateTime, make_engine, session_factory
from store.models import WatermarkRow

aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1), timezones=st.timezones()
)


_SQLITE = create_engine("sqlite://")


@given(aware)
def test_utc_datetime_reads_back_the_same_instant_in_utc_on_sqlite(value: datetime) -> None:
    """Any aware datetime stored in SQLite comes back as the same instant with a UTC zone."""
    with _SQLITE.connect() as connection:
        back = connection.scalar(select(bindparam("value", value, type_=UTCDateTime())))
    assert back == value.astimezone(UTC)
    assert back is not None and back.tzinfo is UTC


@pytest.mark.parametrize(("stored", "expected"), [
    ("2026-03-08 06:30:15.123456", datetime(2026, 3, 8, 6, 30, 15, 123456, tzinfo=UTC)),
    ("2026-03-08T01:30:15-05:00", datetime(2026, 3, 8, 6, 30, 15, tzinfo=UTC)),
    ("2026-03-08", datetime(2026, 3, 8, tzinfo=UTC)),
])
def test_utc_datetime_reads_sqlite_text_written_by_other_tools(stored: str, expected: datetime) -> None:
    """Text put in the file by hand or by another tool is read as UTC unless it carries its own offset."""
    with _SQLITE.connect() as connection:
        back = connection.scalar(text("SELECT :stored AS value").bindparams(stored=stored).columns(value=UTCDateTime()))
    assert back == expected and back.tzinfo is UTC


@given(aware)
def test_utc_datetime_normalizes_postgres_values_to_utc(value: datetime) -> None:
    """A timestamptz that the driver returns in any zone is handed back in UTC."""
    column = UTCDateTime()
    dialect = create_engine("postgresql+psycopg://").dialect
    back = column.process_result_value(column.process_bind_param(value, dialect), dialect)
    assert back == value.astimezone(UTC)
    assert back is not None and back.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused_with_a_fix(engine: Engine) -> None:
    """Storing a datetime without a zone fails and says to pass an aware one."""
    sessions = session_factory(engine)
    refused = pytest.raises(StatementError, match=r"naive datetime 2026-05-01T07:25:37.*pass an aware datetime")
    with refused as info, sessions.begin() as session:
        session.add(WatermarkRow(connection="local", object="task", value=datetime(2026, 5, 1, 7, 25, 37),
                                 updated_at=datetime(2026, 5, 1, tzinfo=UTC)))
    assert isinstance(info.value.orig, NaiveDatetimeError)


def test_datetimes_round_trip_aware_through_the_database(engine: Engine) -> None:
    """A datetime written in another zone reads back as the same instant, aware and in UTC."""
    eastern = timezone(timedelta(hours=-5))
    written = datetime(2026, 3, 8, 1, 30, 15, 123456, tzinfo=eastern)
    with session_factory(engine).begin() as session:
        session.add(WatermarkRow(connection="local", object="task", value=written, updated_at=written))
    with session_factory(engine)() as session:
        value = session.scalar(select(WatermarkRow.value))
    assert value == written
    assert value is not None and value.tzinfo is UTC and value.hour == 6


def test_make_engine_creates_the_sqlite_folder_and_turns_on_wal(tmp_path: Path) -> None:
    """A SQLite URL in a folder that does not exist yet works, in WAL mode with foreign keys on."""
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'deeper' / 'warden.db'}")
    with engine.connect() as connection:
        journal = connection.execute(text("PRAGMA journal_mode")).scalar()
        foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
    engine.dispose()
    assert (tmp_path / "new" / "deeper" / "warden.db").exists()
    assert (journal, foreign_keys) == ("wal", 1)
