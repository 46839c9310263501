"""Skips are kept as intervals, as findings are: one row while a record stays unjudgeable, not one per run.

A scheduled run carries forward every skip of its rules (a record with a date that cannot be read stays
so until someone fixes it), and each run wrote them all again: an org with thousands of such records
grew the ledger by thousands of rows every 15 minutes. Existing rows stay their run's own (no
``opened``), as a reverting run's skips are; the next run of each rule records its skips in full once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None

_OPEN_ROWS = "closed IS NULL AND opened IS NOT NULL"


def upgrade() -> None:
    for name, kind in (("connection", sa.String()), ("fingerprint", sa.String()), ("opened", sa.Integer()),
                       ("closed", sa.Integer())):
        op.add_column("skips", sa.Column(name, kind, nullable=True))
    op.create_index("ix_skips_connection_rule_closed", "skips", ["connection", "rule", "closed"])
    op.create_index("ix_skips_open_by_record", "skips", ["connection", "rule", "record_id"],
                    sqlite_where=sa.text(_OPEN_ROWS), postgresql_where=sa.text(_OPEN_ROWS))


def downgrade() -> None:
    """Back to one row per run's skip: each kept row stays with the run that first recorded it."""
    op.drop_index("ix_skips_open_by_record", table_name="skips")
    op.drop_index("ix_skips_connection_rule_closed", table_name="skips")
    with op.batch_alter_table("skips") as batch:
        for column in ("closed", "opened", "fingerprint", "connection"):
            batch.drop_column(column)
