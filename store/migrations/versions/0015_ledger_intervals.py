"""Findings and dry runs' plans are kept as intervals: one row while a finding stays the same, not one per run.

A run gets its place in the order of recording (``runs.recorded``) and the rules it recorded
(``runs.rules``); a finding row names its connection, the place it was first recorded (``opened``)
and the place of the first run of its rule without it (``closed``). Each existing row is one run's
finding, so it becomes the interval of that run alone; the next run of each rule records its
findings in full once, and only what changed after that. A dry run's planned actions get the same
columns; existing actions keep them empty, as every applying run's own actions do.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None

_runs = sa.table("runs", sa.column("id", sa.String()), sa.column("recorded", sa.Integer()),
                 sa.column("rules", sa.JSON()))


def upgrade() -> None:
    op.add_column("runs", sa.Column("recorded", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("rules", sa.JSON(), nullable=True))
    op.add_column("findings", sa.Column("connection", sa.String(), nullable=True))
    op.add_column("findings", sa.Column("fingerprint", sa.String(), nullable=True))
    op.add_column("findings", sa.Column("opened", sa.Integer(), nullable=True))
    op.add_column("findings", sa.Column("closed", sa.Integer(), nullable=True))
    bind = op.get_bind()
    run_ids = bind.execute(sa.text("SELECT id FROM runs ORDER BY started_at, id")).scalars().all()
    rules: dict[str, list[str]] = defaultdict(list)
    for run_id, rule in bind.execute(sa.text("SELECT run_id, rule FROM findings GROUP BY run_id, rule ORDER BY rule")):
        rules[run_id].append(rule)
    if run_ids:
        bind.execute(sa.update(_runs).where(_runs.c.id == sa.bindparam("run")).values(
            recorded=sa.bindparam("place"), rules=sa.bindparam("its_rules", type_=sa.JSON())),
            [{"run": run_id, "place": place, "its_rules": rules[run_id]}
             for place, run_id in enumerate(run_ids, start=1)])
    op.execute("UPDATE findings SET connection = (SELECT runs.connection FROM runs WHERE runs.id = findings.run_id), "
               "opened = (SELECT runs.recorded FROM runs WHERE runs.id = findings.run_id), "
               "closed = (SELECT runs.recorded + 1 FROM runs WHERE runs.id = findings.run_id)")
    with op.batch_alter_table("findings") as batch:
        batch.alter_column("connection", existing_type=sa.String(), nullable=False)
        batch.alter_column("opened", existing_type=sa.Integer(), nullable=False)
    op.create_index("ix_runs_recorded", "runs", ["recorded"], unique=True)
    op.create_index("ix_findings_connection_rule_closed", "findings", ["connection", "rule", "closed"])
    for name, kind in (("connection", sa.String()), ("fingerprint", sa.String()), ("opened", sa.Integer()),
                       ("closed", sa.Integer())):
        op.add_column("actions", sa.Column(name, kind, nullable=True))
    op.create_index("ix_actions_connection_rule_closed", "actions", ["connection", "rule", "closed"])


def downgrade() -> None:
    """Back to one row per run's finding and action: each row stays with the run that first recorded it."""
    op.drop_index("ix_actions_connection_rule_closed", table_name="actions")
    with op.batch_alter_table("actions") as batch:
        for column in ("closed", "opened", "fingerprint", "connection"):
            batch.drop_column(column)
    op.drop_index("ix_findings_connection_rule_closed", table_name="findings")
    op.drop_index("ix_runs_recorded", table_name="runs")
    with op.batch_alter_table("findings") as batch:
        for column in ("closed", "opened", "fingerprint", "connection"):
            batch.drop_column(column)
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("rules")
        batch.drop_column("recorded")
