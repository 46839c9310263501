"""The real worker loop in its own process, on a local CRM whose writes take time (fault tests).

Usage: python -m tests.jobs.slow_worker DATABASE_URL CRM_PATH POLICY_PATH SECONDS_PER_BATCH [--once]
Prints ``write <kind> <n>`` before each write call, so a test knows when an apply is under way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from config.policy import FieldMaps
from config.policy_connections import ConnectionPolicy
from connectors.local import LocalCRM
from domain.connector import NewTask, RecordUpdate, WriteResult
from jobs.job_runner import JobRunner
from jobs.policy_keeper import PolicyKeeper
from jobs.shutdown import ShutdownFlag
from jobs.worker import Worker
from store.db import make_engine, migrate, session_factory
from store.heartbeats import Heartbeat
from store.locks import locks_for

T = TypeVar("T")
BATCH = 10


class SlowCRM(LocalCRM):
    """Each batch of ``BATCH`` records is its own committed CRM call, after a pause."""

    pause = 0.0

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        return self._slowly("update", updates, super().update)

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        return self._slowly("create_tasks", tasks, super().create_tasks)

    def _slowly(
        self, kind: str, items: Sequence[T], write: Callable[[Sequence[T]], list[WriteResult]]
    ) -> list[WriteResult]:
        print(f"write {kind} {len(items)}", flush=True)
        results: list[WriteResult] = []
        for start in range(0, len(items), BATCH):
            time.sleep(self.pause)
            results.extend(write(items[start:start + BATCH]))
        return results


def main(database_url: str, crm_path: str, policy: str, pause: str, *flags: str) -> None:
    SlowCRM.pause = float(pause)
    engine = make_engine(database_url)
    migrate(engine)
    sessions = session_factory(engine)
    shutdown = ShutdownFlag()
    shutdown.install()

    def connector_for(_connection: ConnectionPolicy, _fields: FieldMaps) -> SlowCRM:
        return SlowCRM(crm_path)

    def clock() -> datetime:
        return datetime.now(UTC)

    runner = JobRunner(sessions, locks_for(engine), connector_for, True, shutdown)
    worker = Worker(PolicyKeeper(Path(policy), "local"), runner, Heartbeat(sessions, clock), clock, idle_seconds=0.2)
    if "--once" in flags:
        worker.tick()
    else:
        worker.run_forever()
    print("worker exited", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
