"""How long work says how far it has come: sync, rules, apply, dedupe plan, merge and undo.

The work calls a ``Progress`` with counts; how they are shown (a bar on a terminal, a log line every
few seconds in a worker) is the entry point's choice (``jobs.progress``). Work that is given no
``Progress`` reports to ``NO_PROGRESS``, which does nothing.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol


class Phase(Protocol):
    """One phase of work under way, e.g. the sync of one object type: ``with progress.phase(...) as phase:``.

    Leaving the ``with`` block ends the phase: done, or given up when an error leaves it.
    """

    def update(self, done: int, **counts: int) -> None:
        """``done`` of the phase's unit so far, and the other ``counts`` so far (e.g. ``pages=20``)."""
        ...

    def __enter__(self) -> Phase: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...


class Progress(Protocol):
    def phase(self, name: str, *, total: int | None = None, unit: str = "records") -> Phase:
        """Start a phase of ``total`` steps (None: not known beforehand), counted in ``unit``."""
        ...


class _Silent:
    def update(self, done: int, **counts: int) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        pass


class NoProgress:
    """Reports nothing: tests, benches and work nobody watches."""

    def phase(self, name: str, *, total: int | None = None, unit: str = "records") -> Phase:
        return _SILENT


_SILENT = _Silent()
NO_PROGRESS: Progress = NoProgress()
