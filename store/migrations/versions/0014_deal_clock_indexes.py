"""Opportunities: the stage-change index also orders by creation, and the channel partner is indexed.

Stale deals look for the deals that turned old since the last run without a stage change ever
recorded (their clock runs from creation): ``(connection, stage_changed_at, created_at)`` finds them
without a scan of every deal, and still serves every lookup by stage change alone. A partner account
that changes owner sends its deals back to the new channel manager: ``partner_account_id`` finds them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_opportunities_stage_changed_at_created_at", "opportunities",
                    ["connection", "stage_changed_at", "created_at"])
    op.drop_index("ix_opportunities_stage_changed_at", table_name="opportunities")
    op.create_index("ix_opportunities_partner_account_id", "opportunities", ["connection", "partner_account_id"])


def downgrade() -> None:
    op.drop_index("ix_opportunities_partner_account_id", table_name="opportunities")
    op.create_index("ix_opportunities_stage_changed_at", "opportunities", ["connection", "stage_changed_at"])
    op.drop_index("ix_opportunities_stage_changed_at_created_at", table_name="opportunities")
