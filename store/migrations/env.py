"""Alembic environment: runs against the connection that ``store.db.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from store.models import Base


def run_migrations(connection: Connection) -> None:
    """Upgrade through the connection given in ``config.attributes`` (SQLite and Postgres alike)."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError(
        "store migrations run through store.db.migrate(engine), which passes the connection; "
        "the alembic command line is not configured for this project"
    )
run_migrations(_connection)
