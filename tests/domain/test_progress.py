"""Counting a long sequence as it is consumed, for work that takes it in one call."""

from __future__ import annotations

from types import TracebackType

from domain.progress import counted


class Told:
    def __init__(self) -> None:
        self.done: list[int] = []

    def update(self, done: int, **counts: int) -> None:
        self.done.append(done)

    def __enter__(self) -> Told:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        pass


def test_counted_hands_every_item_on_and_tells_every_thousand_and_the_end() -> None:
    """2,500 items after 300 already done: told at 1,000, 2,000 and 2,800, every item passed on in order."""
    phase = Told()
    assert list(counted(range(2500), phase, start=300)) == list(range(2500))
    assert phase.done == [1000, 2000, 2800]


def test_counting_nothing_tells_where_it_started() -> None:
    """An empty sequence leaves the count where it was, told once."""
    phase = Told()
    assert list(counted([], phase, start=42)) == []
    assert phase.done == [42]
