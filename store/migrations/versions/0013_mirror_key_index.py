"""Mirror tables keep their (connection, id) key in a unique index instead of a primary key.

A first sync into an empty table can then write it without the key and build the index once at
the end (``store.bulk_indexes``): SQLite cannot drop a primary key, and keeping one current row by
row costs a random B-tree insert per record that grows dearer as the table outgrows the cache.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("owners", "accounts", "contacts", "leads", "opportunities", "tasks", "notes", "activities")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_index(f"uq_{table}_connection_id", ["connection", "id"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.drop_index(f"uq_{table}_connection_id")
            batch.create_primary_key(f"pk_{table}", ["connection", "id"])
