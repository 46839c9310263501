"""The worker's heartbeat in the ledger: who is alive, what it is doing, and whether its policy loaded.

Between jobs the worker loop beats; during a job (a first sync can take an hour) a background
thread keeps beating, so a platform's liveness check does not kill a worker that is busy.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.worker_models import HeartbeatRow

log = structlog.get_logger(__name__)


@dataclass
class Heartbeat:
    """Writes one row per worker process; each beat replaces the last."""

    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    worker_id: str = ""

    def __post_init__(self) -> None:
        self.started_at = self.clock()
        self.worker_id = self.worker_id or f"{self.host}:{self.pid}:{self.started_at:%Y%m%dT%H%M%S}"[:64]

    def beat(
        self,
        state: str,
        *,
        job: str | None = None,
        connection: str | None = None,
        policy_source: str | None = None,
        policy_error: str | None = None,
    ) -> None:
        row = HeartbeatRow(
            worker_id=self.worker_id, host=self.host, pid=self.pid, started_at=self.started_at,
            beat_at=self.clock(), state=state, job=job, connection=connection,
            policy_source=policy_source, policy_error=policy_error,
        )
        with self.sessions.begin() as session:
            session.merge(row)


def heartbeats(sessions: sessionmaker[Session]) -> list[HeartbeatRow]:
    """Every worker's latest beat, most recent first."""
    with sessions() as session:
        return list(session.scalars(select(HeartbeatRow).order_by(HeartbeatRow.beat_at.desc())))


@contextmanager
def beating(beat: Callable[[], None], every: float) -> Iterator[None]:
    """Call ``beat`` every ``every`` seconds from a daemon thread while the block runs.

    A beat that fails (the database busy or briefly away) is logged and the next one tried: a missed
    heartbeat must not fail the job it reports on.
    """
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                beat()
            except SQLAlchemyError as exc:
                log.warning("heartbeat.failed", error=str(exc))

    thread = threading.Thread(target=loop, name="warden-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
