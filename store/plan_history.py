"""Each rule's usual plan size and current hold, from the summaries of its connection's recent applying runs.

An applying run records in its summary (``plan_sizes``) how many changes each rule planned that no
earlier run had applied, and (``held``) the rules it held back as too large; the blast-radius limits
(``enforcement.limits``) compare a new plan with these. A held plan is not counted as usual.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import RunRow

HISTORY_RUNS = 20
"""How many of a connection's latest applying runs make a rule's usual size."""
ENDED = ("finished", "stopped")
HOLD_LOOKBACK = 500
"""Applying runs read back to find each rule's latest judgment."""


@dataclass(frozen=True, slots=True)
class Hold:
    """A rule whose plan the latest applying run of its job held back as too large."""

    rule: str
    run_id: str
    at: datetime
    reason: str


def recent_plan_sizes(sessions: sessionmaker[Session], connection: str, rules: Collection[str],
                      runs: int = HISTORY_RUNS) -> dict[str, list[int]]:
    """By rule, the non-empty plan sizes of its last ``runs`` applying runs in ``connection``, newest first."""
    stmt = (select(RunRow.summary)
            .where(RunRow.connection == connection, RunRow.dry_run.is_(False), RunRow.status.in_(ENDED))
            .order_by(RunRow.started_at.desc()))
    sizes: dict[str, list[int]] = {rule: [] for rule in rules}
    with sessions() as session:
        for summary in session.scalars(stmt.limit(runs * 10)):
            for rule, size in ((summary or {}).get("plan_sizes") or {}).items():
                if rule in sizes and len(sizes[rule]) < runs and isinstance(size, int) and size > 0:
                    sizes[rule].append(size)
    return sizes


def current_holds(sessions: sessionmaker[Session], connection: str, rule_jobs: Mapping[str, str]) -> list[Hold]:
    """The rules (id -> job) whose latest applying run, of their job or ``all``, held their plan back."""
    stmt = (select(RunRow.id, RunRow.job, RunRow.started_at, RunRow.summary)
            .where(RunRow.connection == connection, RunRow.dry_run.is_(False), RunRow.status.in_(ENDED))
            .order_by(RunRow.started_at.desc()).limit(HOLD_LOOKBACK))
    waiting = dict(rule_jobs)
    holds: list[Hold] = []
    with sessions() as session:
        for run_id, job, started_at, summary in session.execute(stmt):
            for rule in [r for r, j in waiting.items() if job in (j, "all")]:
                del waiting[rule]
                reason = ((summary or {}).get("held") or {}).get(rule)
                if reason:
                    holds.append(Hold(rule, run_id, started_at, reason))
            if not waiting:
                break
    return sorted(holds, key=lambda h: h.rule)
