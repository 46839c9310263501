"""Keep the worker's heartbeat (``store.heartbeats``) going while it works.

Between jobs the worker loop beats; during a job (a first sync can take an hour) a background
thread keeps beating, so a platform's liveness check does not kill a worker that is busy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog
from sqlalchemy.exc import SQLAlchemyError

log = structlog.get_logger(__name__)


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
