"""The workers' heartbeats in the ledger: who is alive, what it is doing, and whether its policy loaded."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.worker_models import HeartbeatRow


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
