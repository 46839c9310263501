from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from store.db import make_engine, migrate
from store.models import Base


def test_migrate_on_an_empty_database_builds_exactly_the_models(database_url: str) -> None:
    """Running the migrations yields the tables, columns and indexes the models declare, nothing else."""
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
