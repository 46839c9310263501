"""Where a benchmark's mirror lives: a SQLite file, or a fresh database on the local PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

POSTGRES = os.environ.get("WARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KINDS = ("sqlite", "postgresql")


@contextmanager
def database(kind: str, folder: Path, name: str = "mirror.db") -> Iterator[str]:
    """The URL of an empty database of ``kind`` (PostgreSQL: created here, dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / name}"
        return
    database_name = f"warden_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{database_name}"'))
    try:
        yield make_url(POSTGRES).set(database=database_name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as db:
            db.execute(text(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)'))
        admin.dispose()
