"""What runs applied is indexed apart from the millions of actions they planned.

Every run reads the reassignments and leads applied so far (``store.history``), and digests the
reassignments and reminders applied since a moment: each read walked the whole ``actions`` table, which
holds every plan the ledger keeps, growing with the org and with time. ``ix_actions_applied`` holds the
applied rows alone (a partial index: planned rows, written by the million, never enter it).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None

_APPLIED_ROWS = "status = 'applied'"


def upgrade() -> None:
    op.create_index("ix_actions_applied", "actions", ["kind", "updated_at"],
                    sqlite_where=sa.text(_APPLIED_ROWS), postgresql_where=sa.text(_APPLIED_ROWS))


def downgrade() -> None:
    op.drop_index("ix_actions_applied", table_name="actions")
