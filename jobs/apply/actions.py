"""Apply a rule job's plan, with the scheduled dedupe job's merges among it (see ``jobs.apply.merges``).

Each action is claimed in the ledger (its idempotency key) before the connector is called, then
marked applied or failed with the CRM's own words. A key already applied by an earlier run is
skipped, so a re-run changes nothing twice; what a crash left in flight is settled from the CRM
before the next run (``jobs.apply.settle``). Writes go out ``APPLY_BATCH`` records at a time, each
chunk's answers recorded before the next is sent; the connector splits a chunk into the largest
calls its CRM allows, and one refused record fails only its own action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import structlog

from domain.connector import Connector, NewTask, RecordUpdate, TaskDeletion, WriteResult
from domain.errors import BudgetExhausted, ConnectorError, RetriableConnectorError
from domain.plan import Action, ActionKind, ActionStatus
from domain.progress import NO_PROGRESS, Phase, Progress
from domain.records import TaskPriority, TaskType
from jobs.apply.merges import merge_claimed
from store.ledger import Answer, Ledger

log = structlog.get_logger(__name__)

W = TypeVar("W", RecordUpdate, NewTask, TaskDeletion)
_UPDATE_KINDS = (ActionKind.REASSIGN, ActionKind.UPDATE, ActionKind.CLOSE)
APPLY_BATCH = 200
"""Records sent before their answers are recorded: the most one Salesforce call takes."""


@dataclass
class ApplyOutcome:
    applied: int = 0
    failed: int = 0
    skipped: int = 0
    stopped: str | None = None
    """Why apply stopped early (API budget spent); the rest stays planned for the next run."""
    errors: list[str] = field(default_factory=list)
    unsettled: set[str] = field(default_factory=set)
    """Keys whose call got no answer (the CRM may have taken it): left planned for the next run to settle."""

    def report(self, phase: Phase) -> None:
        """Tell ``phase`` how many actions are done with (applied, failed, skipped or left to settle)."""
        done = self.applied + self.failed + self.skipped + len(self.unsettled)
        phase.update(done, applied=self.applied, failed=self.failed, skipped=self.skipped)


def apply_actions(
    connector: Connector, ledger: Ledger, actions: Sequence[tuple[int, Action]], progress: Progress = NO_PROGRESS
) -> ApplyOutcome:
    """Carry out ``(ledger action id, action)`` pairs; prerequisites first, dependents after.

    A dependent goes ahead when its prerequisite was applied here or by an earlier run. ``progress``
    hears how many are done with after each batch.
    """
    with progress.phase("apply", total=len(actions), unit="actions") as phase:
        return _apply(connector, ledger, actions, phase)


def _apply(connector: Connector, ledger: Ledger, actions: Sequence[tuple[int, Action]], phase: Phase) -> ApplyOutcome:
    outcome = ApplyOutcome()
    done: dict[str, bool] = {}
    first = [(i, a) for i, a in actions if a.requires is None]
    later = [(i, a) for i, a in actions if a.requires is not None]
    for wave in (first, later):
        if outcome.stopped:
            break
        waiting = [i for i, a in wave if a.requires is not None and a.requires not in done]
        done.update(dict.fromkeys(ledger.applied_prerequisites(waiting), True))
        ready = [(i, a) for i, a in wave if _prerequisite_met(ledger, i, a, done, outcome)]
        claimed = _claim(ledger, ready, done, outcome)
        outcome.report(phase)
        try:
            _write(connector, ledger, claimed, done, outcome, phase)
        except BudgetExhausted as exc:
            outcome.stopped = str(exc)
            log.warning("apply.stopped", reason=str(exc))
    return outcome


def _prerequisite_met(
    ledger: Ledger, action_id: int, action: Action, done: dict[str, bool], outcome: ApplyOutcome
) -> bool:
    if action.requires is None or done.get(action.requires, False):
        return True
    if action.requires in outcome.unsettled:
        return False  # stays planned: it follows its prerequisite once that is settled
    ledger.mark_skipped(action_id, f"not done because {action.requires} was not applied")
    outcome.skipped += 1
    return False


def _claim(
    ledger: Ledger, pairs: list[tuple[int, Action]], done: dict[str, bool], outcome: ApplyOutcome
) -> list[tuple[int, Action]]:
    """The pairs whose claim was taken; the others were applied by an earlier run: dependents may go ahead."""
    claims = ledger.claim_all([i for i, _ in pairs])
    for _, action in (p for p in pairs if not claims[p[0]].proceed):
        done[action.key] = True
        outcome.skipped += 1
    return [(i, a) for i, a in pairs if claims[i].proceed]


def _write(
    connector: Connector,
    ledger: Ledger,
    claimed: list[tuple[int, Action]],
    done: dict[str, bool],
    outcome: ApplyOutcome,
    phase: Phase,
) -> None:
    updates = [(i, a) for i, a in claimed if a.kind in _UPDATE_KINDS]
    tasks = [(i, a) for i, a in claimed if a.kind is ActionKind.CREATE_TASK]
    notices = [(i, a) for i, a in claimed if a.kind is ActionKind.NOTIFY]
    merges = [(i, a) for i, a in claimed if a.kind is ActionKind.MERGE]
    deletions = [(i, a) for i, a in claimed if a.kind is ActionKind.DELETE]
    for chunk in _chunks(updates):
        batch = [RecordUpdate(a.key, a.object, a.record_id, dict(a.payload)) for _, a in chunk]
        _send(ledger, chunk, connector.update, batch, done, outcome)
        outcome.report(phase)
    for chunk in _chunks(tasks):
        _send(ledger, chunk, connector.create_tasks, [_new_task(a) for _, a in chunk], done, outcome)
        outcome.report(phase)
    for chunk in _chunks(deletions):
        items = [TaskDeletion(a.key, a.payload["task_id"]) for _, a in chunk]
        _send(ledger, chunk, connector.delete_tasks, items, done, outcome)
        outcome.report(phase)
    ledger.mark_all_applied([i for i, _ in notices])  # ledger-only: the digest job delivers them, not the CRM
    for _, action in notices:
        done[action.key] = True
        outcome.applied += 1
    outcome.report(phase)
    for action_id, action in merges:  # one at a time: each snapshots its cluster first (jobs.apply.merges)
        status, error = merge_claimed(connector, ledger, action_id, action)
        done[action.key] = status is ActionStatus.APPLIED
        if error is None:
            outcome.applied += 1
        else:
            outcome.failed += 1
            outcome.errors.append(f"merge into {action.record_id}: {error}")
        outcome.report(phase)


def _send(ledger: Ledger, chunk: list[tuple[int, Action]], write: Callable[[list[W]], list[WriteResult]],
          items: list[W], done: dict[str, bool], outcome: ApplyOutcome) -> None:
    """One connector write and its answers recorded; a call refused whole fails each of its records.

    A call that got no answer (timeouts, 5xx after the connector's retries) may still have been
    carried out: its actions stay planned, claimed, and the next run settles them from the CRM.
    """
    try:
        results = write(items)
    except BudgetExhausted:
        raise
    except RetriableConnectorError as exc:
        for _, action in chunk:
            outcome.unsettled.add(action.key)
            outcome.errors.append(f"{action.object} {action.record_id}: no answer from the CRM ({exc}); "
                                  "the next run settles it from the CRM")
        log.warning("apply.unanswered", keys=len(chunk), error=str(exc))
        return
    except ConnectorError as exc:
        results = [WriteResult(item.key, ok=False, error=str(exc)) for item in items]
    _record(ledger, chunk, results, done, outcome)


def _record(
    ledger: Ledger,
    pairs: list[tuple[int, Action]],
    results: list[WriteResult],
    done: dict[str, bool],
    outcome: ApplyOutcome,
) -> None:
    by_key = {r.key: r for r in results}
    answers: list[Answer] = []
    for action_id, action in pairs:
        result = by_key.get(action.key)
        if result is not None and result.ok:
            answers.append(Answer(action_id, ActionStatus.APPLIED, result_id=result.record_id))
            done[action.key] = True
            outcome.applied += 1
        else:
            error = result.error if result and result.error else "the CRM returned no result for it"
            answers.append(Answer(action_id, ActionStatus.FAILED, error=error))
            outcome.failed += 1
            outcome.errors.append(f"{action.object} {action.record_id}: {error}")
            log.warning("apply.failed", key=action.key, record_id=action.record_id, error=error)
    ledger.record_answers(answers)


def _chunks(pairs: list[tuple[int, Action]]) -> list[list[tuple[int, Action]]]:
    return [pairs[start : start + APPLY_BATCH] for start in range(0, len(pairs), APPLY_BATCH)]


def _new_task(action: Action) -> NewTask:
    p = action.payload
    return NewTask(
        key=action.key,
        subject=p["subject"],
        owner_id=p["owner_id"],
        due_date=date.fromisoformat(p["due_date"]),
        task_type=TaskType(p.get("task_type", "todo")),
        priority=TaskPriority(p.get("priority", "normal")),
        description=p.get("description", ""),
        what_id=p.get("what_id"),
        who_id=p.get("who_id"),
    )
