"""Revert a run: put back every field its actions changed and delete the tasks it created.

Each field write's values before it were saved with its claim (``store.before_images``). Revert
reads the records back from the CRM (many per call) and restores a field only where the CRM still
holds what the run wrote: a field someone changed since (a user, a later run) is left alone and
listed, as is a task someone edited, completed or deleted. A revert is its own ledger run (job
``revert``); each of its actions is keyed ``revert:<run id>:<the action's key>``, so a second revert
of the same run does nothing, and it is applied like any plan (claimed first, its own before-images
saved), so a revert can be reverted too. Alerts (ledger-only) have nothing to take back; merges are
undone with ``warden dedupe undo``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from domain.connector import Connector
from domain.invocation import warden_command
from domain.plan import Action, ActionKind, Skip
from domain.record_values import field_values, json_value
from domain.records import ObjectType, Record, Task, TaskStatus
from jobs.apply.actions import ApplyOutcome, apply_actions
from store import mirror
from store.before_images import FIELD_WRITES
from store.claims import Held
from store.ledger import Ledger
from store.revert_history import AppliedChange, run_changes
from store.run_report import RunInfo

JOB = "revert"
RULE = "jobs.apply.revert"
_WRITES = tuple(ActionKind(k) for k in FIELD_WRITES)


class NothingToRevert(LookupError):
    """The run id names no run, or a run that changed nothing (a dry run)."""


@dataclass
class RevertPlan:
    run: RunInfo
    actions: list[Action] = field(default_factory=list)
    """Restores and task deletions still to do."""
    left: list[Skip] = field(default_factory=list)
    """Changes left alone, each with why (changed since, gone, no before-image, not revertible)."""
    reverted: list[tuple[Action, Held]] = field(default_factory=list)
    """Actions an earlier revert already applied, with its claim (which run, when)."""


@dataclass
class RevertResult:
    plan: RevertPlan
    run_id: str | None
    """The revert's own ledger run; None for a dry run."""
    outcome: ApplyOutcome | None = None


def revert_key(run_id: str, key: str) -> str:
    return f"revert:{run_id}:{key}"


def plan_revert(run_id: str, connector: Connector, sessions: sessionmaker[Session]) -> RevertPlan:
    """What reverting ``run_id`` would do now: read the CRM, compare with what the run wrote."""
    try:
        run, changes = run_changes(sessions, run_id)
    except LookupError as exc:
        raise NothingToRevert(str(exc)) from None
    if run.dry_run:
        raise NothingToRevert(f"run {run_id} was a dry run: it changed nothing in the CRM, nothing to revert")
    plan = RevertPlan(run)
    claims = Ledger(sessions).held_claims(run.connection, {revert_key(run.id, c.key) for c in changes})
    todo: list[AppliedChange] = []
    for change in _collapsed(changes):
        held = claims.get(revert_key(run.id, change.key))
        if held is not None and held.applied:
            plan.reverted.append((_action(run, change, ActionKind.UPDATE, {}), held))
        else:
            todo.append(change)
    current = _read_back(connector, todo)
    inactive = _inactive_owners(sessions, run.connection)
    for change in todo:
        _judge(plan, change, current, inactive)
    return plan


def revert(run_id: str, connector: Connector, sessions: sessionmaker[Session], now: datetime, *,
           apply: bool) -> RevertResult:
    """Plan the revert of ``run_id``; with ``apply``, record it as a run and carry it out."""
    plan = plan_revert(run_id, connector, sessions)
    if not apply:
        return RevertResult(plan, None)
    if not plan.actions:  # reverted already, or nothing left that may be: no run to record
        return RevertResult(plan, None, ApplyOutcome())
    ledger = Ledger(sessions)
    revert_run = ledger.start_run(JOB, plan.run.connection, dry_run=False, now=now)
    ledger.record_skips(revert_run, plan.left)
    action_ids = ledger.record_actions(revert_run, plan.actions)
    outcome = apply_actions(connector, ledger, list(zip(action_ids, plan.actions, strict=True)))
    summary = {"reverts": plan.run.id, "applied": outcome.applied, "failed": outcome.failed,
               "skipped": outcome.skipped, "left_alone": len(plan.left), "errors": outcome.errors,
               "stopped": outcome.stopped}
    ledger.finish_run(revert_run, "stopped" if outcome.stopped else "finished", summary)
    return RevertResult(plan, revert_run, outcome)


def _collapsed(changes: Sequence[AppliedChange]) -> list[AppliedChange]:
    """The run's field writes with each field of a record owned by the first action that wrote it.

    Two actions of one run may write the same field (a stale lead returned to marketing, then moved
    back by a stage gate): the first one's image holds the value before the run, the last one's
    payload what the CRM should still show. The later action keeps only the fields it wrote first.
    """
    owner: dict[tuple[ObjectType, str, str], int] = {}
    payloads = [dict(c.payload) for c in changes]
    for index, change in enumerate(changes):
        if change.kind not in _WRITES:
            continue
        for name, value in change.payload.items():
            first = owner.setdefault((change.object, change.record_id, name), index)
            if first != index:
                payloads[first][name] = value
                del payloads[index][name]
    return [replace(c, payload=p) for c, p in zip(changes, payloads, strict=True)
            if p or c.kind not in _WRITES]


