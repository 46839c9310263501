"""Run a function over items in forked worker processes while the parent carries on with other work.

Workers are forked (POSIX only), so they read the parent's memory (the profiles, the function's
closure) instead of receiving a copy; only the items and the results travel through pipes.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

_job: Callable[[Any], Any] | None = None
"""What forked workers run: set just before the fork, cleared after."""


def can_fork() -> bool:
    """Whether this platform forks processes (Windows and macOS' default spawn do not share memory)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _run_job(item: Any) -> Any:
    assert _job is not None
    return _job(item)


@contextmanager
def forked_map(
    function: Callable[[_Item], _Result], items: Sequence[_Item], workers: int
) -> Iterator[AsyncResult[list[_Result]]]:
    """``function`` over ``items`` in ``workers`` forked processes; ``.get()`` the results before leaving the block."""
    global _job
    _job = function
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield pool.map_async(_run_job, items, chunksize=1)
    finally:
        _job = None
