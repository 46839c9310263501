"""Actions are looked up by key and by record among runs' own rows only, not among the plan runs share.

``ix_actions_key`` and ``ix_actions_rule_record_id_status`` held every action row. The plan runs share is
written and closed by the ten thousand every scheduled run at the bench's full size, and those two indexes,
keyed at random, took half of each write's time on PostgreSQL. Only runs' own rows (``opened IS NULL``: what
an applying run claims, merges and their undos) are read by key or by record; the indexes now hold them alone.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None

_OWN_ROWS = "opened IS NULL"


def _own_rows(leading: str) -> sa.TextClause:
    """Runs' own rows; on PostgreSQL the leading column (never null) too, so only a read comparing it takes the index
    (``store.models._own_actions_index``)."""
    return sa.text(f"{_OWN_ROWS} AND {leading} IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_actions_key", table_name="actions")
    op.drop_index("ix_actions_rule_record_id_status", table_name="actions")
    op.create_index("ix_actions_own_key", "actions", ["key"],
                    sqlite_where=sa.text(_OWN_ROWS), postgresql_where=_own_rows("key"))
    op.create_index("ix_actions_own_rule_record_id_status", "actions", ["rule", "record_id", "status"],
                    sqlite_where=sa.text(_OWN_ROWS), postgresql_where=_own_rows("rule"))


def downgrade() -> None:
    op.drop_index("ix_actions_own_rule_record_id_status", table_name="actions")
    op.drop_index("ix_actions_own_key", table_name="actions")
    op.create_index("ix_actions_rule_record_id_status", "actions", ["rule", "record_id", "status"])
    op.create_index("ix_actions_key", "actions", ["key"])
