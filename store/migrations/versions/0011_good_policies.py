"""The ledger keeps the last policy each policy file loaded with, so ``warden status`` can show it while the file is broken.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.worker_models  # noqa: F401  (registers the table on Base.metadata for autogenerate checks)

from store.db import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "good_policies",
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("good_policies")
