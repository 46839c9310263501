"""Graceful shutdown: SIGTERM lets the running job finish its current CRM call, then stop cleanly.

The flag is checked at the connector boundary: before each write call (a whole batch) and between
records while syncing. Apply treats the stop like a spent API budget: the run ends ``stopped``
with the rest of its plan still ``planned``, and the next start runs the job again at once; the
ledger's idempotency claims make that re-run skip what was already applied.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from types import FrameType
from typing import Any

from domain.connector import (
    ApiUsage,
    Connector,
    HistoryReader,
    KeepsState,
    MergeResult,
    NewTask,
    ReadsAhead,
    RecordUpdate,
    Snapshot,
    TaskDeletion,
    TaskKeyCheck,
    WriteResult,
    reading_traits,
)
from domain.errors import BudgetExhausted
from domain.records import ObjectType, Owner, Record, StageChange


class ShutdownRequested(BudgetExhausted):
    """The worker was asked to stop (SIGTERM/SIGINT); the job resumes at the next start."""


class ShutdownFlag:
    """Set once by a signal (or a test); read by the loop and by :class:`StoppingConnector`."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None

    def request(self, reason: str = "stop requested") -> None:
        self.signal_name = self.signal_name or reason
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early when a stop is requested; True if it was."""
        return self._event.wait(max(seconds, 0.0))

    def install(self) -> None:
        """Route SIGTERM and SIGINT to this flag (call from the main thread)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.request(signal.Signals(signum).name)

    def check(self) -> None:
        if self.requested:
            raise ShutdownRequested(
                f"worker is shutting down ({self.signal_name}): the rest stays planned and resumes at the next start"
            )


class StoppingConnector:
    """A connector that refuses to start new CRM calls once shutdown is requested."""

    def __init__(self, inner: Connector, flag: ShutdownFlag) -> None:
        self._inner = inner
        self._flag = flag
        self.name = inner.name
        self.usage: ApiUsage = inner.usage
        self.first_sync_in_change_order, self.reads_over_network = reading_traits(inner)

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        for record in self._inner.iter_changed(object_type, since):
            self._flag.check()
            yield record

    def owners(self) -> list[Owner]:
        self._flag.check()
        return self._inner.owners()

    def fetch(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        self._flag.check()
        return self._inner.fetch(object_type, record_ids)

    def saved_state(self) -> dict[str, Any]:
        return self._inner.saved_state() if isinstance(self._inner, KeepsState) else {}

    def resume_state(self, state: Mapping[str, Any]) -> None:
        if isinstance(self._inner, KeepsState):
            self._inner.resume_state(state)

    def read_ahead(self, since: Mapping[ObjectType, datetime | None],
                   history_since: Mapping[ObjectType, datetime | None]) -> None:
        if isinstance(self._inner, ReadsAhead):
            self._flag.check()
            self._inner.read_ahead(since, history_since)

    def iter_stage_history(self, object_type: ObjectType, since: datetime | None) -> Iterator[StageChange]:
        if not isinstance(self._inner, HistoryReader):
            return
        for change in self._inner.iter_stage_history(object_type, since):
            self._flag.check()
            yield change

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        self._flag.check()
        return self._inner.update(updates)

    def delete_tasks(self, tasks: Sequence[TaskDeletion]) -> list[WriteResult]:
        self._flag.check()
        return self._inner.delete_tasks(tasks)

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        self._flag.check()
        return self._inner.create_tasks(tasks)

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        self._flag.check()
        return self._inner.snapshot(object_type, record_ids)

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        self._flag.check()
        return self._inner.merge(object_type, master_id, loser_ids)

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        self._flag.check()
        self._inner.restore(snapshots)

    def task_key_problem(self) -> str | None:
        self._flag.check()
        return self._inner.task_key_problem() if isinstance(self._inner, TaskKeyCheck) else None
