"""Python's cyclic garbage collector held back while a sync streams records through memory.

By default a young-generation collection runs every 700 new container objects and walks every
young object. A chunk keeps about one such object per record alive (a record, the CRM's row) until
it is written, so a first sync of a million records ran 3,180 collections that found almost nothing
and cost about a tenth of its CPU (``bench/sync_local``). Records hold no reference cycles; the
little cyclic garbage a sync makes (sessions, transactions) is still collected, once enough of it
gathers beyond what the chunks in flight keep alive.

The threshold is process-wide, so holders are counted: the first one raises it, the last one
restores it, whichever threads they run in.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_restore: tuple[int, ...] = ()


@contextmanager
def collections_every(objects: int) -> Iterator[None]:
    """Within the block, a young collection runs only after ``objects`` new container objects (never more often)."""
    global _holders, _restore
    with _lock:
        if _holders == 0:
            _restore = gc.get_threshold()
        _holders += 1
        young, *older = gc.get_threshold()
        gc.set_threshold(max(young, objects), *older)
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.set_threshold(*_restore)


def settle() -> None:
    """Collect the process's cyclic garbage in full, then leave what survives out of later collections (``gc.freeze``).

    For a long-lived process, while it is idle (the worker between passes). It keeps every rule's judgments from one
    run to the next: tens of millions of objects at full size, which every full collection walks, wherever one happens
    to fall (one that fell inside a scheduled run made it 2.6 s longer). Frozen objects are still freed as soon as
    nothing refers to them; the next settle unfreezes them first, so any cyclic garbage among them is collected then.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
