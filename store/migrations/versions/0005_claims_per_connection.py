"""Claims are keyed within their connection: two orgs can share record ids (a sandbox copy of production).

Each existing claim's key gets its action's connection in front (``<connection>/<key>``), so what a
connection applied before the upgrade stays applied for it, and for it only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE idempotency SET key = (SELECT runs.connection FROM actions JOIN runs ON runs.id = actions.run_id "
        "WHERE actions.id = idempotency.action_id) || '/' || key"
    )


def downgrade() -> None:
    find = "strpos" if op.get_bind().dialect.name == "postgresql" else "instr"
    op.execute(f"UPDATE idempotency SET key = substr(key, {find}(key, '/') + 1)")
