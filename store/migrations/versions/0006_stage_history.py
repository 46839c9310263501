"""Each lead's status and each opportunity's stage and forecast over time, for the pipeline reports.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "stage_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("object", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("stage", sa.String(), nullable=True),
        sa.Column("amount", sa.Double(), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_history")),
    )
    op.create_index("ix_stage_history_record", "stage_history", ["connection", "object", "record_id", "entered_at"])
    op.create_index("uq_stage_history_change", "stage_history",
                    ["connection", "object", "record_id", "entered_at", "stage", "source"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_stage_history_change", table_name="stage_history")
    op.drop_index("ix_stage_history_record", table_name="stage_history")
    op.drop_table("stage_history")
