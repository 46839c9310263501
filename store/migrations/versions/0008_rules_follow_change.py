"""Rules follow change: the records each incremental sync changed, each rule's last judgment per record,
and what a connector keeps between syncs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "mirror_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("object", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirror_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mirror_changes_connection_id", "mirror_changes", ["connection", "id"])
    op.create_table(
        "rule_state",
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("recheck_at", UTCDateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("connection", "rule", "record_id", name=op.f("pk_rule_state")),
    )
    op.create_index("ix_rule_state_connection_rule_recheck_at", "rule_state", ["connection", "rule", "recheck_at"])
    op.create_table(
        "rule_marks",
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("now", UTCDateTime(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("full_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("connection", "rule", name=op.f("pk_rule_marks")),
    )


    op.create_table(
        "reader_state",
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("connection", name=op.f("pk_reader_state")),
    )


def downgrade() -> None:
    op.drop_table("reader_state")
    op.drop_table("rule_marks")
    op.drop_index("ix_rule_state_connection_rule_recheck_at", table_name="rule_state")
    op.drop_table("rule_state")
    op.drop_index("ix_mirror_changes_connection_id", table_name="mirror_changes")
    op.drop_table("mirror_changes")
