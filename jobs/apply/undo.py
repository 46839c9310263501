"""Undo merges from the ledger's snapshots, with no time limit, on any CRM.

``undo`` takes a dedupe run id (every merge it applied) or one merge's idempotency key. It is its
own ledger run; each restore is an action keyed ``undo:<merge key>``, so undoing twice restores
once. A restore puts the master's fields back as they were before the merge, so a value a user
changed since would be lost: undo compares the master now with its fields just after the merge
(kept by apply) and refuses a merge whose master changed, naming the fields, unless told to
``overwrite``. An applied undo moves its cluster to the next merge generation (see ``dedupe.plan.merge_key``):
applying the cluster again merges it under a new key, which its own undo takes back. An undo that
failed or was interrupted moves nothing, so an apply meanwhile lands on the still-applied key and is
skipped. The scheduled job never merges accounts an admin asked to take apart
(``store.merge_history.taken_apart``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from domain.connector import Connector, Fetcher, Merger
from domain.errors import ConnectorError
from domain.invocation import warden_command
from domain.plan import Action, ActionKind, ActionStatus
from domain.progress import NO_PROGRESS, Progress
from domain.records import ObjectType, Record
from jobs.apply.fields import field_values
from store.ledger import UNSETTLEABLE_LEASE, Ledger
from store.merge_history import UNDO_RULE, AppliedMerge, after_merge, applied_merges, merge_snapshots

JOB = "dedupe-undo"


class NothingToUndo(LookupError):
    """The id names no applied merge in the ledger."""


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    merge: AppliedMerge
    status: ActionStatus
    restored: tuple[str, ...] = ()
    error: str | None = None
    changed: tuple[str, ...] = ()
    """The master's fields a user changed since the merge, ``name: after the merge -> now``."""


@dataclass
class UndoRun:
    run_id: str | None
    """None for a dry run, which records nothing."""
    outcomes: list[UndoOutcome] = field(default_factory=list)


def merges_to_undo(sessions: sessionmaker[Session], run_or_key: str) -> list[AppliedMerge]:
    """The applied merges named by a dedupe run id or a merge key, newest first."""
    merges = applied_merges(sessions, run_or_key)
    if not merges:
        raise NothingToUndo(
            f"{run_or_key!r} is neither a dedupe run that applied merges nor the key of an applied merge "
            "(keys look like merge:<connection>:<master>:<losers>, then #1, #2... for merges after an undo); "
            f"see `{warden_command()} ledger show latest`"
        )
    return merges


def _undo_action(merge: AppliedMerge) -> Action:
    return Action(
        kind=ActionKind.MERGE, object=merge.object, record_id=merge.master_id, key=f"undo:{merge.key}",
        reason=f"undo the merge into {merge.master_id} applied in run {merge.run_id}", rule=UNDO_RULE,
        payload={"undoes": merge.key, "merge_run_id": merge.run_id, "cluster_key": merge.cluster_key,
                 "accounts": [merge.master_id, *merge.loser_ids]},
    )


def undo(
    run_or_key: str,
    connector: Connector,
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    apply: bool,
    overwrite: bool = False,
    progress: Progress = NO_PROGRESS,
) -> UndoRun:
    """Restore the records and children of the named merges; a dry run only says what it would restore.

    A merge whose master a user changed since is refused (failed, with the fields named) unless
    ``overwrite``; its key stays free, so undo can be run again. ``progress`` hears of each restore.
    """
    merges = merges_to_undo(sessions, run_or_key)
    changed = changed_since_merge(connector, sessions, merges)
    if not apply:
        return UndoRun(None, [_planned(sessions, m, changed[m.key], overwrite) for m in merges])
    ledger = Ledger(sessions, claim_lease=UNSETTLEABLE_LEASE)  # a dead undo's restore is not read back
    run_id = ledger.start_run(JOB, merges[0].connection, dry_run=False, now=now)
    action_ids = ledger.record_actions(run_id, [_undo_action(m) for m in merges])
    run = UndoRun(run_id)
    statuses: Counter[str] = Counter()
    with progress.phase("undo", total=len(merges), unit="merges") as phase:
        for action_id, m in zip(action_ids, merges, strict=True):
            run.outcomes.append(outcome := _restore(connector, ledger, sessions, action_id, m,
                                                    () if overwrite else changed[m.key]))
            statuses[outcome.status.value] += 1
            phase.update(len(run.outcomes), **statuses)
    ledger.finish_run(run_id, "finished", {s.value: sum(o.status is s for o in run.outcomes) for s in ActionStatus})
    return run


def changed_since_merge(connector: Fetcher, sessions: sessionmaker[Session],
                        merges: list[AppliedMerge]) -> dict[str, tuple[str, ...]]:
    """By merge key, the master's fields that differ now from just after the merge (one read for all masters).

    A merge recorded without its after-image (applied by an older version) cannot be checked: nothing is listed.
    """
    after = {m.key: after_merge(sessions, m) for m in merges}
    masters: dict[ObjectType, list[str]] = {}
    for m in merges:
        if after[m.key] is not None:
            masters.setdefault(m.object, []).append(m.master_id)
    current = {obj: connector.fetch(obj, ids) for obj, ids in masters.items()}
    return {m.key: _differences(after[m.key], current.get(m.object, {}).get(m.master_id)) for m in merges}


def _differences(after: dict[str, Any] | None, now: Record | None) -> tuple[str, ...]:
    if after is None:
        return ()
    if now is None:
        return ("the master itself: deleted or merged into another record since",)
    values = field_values(now)
    return tuple(f"{name}: {after.get(name)!r} after the merge, now {values.get(name)!r}"
                 for name in sorted(set(after) | set(values)) if after.get(name) != values.get(name))


def _refusal(changed: tuple[str, ...]) -> str:
    return ("not restored: a user changed the master since the merge, and restoring would overwrite "
            f"{'; '.join(changed)}. Check them, then undo again with --overwrite to restore anyway")


def _planned(sessions: sessionmaker[Session], merge: AppliedMerge, changed: tuple[str, ...],
             overwrite: bool) -> UndoOutcome:
    restored = tuple(s.record_id for s in merge_snapshots(sessions, merge))
    error = _refusal(changed) if changed and not overwrite else None
    return UndoOutcome(merge, ActionStatus.PLANNED, restored, error, changed)


def _restore(connector: Merger, ledger: Ledger, sessions: sessionmaker[Session], action_id: int,
             merge: AppliedMerge, changed: tuple[str, ...]) -> UndoOutcome:
    claim = ledger.claim(action_id)
    if not claim.proceed:
        return UndoOutcome(merge, ActionStatus.SKIPPED, error=f"already undone ({claim.reason})")
    if changed:
        ledger.mark_failed(action_id, _refusal(changed))
        return UndoOutcome(merge, ActionStatus.FAILED, error=_refusal(changed), changed=changed)
    snapshots = merge_snapshots(sessions, merge)
    try:
        connector.restore(snapshots)
    except ConnectorError as exc:
        ledger.mark_failed(action_id, str(exc))
        return UndoOutcome(merge, ActionStatus.FAILED, error=str(exc))
    ledger.mark_applied(action_id, merge.master_id)
    return UndoOutcome(merge, ActionStatus.APPLIED, tuple(s.record_id for s in snapshots))
