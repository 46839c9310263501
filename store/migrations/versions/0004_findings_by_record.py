"""Findings are looked up by record (how long has this been open?), so index them that way.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_findings_record_id_rule", "findings", ["record_id", "rule"])


def downgrade() -> None:
    op.drop_index("ix_findings_record_id_rule", table_name="findings")
