"""Reading ahead in a thread keeps order, passes errors on, and stops when the consumer stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from store.prefetch import prefetched


def test_chunks_arrive_in_order_and_complete() -> None:
    """Every item arrives once, in order, in chunks of the asked size."""
    assert list(prefetched(iter(range(7)), chunk=3)) == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_reader_error_reaches_the_consumer_after_the_chunks_before_it() -> None:
    """What the reader raised is raised to the consumer, after the chunks read before it."""

    def failing() -> Iterator[int]:
        yield from range(4)
        raise ConnectionError("connection dropped mid-sync")

    got: list[list[int]] = []
    with pytest.raises(ConnectionError, match="dropped"):
        for chunk in prefetched(failing(), chunk=2):
            got.append(chunk)
    assert got == [[0, 1], [2, 3]]


def test_a_consumer_that_stops_early_stops_and_closes_the_reader() -> None:
    """Leaving the loop ends the reader thread and closes the source, so no read goes on unseen."""
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    chunks = prefetched(endless(), chunk=10, depth=2)
    assert next(chunks) == list(range(10))
    chunks.close()
    assert closed.is_set()
    assert not any(t.name == "mirror-prefetch" for t in threading.enumerate())
