"""Engines, sessions and migrations for the store (the mirror and the ledger share one database).

SQLite is the default (one file, one machine); PostgreSQL serves production. Both return aware
UTC datetimes through :class:`UTCDateTime`, so nothing downstream cares which one it talks to.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import DateTime, Dialect, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_CACHE_KB = 65_536
WAL_CHECKPOINT_PAGES = 100_000


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone reached the store: its meaning would depend on the machine."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC ``datetime``.

    SQLite has no time zones, so values are stored there as naive UTC text (which sorts correctly);
    PostgreSQL keeps them in ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise NaiveDatetimeError(
                f"naive datetime {value.isoformat()} given to the store: pass an aware datetime, "
                "e.g. datetime(..., tzinfo=UTC)"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            return _utc_from_sqlite_text
        if dialect.name == "postgresql":
            return _utc_from_postgres
        return super().result_processor(dialect, coltype)


def _utc_from_sqlite_text(value: str | None) -> datetime | None:
    """The naive UTC text that ``UTCDateTime`` stores in SQLite, read back as an aware datetime.

    Appending the offset and calling ``fromisoformat`` is ~6x faster than SQLAlchemy's parse followed
    by ``replace(tzinfo=...)``, and rules read millions of timestamps in one run.
    """
    if value is None:
        return None
    if len(value) == _STORED_LENGTH:
        return datetime.fromisoformat(value + "+00:00")
    parsed = datetime.fromisoformat(value)  # not written by UTCDateTime: a bare date, or text with its own offset
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _utc_from_postgres(value: datetime | None) -> datetime | None:
    """A ``timestamptz`` as the driver returns it: already in UTC on the engine's sessions (``make_engine``)."""
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_STORED_LENGTH = len("2026-01-31 23:59:59.999999")
"""SQLAlchemy writes every SQLite datetime in this one layout, microseconds included."""


CONNECT_TIMEOUT_SECONDS = 10
"""How long to wait for PostgreSQL to answer before saying it cannot be reached (a URL may set its own)."""
POSTGRES_SESSION = ("SET TIME ZONE 'UTC'", "SET jit = off")
"""Set on each new PostgreSQL connection. In UTC the driver returns timestamps in ``datetime.UTC`` and none
needs converting (a million deals read 20% faster than in a server's ``Etc/UTC``). Compiling a query to
machine code (JIT) costs 0.2 s per large query of the rules, more than it saves on them. Statements rather
than startup options, which connection poolers such as PgBouncer refuse."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; a SQLite file gets its folder created, WAL and foreign keys on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        engine = create_engine(url, **kwargs)
        if parsed.get_backend_name() == "postgresql":
            event.listen(engine, "connect", _postgres_session)
        return engine
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _postgres_session(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        for statement in POSTGRES_SESSION:
            cursor.execute(statement)
    dbapi_connection.commit()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB of page cache (the default is 2 MB): a large mirror's index pages stay in memory while a
    # sync writes millions of rows, a fixed amount whatever the org's size.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
    # Copy the write-ahead log into the database every 400 MB rather than every 4 MB: a sync's commits
    # touch the same index pages again and again, and each copy writes a page once however often it
    # changed (about 5% less CPU for a first sync of a million records at 40 MB, bench/sync_local). A
    # scheduled run at full size writes about 230 MB: the worker copies it while idle (``checkpoint``).
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cursor.close()


def checkpoint(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database now, as far as no reader needs it (no-op elsewhere).

    For a worker between passes: otherwise the copy falls inside the next run that writes past the
    log's limit, and a scheduled run at full size paid about a second of its time for it (``bench/rules``).
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def one_at_a_time(session: Session, key: str) -> None:
    """Hold ``key``'s lock until the session's transaction ends, so writers of ``key`` commit in turn.

    PostgreSQL: a transaction-level advisory lock. SQLite has one writer: its caller writes first.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def migrate(engine: Engine) -> None:
    """Bring the database to the latest schema (Alembic ``upgrade head``); no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_writable(engine: Engine) -> None:
    """Raise the database's own error now if it cannot take writes (a read-only disk, file or replica).

    Rewrites the schema version with itself: a real write on SQLite and PostgreSQL alike, which
    changes nothing, so a ledger that cannot be written stops a command before its run starts.
    """
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = version_num"))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, so results outlive their transaction."""
    return sessionmaker(engine, expire_on_commit=False)
