"""Tables of the scheduled worker: one heartbeat row per worker process, and the last good policy per file.

Kept apart from ``store.models`` (the mirror and the ledger) on the same ``Base``, so the same
migrations build them. ``warden status`` and platform liveness checks read the heartbeats.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base


class HeartbeatRow(Base):
    """What one worker process was doing when it last checked in."""

    __tablename__ = "worker_heartbeats"
    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """``host:pid:start`` of the process (or a Celery worker's node name)."""
    host: Mapped[str]
    pid: Mapped[int]
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    state: Mapped[str]
    """idle, running or stopping."""
    job: Mapped[str | None]
    connection: Mapped[str | None]
    policy_source: Mapped[str | None]
    policy_error: Mapped[str | None] = mapped_column(Text)
    """Why the latest policy edit was refused (the last good policy keeps running); None when fine."""


class GoodPolicyRow(Base):
    """The text a policy file last loaded and scheduled with: ``warden status`` shows it while the file is broken."""

    __tablename__ = "good_policies"
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    """The policy file's path as the worker names it (``WARDEN_POLICY`` or ``--policy``)."""
    text: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime]
