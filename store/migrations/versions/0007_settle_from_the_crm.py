"""Claims are looked up by status (the ones a run never settled), and a merge keeps its master's after-image.

Recovery looks for claims still ``planned`` at every job start, so they get an index. Undo compares
the master's fields now with what they were just after the merge, so a merge's master snapshot
row gains that after-image.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_idempotency_status", "idempotency", ["status"])
    with op.batch_alter_table("snapshots") as table:
        table.add_column(sa.Column("after_merge", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("snapshots") as table:
        table.drop_column("after_merge")
    op.drop_index("ix_idempotency_status", table_name="idempotency")
