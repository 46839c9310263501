"""PostgreSQL analyzes the rules' stored judgments from a sample of 3,000 rows, not 30,000.

A scheduled run rewrites the judgments that changed (tens of thousands at full size), so every few runs
``store.statistics.refresh`` finds ``rule_state`` past its threshold and analyzes it inside the run. With
the default statistics target (100) PostgreSQL samples 30,000 rows, reading most of the table's pages:
0.25 s at a quarter of the bench's org, 20 ms with a target of 10. The plans these statistics serve need
only each rule's share of the table and the spread of the recheck moments (``store.statistics``), which a
sample of 3,000 shows well. SQLite keeps no such statistics.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None

_COLUMNS = ("connection", "rule", "record_id", "recheck_at", "result")


def _set_target(target: int) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rule_state " + ", ".join(f"ALTER COLUMN {c} SET STATISTICS {target}" for c in _COLUMNS))


def upgrade() -> None:
    _set_target(10)


def downgrade() -> None:
    _set_target(-1)
