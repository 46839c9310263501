"""What the ledger says about runs left unsettled, for the recovery step (``jobs.apply.settle``).

A run is unsettled while it holds a claim it never settled: a ``planned`` claim of a run that is
no longer running (its process died, or a ledger write failed after the CRM call). Its action may
or may not have reached the CRM. The action's own row still says ``planned``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, union, update
from sqlalchemy.orm import Session, sessionmaker

from domain.plan import Action, ActionKind, ActionStatus
from domain.records import ObjectType
from store.models import ActionRow, ClaimRow, RunRow
from store.recorded import OWN_ACTIONS

PLANNED = ActionStatus.PLANNED.value


def jobs_to_settle(sessions: sessionmaker[Session], connection: str) -> set[str]:
    """Jobs of ``connection`` with a run marked running or a claim still planned: recovery may have work.

    Cheap enough for every job start: both are few, and claims are indexed by status.
    """
    running = select(RunRow.job).where(RunRow.connection == connection, RunRow.status == "running")
    holding = (select(RunRow.job).join(ClaimRow, ClaimRow.run_id == RunRow.id)
               .where(ClaimRow.status == PLANNED, RunRow.connection == connection))
    with sessions() as session:
        return set(session.scalars(select(union(running, holding).subquery().c.job)))


def claimed_runs(sessions: sessionmaker[Session], jobs: Collection[str], connection: str) -> list[str]:
    """Runs of these jobs on ``connection``, no longer running, that still hold a planned claim."""
    stmt = (select(RunRow.id).distinct().join(ClaimRow, ClaimRow.run_id == RunRow.id)
            .where(ClaimRow.status == PLANNED, RunRow.connection == connection, RunRow.job.in_(list(jobs)),
                   RunRow.status != "running"))
    with sessions() as session:
        return list(session.scalars(stmt))


def in_flight(sessions: sessionmaker[Session], run_ids: Sequence[str]) -> list[tuple[int, Action]]:
    """The planned actions of ``run_ids`` that hold their key's claim: the CRM may or may not have seen them."""
    stmt = (select(ActionRow).join(ClaimRow, ClaimRow.action_id == ActionRow.id)
            .where(ActionRow.run_id.in_(run_ids), ActionRow.status == PLANNED, ClaimRow.status == PLANNED)
            .order_by(ActionRow.id))
    with sessions() as session:
        return [(a.id, _action(a)) for a in session.scalars(stmt)]


def planned_dependents(sessions: sessionmaker[Session], run_ids: Sequence[str]) -> list[tuple[int, Action]]:
    """The still-planned actions of ``run_ids`` that wait on a prerequisite (a task explaining a reassignment).

    A rerun of the rule would not plan them again once the prerequisite is applied (the record has
    its new owner), so without them the new owner would never learn why the record is theirs.
    """
    stmt = (select(ActionRow).where(ActionRow.run_id.in_(run_ids), ActionRow.status == PLANNED, OWN_ACTIONS,
                                    ActionRow.requires.is_not(None)).order_by(ActionRow.id))
    with sessions() as session:
        return [(a.id, _action(a)) for a in session.scalars(stmt)]


def skip_unattempted(sessions: sessionmaker[Session], run_ids: Sequence[str], reason: str, now: datetime,
                     waiting: Collection[str] = ()) -> int:
    """Mark ``skipped`` the planned actions of ``run_ids`` holding no claim: nothing of them reached the CRM.

    Dependents of the rules in ``waiting`` are left planned: their prerequisite may still be
    settled by another job. The keys stay free, so the next run plans the skipped actions again if
    they are still needed. Returns how many were skipped.
    """
    held = select(ClaimRow.action_id).where(ClaimRow.status == PLANNED)
    stmt = (update(ActionRow)
            .where(ActionRow.run_id.in_(run_ids), ActionRow.status == PLANNED, OWN_ACTIONS, ActionRow.id.not_in(held),
                   ActionRow.requires.is_(None) | ActionRow.rule.not_in(list(waiting)))
            .values(status=ActionStatus.SKIPPED.value, error=reason, updated_at=now))
    with sessions.begin() as session:
        result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]
        return result.rowcount


def _action(row: ActionRow) -> Action:
    return Action(ActionKind(row.kind), ObjectType(row.object), row.record_id, row.key, row.reason, row.rule,
                  dict(row.payload), row.requires)
