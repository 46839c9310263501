"""What became of each planned action; for a dry run, what would become of it, from the ledger.

A dry run changes nothing, so every action it plans is ``planned`` in the ledger. What a reader
needs is whether an apply would change anything: an action whose key a run already applied is
``already_applied`` (by which run, when), one that failed before (or that a dead run left in
flight) ``would_retry``, and only the rest ``would_apply``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.plan import Action, ActionStatus, PlanStatus
from jobs.rule_passes import OBJECTS_BETWEEN_COLLECTIONS
from store.claims import Held, applied_in
from store.collector import collections_every

_WOULD_APPLY, _ALREADY_APPLIED, _WOULD_RETRY, _SKIPPED = (
    PlanStatus.WOULD_APPLY.value, PlanStatus.ALREADY_APPLIED.value, PlanStatus.WOULD_RETRY.value,
    ActionStatus.SKIPPED.value)
"""Read once: an enum member's ``value`` goes through a Python-level descriptor, 1.3 million times a scheduled run."""


@dataclass(slots=True)
class ActionOutcome:
    action: Action
    status: str
    """An ``ActionStatus`` for a run that applied, a ``PlanStatus`` for a dry run."""
    error: str | None = None
    applied_by: str | None = None
    """The run that applied the action's key (``already_applied`` only)."""
    applied_at: datetime | None = None


def dry_run_outcomes(actions: Sequence[Action], claims: Mapping[str, Held]) -> list[ActionOutcome]:
    """Each action of a dry run with what an apply would do with it, given its key's claim (``Ledger.held_claims``).

    A scheduled run at full size tells about a million: built with the young collections held back, as rules are
    (half of 1.8 s went to collections walking the run's other objects).
    """
    with collections_every(OBJECTS_BETWEEN_COLLECTIONS):
        return [ActionOutcome(action, _WOULD_APPLY) if (held := claims.get(action.key)) is None
                else _judged(action, held) for action in actions]


def dry_run_tally(plans: Mapping[str, Sequence[Action]], claims: Mapping[str, Held]) -> Counter[tuple[str, str]]:
    """What ``dry_run_outcomes`` tells of each rule's actions, counted by rule and status (a worker's run).

    Without an object per action. With no claim among the run's keys every action would apply: counted by rule
    without a walk over the plan, a million actions at full size.
    """
    if not claims:
        return Counter({(rule, _WOULD_APPLY): len(actions) for rule, actions in plans.items() if actions})
    return Counter((action.rule, _WOULD_APPLY if (held := claims.get(action.key)) is None else _judged_status(held))
                   for actions in plans.values() for action in actions)


def applied_before(action: Action, held: Held) -> ActionOutcome:
    """An applying run's action whose key a run had already applied (``held``): skipped, as its claim refuses it.

    The run keeps no row of its own for such an action, only the plan's shared one (``Ledger.record_applying_run``).
    """
    return ActionOutcome(action, _SKIPPED, applied_in(held.run_id))


def _judged_status(held: Held) -> str:
    return _ALREADY_APPLIED if held.applied else _WOULD_RETRY


def _judged(action: Action, held: Held) -> ActionOutcome:
    if held.applied:
        return ActionOutcome(action, _ALREADY_APPLIED, applied_by=held.run_id, applied_at=held.at)
    if held.status is ActionStatus.FAILED:
        return ActionOutcome(action, _WOULD_RETRY, held.error)
    note = (f"left in flight by run {held.run_id} since {held.at:%Y-%m-%d %H:%M %Z}: the next apply settles it "
            "from the CRM first")
    return ActionOutcome(action, _WOULD_RETRY, note)
