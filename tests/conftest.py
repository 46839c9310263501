"""Shared fixtures: a database URL on SQLite and on the local PostgreSQL, and a migrated engine.

Each test module gets its own fresh database per backend (a uniquely named Postgres database,
dropped afterwards), so parallel runs do not meet; ``engine`` empties every table after each test.
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, delete, make_url, text
from sqlalchemy.exc import OperationalError

from store.db import make_engine, migrate
from store.models import Base

POSTGRES_URL = os.environ.get(
    "WARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Whatever a test's worker froze between passes (``store.collector.settle``) is collected as usual afterwards."""
    yield
    gc.unfreeze()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh database on the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'warden.db'}"
    else:
        yield from _fresh_postgres_database()


def _fresh_postgres_database() -> Iterator[str]:
    if os.environ.get("WARDEN_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("WARDEN_TEST_SKIP_POSTGRES=1")
    name = f"warden_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {make_url(POSTGRES_URL)!s} is unreachable ({exc.orig}): start it, point "
            "WARDEN_TEST_POSTGRES_URL at one, or set WARDEN_TEST_SKIP_POSTGRES=1 to skip these tests"
        )
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on ``database_url``; every table is emptied after the test."""
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    engine.dispose()

