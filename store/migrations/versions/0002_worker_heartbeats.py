"""Worker heartbeats: one row per worker process, for ``warden status`` and liveness checks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.worker_models  # noqa: F401  (registers the table on Base.metadata for autogenerate checks)
from store.db import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table('worker_heartbeats',
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('beat_at', UTCDateTime(), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('job', sa.String(), nullable=True),
    sa.Column('connection', sa.String(), nullable=True),
    sa.Column('policy_source', sa.String(), nullable=True),
    sa.Column('policy_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_worker_heartbeats'))
    )


def downgrade() -> None:
    op.drop_table('worker_heartbeats')
