"""Runs record only what changed: each rule's pass has an id, and the ledger keeps whose judgments its open rows are.

``rule_marks.pass_id`` names the pass whose judgments ``rule_state`` holds; ``recorded_passes`` the pass
whose findings (and a dry run's plan) are the open rows of the ledger. When a run's pass carried the
recorded pass forward, the run writes only the records whose judgment changed, found through the
``*_open_by_record`` indexes of open rows. Existing marks have no id, so each rule's next run compares
everything once.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None

_OPEN_ROWS = "closed IS NULL AND opened IS NOT NULL"


def upgrade() -> None:
    op.add_column("rule_marks", sa.Column("pass_id", sa.String(), nullable=True))
    op.create_table(
        "recorded_passes",
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("kept", sa.String(), nullable=False),
        sa.Column("pass_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_recorded_passes_run_id_runs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("connection", "rule", "kept", name=op.f("pk_recorded_passes")),
    )
    op.create_index("ix_recorded_passes_run_id", "recorded_passes", ["run_id"])
    for table in ("findings", "actions"):
        op.create_index(f"ix_{table}_open_by_record", table, ["connection", "rule", "record_id"],
                        sqlite_where=sa.text(_OPEN_ROWS), postgresql_where=sa.text(_OPEN_ROWS))


def downgrade() -> None:
    for table in ("actions", "findings"):
        op.drop_index(f"ix_{table}_open_by_record", table_name=table)
    op.drop_index("ix_recorded_passes_run_id", table_name="recorded_passes")
    op.drop_table("recorded_passes")
    with op.batch_alter_table("rule_marks") as batch:
        batch.drop_column("pass_id")
