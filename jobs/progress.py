"""Progress shown to whoever watches a run: Rich bars on a terminal, a log line every few seconds elsewhere.

The work reports counts through ``domain.progress``; this module only renders them, always on
stderr, so ``--json`` output on stdout stays one clean JSON document. A worker, Celery or a pipe
gets a ``progress`` log line at most every ``LOG_EVERY`` seconds while a phase advances, and a
``progress.done`` line at the end of every phase that finished, with its counts and seconds (a phase
an error ended says nothing more: the error is logged where it is handled).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TextIO

import structlog
from rich.console import Console
from rich.progress import BarColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bars

from domain.progress import Phase, Progress

log = structlog.get_logger(__name__)

LOG_EVERY = 5.0
"""Seconds between two ``progress`` log lines while work advances (an ops engineer sees the run is alive)."""
DRAW_EVERY = 0.1
"""Seconds between two changes handed to Rich: it redraws ten times a second anyway."""


@dataclass
class _Tally:
    name: str
    unit: str
    total: int | None
    started: float
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def set(self, done: int, counts: dict[str, int]) -> None:
        self.done = done
        self.counts.update(counts)

    def fields(self, now: float) -> dict[str, Any]:
        total = {} if self.total is None else {"total": self.total}
        return {"phase": self.name, self.unit: self.done, **total, **self.counts,
                "seconds": round(now - self.started, 1)}

    def detail(self) -> str:
        """E.g. ``40,000 records · 20 pages`` or ``3 of 10 rules · 12 findings``."""
        of = "" if self.total is None else f" of {self.total:,}"
        return " · ".join([f"{self.done:,}{of} {self.unit}", *(f"{n:,} {name}" for name, n in self.counts.items())])


class LogProgress:
    """Progress as structlog lines: one per ``every`` seconds of advancing work, one per finished phase."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, every: float = LOG_EVERY) -> None:
        self._clock = clock
        self._every = every
        self._logged = clock()

    def phase(self, name: str, *, total: int | None = None, unit: str = "records") -> Phase:
        return _LoggedPhase(self, _Tally(name, unit, total, self._clock()))

    def advanced(self, tally: _Tally) -> None:
        now = self._clock()
        if now - self._logged >= self._every:
            self._log("progress", tally, now)

    def done(self, tally: _Tally) -> None:
        self._log("progress.done", tally, self._clock())

    def _log(self, event: str, tally: _Tally, now: float) -> None:
        log.info(event, **tally.fields(now))
        self._logged = now


@dataclass
class _LoggedPhase:
    owner: LogProgress
    tally: _Tally

    def update(self, done: int, **counts: int) -> None:
        self.tally.set(done, counts)
        self.owner.advanced(self.tally)

    def __enter__(self) -> _LoggedPhase:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.owner.done(self.tally)


class BarProgress:
    """Progress as Rich bars, one per phase under way, drawn while any is; finished bars go away.

    Work closes every phase it opens, also when it fails, so the drawing always stops. Log lines
    written to stderr meanwhile are printed above the bars (Rich redirects stderr while it draws).
    """

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self._bars = Bars(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console, transient=True,
                          redirect_stdout=False)  # stdout is the command's output (--json), never the bars'
        self._clock = clock
        self._open = 0
        self._drawn = clock()

    def phase(self, name: str, *, total: int | None = None, unit: str = "records") -> Phase:
        if self._open == 0:
            self._bars.start()
        self._open += 1
        tally = _Tally(name, unit, total, self._clock())
        task = self._bars.add_task(name, total=total, detail=tally.detail())
        self._bars.refresh()
        return _Bar(self, task, tally)

    def advanced(self, task: TaskID, tally: _Tally) -> None:
        now = self._clock()
        if now - self._drawn >= DRAW_EVERY:
            self._show(task, tally)
            self._drawn = now

    def _show(self, task: TaskID, tally: _Tally) -> None:
        self._bars.update(task, completed=tally.done, detail=tally.detail())

    def ended(self, task: TaskID, tally: _Tally) -> None:
        """Draw the phase as it ended (a phase shorter than a refresh is seen too), then take its bar away."""
        self._show(task, tally)
        self._bars.refresh()
        self._bars.remove_task(task)
        self._open -= 1
        if self._open == 0:
            self._bars.stop()


@dataclass
class _Bar:
    owner: BarProgress
    task: TaskID
    tally: _Tally

    def update(self, done: int, **counts: int) -> None:
        self.tally.set(done, counts)
        self.owner.advanced(self.task, self.tally)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.owner.ended(self.task, self.tally)


def progress_on(stream: TextIO | None = None) -> Progress:
    """The progress this process shows: bars when ``stream`` (default stderr) is a terminal, else log lines."""
    out = stream or sys.stderr
    return BarProgress(Console(file=out)) if out.isatty() else LogProgress()
