"""Reading ahead: a connector's records fetched and decoded in a thread while the mirror writes.

A sync alternates between waiting on the CRM (network, or the embedded CRM's SQLite) and writing
the mirror. Running the read in a thread of its own overlaps the two: the database drivers and the
network release the GIL, so both cores work. At most ``depth`` chunks wait in between, so memory
stays flat; an error in the reader reaches the consumer unchanged, and a consumer that stops early
stops the reader.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_PUT_WAIT = 0.2
"""Seconds a full queue is waited on before the reader checks whether the consumer has gone."""
STEP = 500
"""Items read between two calls of ``on_read``."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterator[T], *, chunk: int, depth: int = 4,
               on_read: Callable[[int], None] = lambda read: None) -> Iterator[list[T]]:
    """Chunks of ``items`` (lists of at most ``chunk``), produced by a reader thread up to ``depth`` ahead.

    The reader thread calls ``on_read`` with the items read so far every ``STEP`` items (a sync's progress).
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    gone = threading.Event()

    def offer(item: object) -> bool:
        while not gone.is_set():
            try:
                ready.put(item, timeout=_PUT_WAIT)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        done = 0
        try:
            while batch := _take(items, chunk, done, on_read):
                done += len(batch)
                if not offer(batch):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, who raises it
            offer(_Failed(exc))
        finally:
            close = getattr(items, "close", None)
            if callable(close):
                close()

    # in the caller's context: what the reader logs (retries, progress) carries the run's run_id and job
    reader = threading.Thread(target=contextvars.copy_context().run, args=(read,), name="mirror-prefetch", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        gone.set()
        reader.join()


def chunked(items: Iterator[T], *, chunk: int, on_read: Callable[[int], None] = lambda read: None) -> Iterator[list[T]]:
    """The same chunks as :func:`prefetched`, read in the caller's thread (for readers that do not wait on I/O)."""
    done = 0
    while batch := _take(items, chunk, done, on_read):
        done += len(batch)
        yield batch


def _take(items: Iterator[T], chunk: int, done: int, on_read: Callable[[int], None]) -> list[T]:
    batch: list[T] = []
    while len(batch) < chunk and (more := list(islice(items, min(STEP, chunk - len(batch))))):
        batch += more
        on_read(done + len(batch))
    return batch
