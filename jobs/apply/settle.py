"""Settle what runs left in flight, from the CRM itself, before anything is planned again.

An action whose claim a run took may have reached the CRM though the ledger does not say so: the
process died (SIGKILL, power loss) or the ledger refused to record the CRM's answer. Each such
action is settled from the CRM: its records are read back (``Fetcher.fetch``, many ids per call);
one whose effect the CRM already shows (owner, stage, status, close fields; a merge's losers gone)
is marked applied, any other is applied as planned, with the payload the ledger holds. It is never
planned again: a new plan could choose differently (the next owner in a rotation, a close instead
of a pull-back) and so do twice what was meant once. Tasks are created through the connector,
which finds a task by its key instead of creating a second one; a merge goes on with the losers
the CRM still holds and reuses the snapshots saved before its first write. Then the runs'
dependent actions whose prerequisite is now applied are applied, and the actions the runs never
claimed are marked skipped: nothing of them reached the CRM, and the next run plans them again if
they are still needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from domain.connector import Connector
from domain.errors import BudgetExhausted
from domain.plan import Action, ActionKind, ActionStatus
from domain.records import ObjectType, Record
from jobs.apply.actions import apply_actions
from jobs.apply.fields import field_values, shows
from store.ledger import Answer, Ledger
from store.recovery import in_flight, planned_dependents, skip_unattempted

log = structlog.get_logger(__name__)
FIELD_WRITES = (ActionKind.REASSIGN, ActionKind.UPDATE, ActionKind.CLOSE)
UNATTEMPTED = "not attempted: its run ended before it got here; the next run plans it again if still needed"


@dataclass
class Settled:
    """What settling some runs did."""

    runs: list[str]
    shown: int = 0
    """Actions the CRM already showed: marked applied without a write."""
    applied: int = 0
    """Actions applied now, as planned."""
    failed: int = 0
    skipped: int = 0
    """Actions their run never claimed, left to the next run's plan (dependents whose prerequisite failed too)."""
    stopped: str | None = None
    """Why settling stopped early (API budget, shutdown): what is left stays claimed for the next start."""
    errors: list[str] = field(default_factory=list)


def settle_runs(connector: Connector, sessions: sessionmaker[Session], run_ids: Sequence[str], now: datetime,
                mine: Callable[[str], bool] = lambda rule: True) -> Settled:
    """Settle the actions ``run_ids`` left in flight, then their dependents, then skip what they never began.

    Only actions whose rule is ``mine`` are settled, and only dependents of those are applied or
    skipped: call while holding the locks of the jobs that plan those rules, so nobody else may
    apply their keys meanwhile. What the runs never claimed reached no CRM and is skipped whatever
    its rule.
    """
    settled = Settled(list(run_ids))
    if not run_ids:
        return settled
    ledger = Ledger(sessions)
    try:
        flying = [(i, a) for i, a in in_flight(sessions, run_ids) if mine(a.rule)]
        pending = _read_back(connector, ledger, flying, settled)
    except BudgetExhausted as exc:
        settled.stopped = str(exc)
        return settled
    claimed = {i for i, _ in pending}
    dependents = [(i, a) for i, a in planned_dependents(sessions, run_ids) if i not in claimed and mine(a.rule)]
    outcome = apply_actions(connector, ledger, [*pending, *dependents])
    settled.applied, settled.failed, settled.errors = outcome.applied, outcome.failed, outcome.errors
    settled.skipped = outcome.skipped
    settled.stopped = outcome.stopped
    if outcome.stopped is None:
        theirs = {a.rule for _, a in planned_dependents(sessions, run_ids) if not mine(a.rule)}
        settled.skipped += skip_unattempted(sessions, run_ids, UNATTEMPTED, now, waiting=theirs)
    log.info("apply.settled", runs=list(run_ids), shown=settled.shown, applied=settled.applied,
             failed=settled.failed, skipped=settled.skipped, stopped=settled.stopped)
    return settled


def _read_back(connector: Connector, ledger: Ledger, actions: list[tuple[int, Action]],
               settled: Settled) -> list[tuple[int, Action]]:
    """Mark applied what the CRM shows; the rest, as it is still to be done (a merge: its remaining losers)."""
    wanted: dict[ObjectType, set[str]] = {}
    for _, action in actions:
        if action.kind in FIELD_WRITES:
            wanted.setdefault(action.object, set()).add(action.record_id)
        elif action.kind is ActionKind.MERGE:
            wanted.setdefault(action.object, set()).update([action.record_id, *action.payload["loser_ids"]])
    held = {obj: connector.fetch(obj, sorted(ids)) for obj, ids in wanted.items()}
    pending: list[tuple[int, Action]] = []
    shown: list[Answer] = []
    for action_id, action in actions:
        if action.kind in FIELD_WRITES and shows(held[action.object].get(action.record_id), action.payload):
            shown.append(Answer(action_id, ActionStatus.APPLIED, result_id=action.record_id))
        elif action.kind is ActionKind.MERGE:
            rest = _merge_left(action, held[action.object])
            if rest is None:
                survivor = held[action.object][action.record_id]
                shown.append(Answer(action_id, ActionStatus.APPLIED, result_id=survivor.id))
                ledger.save_after_merge(action_id, field_values(survivor))
            else:
                pending.append((action_id, rest))
        else:
            pending.append((action_id, action))
    ledger.record_answers(shown)
    settled.shown = len(shown)
    return pending


def _merge_left(action: Action, accounts: dict[str, Record]) -> Action | None:
    """None when the CRM shows the merge done (master there, no loser left on its own); else what is left of it."""
    master = accounts.get(action.record_id)
    left = [i for i in action.payload["loser_ids"] if i in accounts and accounts[i].id == i]
    if master is not None and not left:
        return None
    survivor = master.id if master is not None else action.record_id
    return replace(action, record_id=survivor, payload={**action.payload, "loser_ids": left})
