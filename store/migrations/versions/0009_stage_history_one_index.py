"""Stage history keeps one index: the unique one begins with the same columns and serves every query.

The other, (connection, object, record_id, entered_at), cost each history row a second B-tree
insert: about 5 µs a row, on a first sync that writes a row per lead and deal (bench/sync_local).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_stage_history_record", table_name="stage_history")


def downgrade() -> None:
    op.create_index("ix_stage_history_record", "stage_history", ["connection", "object", "record_id", "entered_at"])