def _read_back(connector: Connector, changes: Sequence[AppliedChange]) -> dict[ObjectType, dict[str, Record]]:
    """The records these changes touched as the CRM holds them now (tasks by the id the CRM gave them)."""
    wanted: dict[ObjectType, set[str]] = {}
    for change in changes:
        if change.kind in _WRITES:
            wanted.setdefault(change.object, set()).add(change.record_id)
        elif change.kind is ActionKind.CREATE_TASK and change.result_id:
            wanted.setdefault(ObjectType.TASK, set()).add(change.result_id)
    return {obj: connector.fetch(obj, sorted(ids)) for obj, ids in wanted.items()}


def _inactive_owners(sessions: sessionmaker[Session], connection: str) -> set[str]:
    """Users the CRM would refuse as owners (deactivated): a field cannot go back to one of them."""
    with sessions() as session:
        return {o.id for o in mirror.owners(session, connection).values() if not o.active}


def _judge(plan: RevertPlan, change: AppliedChange, current: Mapping[ObjectType, Mapping[str, Record]],
           inactive: set[str]) -> None:
    if change.kind in _WRITES:
        _restore(plan, change, current.get(change.object, {}).get(change.record_id), inactive)
    elif change.kind is ActionKind.CREATE_TASK:
        _remove_task(plan, change, current.get(ObjectType.TASK, {}).get(change.result_id or ""))
    elif change.kind is ActionKind.MERGE:
        plan.left.append(_left(change, f"a merge: take it back with `{warden_command()} dedupe undo {plan.run.id}`"))
    elif change.kind is ActionKind.DELETE:
        plan.left.append(_left(change, "a deleted task cannot be brought back"))
    elif change.kind is ActionKind.CREATE_LEAD:
        plan.left.append(_left(change, f"a lead created from activity ({change.result_id}): sales may already be "
                                       "working it; delete or disqualify it in the CRM if it should not be there"))


def _restore(plan: RevertPlan, change: AppliedChange, record: Record | None, inactive: set[str]) -> None:
    if record is None:
        plan.left.append(_left(change, "no longer in the CRM (deleted or merged since): nothing restored"))
        return
    if change.before is None:
        plan.left.append(_left(change, "the ledger holds no before-image of this change (applied by an older "
                                       "version): nothing restored"))
        return
    now = field_values(record)
    back: dict[str, Any] = {}
    for name, value in change.payload.items():
        wrote = json_value(value)
        if name not in change.before:
            plan.left.append(_left(change, f"{name}: its value before the run is not known; left at "
                                           f"{now.get(name)!r}"))
        elif now.get(name) != wrote:
            plan.left.append(_left(change, f"{name}: changed since the run (it wrote {wrote!r}, now "
                                           f"{now.get(name)!r}); left alone"))
        elif name == "owner_id" and change.before[name] is None:
            plan.left.append(_left(change, "owner_id: it had no owner before the run (a lead routed on arrival) and "
                                           "the CRM needs one; left alone"))
        elif name == "owner_id" and change.before[name] in inactive:
            plan.left.append(_left(change, f"owner_id: its owner before the run, {change.before[name]!r}, is "
                                           "deactivated and the CRM refuses them; left alone"))
        elif change.before[name] != wrote:
            back[name] = change.before[name]
    if back:
        plan.actions.append(_action(plan.run, change, ActionKind.UPDATE, back))


def _remove_task(plan: RevertPlan, change: AppliedChange, task: Record | None) -> None:
    if not change.result_id or task is None:
        plan.left.append(_left(change, "the task it created is no longer in the CRM: nothing to delete"))
        return
    edits = _task_edits(change.payload, task) if isinstance(task, Task) else ["not a task"]
    if edits:
        plan.left.append(_left(change, f"the task it created ({change.result_id}) was changed since "
                                       f"({'; '.join(edits)}); left alone"))
        return
    plan.actions.append(_action(plan.run, change, ActionKind.DELETE, {"task_id": change.result_id},
                                ObjectType.TASK, change.result_id))


def _task_edits(payload: Mapping[str, Any], task: Task) -> list[str]:
    """How ``task`` differs from the task the run created: someone worked on it."""
    created = {"subject": payload.get("subject"), "owner_id": payload.get("owner_id"),
               "due_date": payload.get("due_date"), "status": TaskStatus.OPEN.value}
    held = {"subject": task.subject, "owner_id": task.owner_id, "status": task.status.value,
            "due_date": task.due_date.isoformat() if isinstance(task.due_date, date) else task.due_date}
    return [f"{name} {created[name]!r} -> {held[name]!r}" for name in created if created[name] != held[name]]


def _action(run: RunInfo, change: AppliedChange, kind: ActionKind, payload: dict[str, Any],
            obj: ObjectType | None = None, record_id: str | None = None) -> Action:
    what = "delete the task created" if kind is ActionKind.DELETE else f"restore {', '.join(payload) or 'fields'}"
    return Action(kind, obj or change.object, record_id or change.record_id, revert_key(run.id, change.key),
                  f"revert run {run.id}: {what} by {change.rule} ({change.key})", RULE, payload)


def _left(change: AppliedChange, why: str) -> Skip:
    return Skip(RULE, change.object, change.record_id, f"{change.kind} by {change.rule}: {why}")
