"""Which Celery workers and beats are alive, asked of the broker for ``warden status``.

Workers answer a broadcast (``celery inspect active``) with the tasks they are running. Beat
answers nothing, so :class:`jobs.beat.PolicyScheduler` leaves a heartbeat in Redis that expires
when it stops (:func:`announce_beat`). Every question is bounded by a short timeout: a broker that
is down or absent makes ``status`` say so in one line, never wait.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from domain.secrets import mask_url_secrets

BEAT_KEY = "warden:beat:"
BEAT_TTL_SECONDS = 120
"""A beat not heard from for this long is gone: four of its policy checks missed."""


@dataclass(frozen=True)
class CeleryWorker:
    name: str
    active_tasks: tuple[str, ...]


@dataclass(frozen=True)
class CeleryBeat:
    name: str
    beat_at: datetime
    entries: int


@dataclass(frozen=True)
class CeleryView:
    workers: list[CeleryWorker] = field(default_factory=list)
    beats: list[CeleryBeat] = field(default_factory=list)
    broker_problem: str | None = None
    """Why the broker could not be asked at all (unreachable); None when it answered."""
    beat_problem: str | None = None
    """Why beat's heartbeat could not be read (a broker other than Redis); None when it was."""


def celery_view(broker_url: str, timeout: float = 1.0) -> CeleryView:
    """The Celery workers that answer within ``timeout`` and the beats whose heartbeat has not expired."""
    app = Celery("warden-status", broker=broker_url)
    app.conf.update(broker_connection_timeout=timeout, broker_connection_retry=False)
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0, timeout=timeout)
            replies = app.control.inspect(timeout=timeout, connection=connection).active() or {}
    except (OperationalError, OSError) as exc:
        return CeleryView(broker_problem=mask_url_secrets(f"cannot ask the broker {broker_url}: {exc}"))
    workers = [CeleryWorker(name, tuple(str(task.get("name")) for task in tasks or ()))
               for name, tasks in sorted(replies.items())]
    if not broker_url.startswith(("redis://", "rediss://")):
        return CeleryView(workers, beat_problem="beat's heartbeat is kept only on a Redis broker")
    try:
        return CeleryView(workers, _beats(broker_url, timeout))
    except redis.RedisError as exc:
        problem = f"cannot read beat's heartbeat from {broker_url}: {exc}"
        return CeleryView(workers, beat_problem=mask_url_secrets(problem))


def _beats(broker_url: str, timeout: float) -> list[CeleryBeat]:
    client = redis.Redis.from_url(broker_url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        beats = []
        for key in sorted(client.scan_iter(f"{BEAT_KEY}*")):
            raw = client.get(key)
            if raw is None:
                continue
            beat = json.loads(raw)
            beats.append(CeleryBeat(beat["name"], datetime.fromisoformat(beat["beat_at"]), int(beat["entries"])))
        return beats
    finally:
        client.close()


def announce_beat(broker_url: str, name: str, entries: int, now: datetime) -> None:
    """Leave beat's heartbeat in Redis for ``warden status``; it expires after ``BEAT_TTL_SECONDS``."""
    client = redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        value = {"name": name, "beat_at": now.astimezone(UTC).isoformat(), "entries": entries}
        client.set(f"{BEAT_KEY}{name}", json.dumps(value), ex=BEAT_TTL_SECONDS)
    finally:
        client.close()
