"""The database's schema against the models', and Alembic at a chosen revision, for migration tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine

from store.db import MIGRATIONS
from store.models import Base


def schema_diff(engine: Engine) -> list[object]:
    """What the database has that the models do not declare, or lacks that they do (empty: the same)."""
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


@contextmanager
def alembic(engine: Engine) -> Iterator[tuple[Config, Connection]]:
    """Alembic's config and one transaction to run ``command.upgrade``/``downgrade`` and raw SQL in."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        yield config, connection
