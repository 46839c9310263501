"""The ledger: what each run found, planned and did, so apply is exactly-once and undo is possible.

Every write goes through the database before or after the CRM call it records: actions are
recorded as planned, claimed (``claims``) before the connector is called, then marked applied or
failed with the CRM's answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from domain.connector import Snapshot
from domain.plan import Action, ActionStatus, Finding, Skip
from domain.secrets import mask_url_secrets
from store import claims
from store.claims import Claim
from store.models import ActionRow, ClaimRow, FindingRow, RunRow, SkipRow, SnapshotRow
from store.run_report import RunInfo, RunReport, load_latest_runs, load_run_report

BATCH = 1000
RUN_END_STATUSES = ("finished", "failed", "stopped")
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Ledger:
    """The ledger of one database, opened through a session factory."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = utc_now,
        claim_lease: timedelta = timedelta(minutes=15),
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._claim_lease = claim_lease

    def start_run(self, job: str, connection: str, dry_run: bool, now: datetime) -> str:
        """Open a run (status ``running``) and return its id."""
        run_id = str(uuid.uuid4())
        with self._sessions.begin() as session:
            session.add(RunRow(
                id=run_id, job=job, connection=connection, dry_run=dry_run, now=now,
                started_at=self._clock(), status="running", summary={},
            ))
        return run_id

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any], error: str | None = None) -> None:
        if status not in RUN_END_STATUSES:
            raise ValueError(f"run {run_id} cannot finish as {status!r}: use one of {', '.join(RUN_END_STATUSES)}")
        with self._sessions.begin() as session:
            run = session.get_one(RunRow, run_id)
            run.status, run.summary, run.error, run.finished_at = status, summary, _masked(error), self._clock()

    def record_findings(self, run_id: str, findings: Iterable[Finding]) -> None:
        rows = ({**asdict(f), "object": f.object.value, "run_id": run_id} for f in findings)
        self._insert_all(FindingRow, rows)

    def record_skips(self, run_id: str, skips: Iterable[Skip]) -> None:
        rows = ({**asdict(s), "object": s.object.value, "run_id": run_id} for s in skips)
        self._insert_all(SkipRow, rows)

    def record_actions(self, run_id: str, actions: Iterable[Action]) -> list[int]:
        """Record the plan (status ``planned``); returns the action ids in the order given."""
        now = self._clock()
        ids: list[int] = []
        with self._sessions.begin() as session:
            for batch in _batches(actions):
                rows = [_action_row(a, run_id, now) for a in batch]
                stmt = insert(ActionRow).returning(ActionRow.id, sort_by_parameter_order=True)
                ids.extend(session.scalars(stmt, rows))
        return ids

    def claim(self, action_id: int) -> Claim:
        """The exactly-once gate: call before the CRM; proceed only if the claim says so."""
        return claims.claim(self._sessions, action_id, self._clock(), self._claim_lease)

    def claim_all(self, action_ids: Collection[int]) -> dict[int, Claim]:
        """:meth:`claim` for many actions, in a few transactions instead of one each; by action id."""
        return claims.claim_all(self._sessions, list(action_ids), self._clock(), self._claim_lease)

    def mark_applied(self, action_id: int, result_id: str | None = None) -> None:
        self._settle(action_id, ActionStatus.APPLIED, error=None, result_id=result_id)

    def mark_all_applied(self, action_ids: Collection[int]) -> None:
        """:meth:`mark_applied` (without a CRM record id) for many claimed actions, in one transaction."""
        now = self._clock()
        applied = ActionStatus.APPLIED.value
        with self._sessions.begin() as session:
            for batch in _batches(action_ids):
                session.execute(update(ActionRow).where(ActionRow.id.in_(batch))
                                .values(status=applied, error=None, result_id=None, updated_at=now))
                session.execute(update(ClaimRow).where(ClaimRow.action_id.in_(batch))
                                .values(status=applied, updated_at=now))

    def mark_failed(self, action_id: int, error: str) -> None:
        self._settle(action_id, ActionStatus.FAILED, error=error, result_id=None)

    def mark_skipped(self, action_id: int, reason: str) -> None:
        """An action not attempted (e.g. its prerequisite failed); its key stays free for a later run."""
        with self._sessions.begin() as session:
            action = session.get_one(ActionRow, action_id)
            action.status, action.error, action.updated_at = ActionStatus.SKIPPED.value, reason, self._clock()

    def action_statuses(self, action_ids: Collection[int]) -> dict[int, tuple[str, str | None]]:
        """Status and error of each action, by id."""
        statuses: dict[int, tuple[str, str | None]] = {}
        with self._sessions() as session:
            for batch in _batches(action_ids):
                stmt = select(ActionRow.id, ActionRow.status, ActionRow.error).where(ActionRow.id.in_(batch))
                statuses.update({i: (s, e) for i, s, e in session.execute(stmt)})
        return statuses

    def save_snapshots(self, action_id: int, snapshots: Iterable[Snapshot]) -> None:
        """Keep what the merge action ``action_id`` will change, before it happens, so ``undo`` can put it back."""
        now = self._clock()
        with self._sessions() as session:
            action = session.get_one(ActionRow, action_id)
            run_id, key = action.run_id, action.key
        rows = (
            {"run_id": run_id, "action_key": key, "object": s.object_type.value, "record_id": s.record_id,
             "data": s.data, "children": s.children, "created_at": now}
            for s in snapshots
        )
        self._insert_all(SnapshotRow, rows)

    def run_report(self, run_id: str) -> RunReport:
        with self._sessions() as session:
            return load_run_report(session, run_id)

    def latest_runs(self, limit: int = 20) -> list[RunInfo]:
        with self._sessions() as session:
            return load_latest_runs(session, limit)

    def _settle(self, action_id: int, status: ActionStatus, error: str | None, result_id: str | None) -> None:
        """Record the CRM's answer on the action and on the claim it holds."""
        now = self._clock()
        with self._sessions.begin() as session:
            action = session.get_one(ActionRow, action_id)
            action.status, action.error, action.result_id = status.value, _masked(error), result_id
            action.updated_at = now
            session.execute(
                update(ClaimRow).where(ClaimRow.action_id == action_id).values(status=status.value, updated_at=now)
            )

    def _insert_all(self, model: type[Any], rows: Iterable[dict[str, Any]]) -> None:
        with self._sessions.begin() as session:
            for batch in _batches(rows):
                session.execute(insert(model), batch)


def _action_row(action: Action, run_id: str, now: datetime) -> dict[str, Any]:
    return {
        "run_id": run_id, "key": action.key, "kind": action.kind.value, "object": action.object.value,
        "record_id": action.record_id, "rule": action.rule, "reason": action.reason, "payload": action.payload,
        "status": ActionStatus.PLANNED.value, "created_at": now, "updated_at": now, "requires": action.requires,
    }


def _masked(error: str | None) -> str | None:
    """An error as the ledger keeps it: a password or token inside a URL never reaches the database."""
    return None if error is None else mask_url_secrets(error)
