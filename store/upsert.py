"""``INSERT .. ON CONFLICT`` for the two databases the store runs on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


class UnsupportedDatabaseError(RuntimeError):
    """The store needs SQLite or PostgreSQL (both have ``INSERT .. ON CONFLICT``)."""


def conflict_insert(session: Session, table: type[Any] | Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT for the session's database that accepts ``on_conflict_do_update/do_nothing``."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise UnsupportedDatabaseError(
        f"the store supports sqlite and postgresql, not {dialect!r}: point WARDEN_DATABASE_URL at one of them"
    )
