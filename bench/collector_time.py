"""How long Python's cyclic garbage collector ran during a measured phase, by generation.

A process that keeps millions of objects alive (a worker's carried judgments) pays for every full
collection in proportion to all of them, wherever it happens to fall; timed phases print it beside
their seconds so a slow phase can be told from one that paid for a collection.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

GENERATIONS = 3


@dataclass
class CollectorTime:
    seconds: list[float] = field(default_factory=lambda: [0.0] * GENERATIONS)
    collections: list[int] = field(default_factory=lambda: [0] * GENERATIONS)
    _started: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.seconds)

    @property
    def full(self) -> str:
        """The oldest generation's collections and their seconds, as printed."""
        return f"{self.collections[-1]} full, {self.seconds[-1]:.2f} s"

    def add(self, other: CollectorTime) -> None:
        self.seconds = [a + b for a, b in zip(self.seconds, other.seconds, strict=True)]
        self.collections = [a + b for a, b in zip(self.collections, other.collections, strict=True)]

    def _heard(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        self.seconds[generation] += time.perf_counter() - self._started
        self.collections[generation] += 1


@contextmanager
def collector_time() -> Iterator[CollectorTime]:
    """Within the block, add up the collector's runs (in any thread) into the yielded figures."""
    timer = CollectorTime()
    gc.callbacks.append(timer._heard)
    try:
        yield timer
    finally:
        gc.callbacks.remove(timer._heard)
