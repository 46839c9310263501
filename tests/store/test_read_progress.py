"""A sync tells its progress as records arrive from the CRM, not only when a chunk is written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import TracebackType

from sqlalchemy import Engine

from domain.connector import ApiUsage
from domain.records import ObjectType, Record
from store import mirror
from tests.store.fake_reader import FakeReader, task

PAGE = 100


class PagedReader(FakeReader):
    """Counts one read call per page of ``PAGE`` records, as a CRM's API does."""

    def __init__(self) -> None:
        super().__init__()
        self.usage = ApiUsage()

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        for n, record in enumerate(super().iter_changed(object_type, since)):
            if n % PAGE == 0:
                self.usage.count("read")
            yield record


class Recorded:
    """A progress that keeps every update of every phase."""

    def __init__(self) -> None:
        self.updates: list[tuple[str, int, dict[str, int]]] = []
        self.ended: list[str] = []

    def phase(self, name: str, *, total: int | None = None, unit: str = "records") -> Recorded.Phase:
        return Recorded.Phase(self, name)

    class Phase:
        def __init__(self, owner: Recorded, name: str) -> None:
            self.owner, self.name = owner, name

        def update(self, done: int, **counts: int) -> None:
            self.owner.updates.append((self.name, done, counts))

        def __enter__(self) -> Recorded.Phase:
            return self

        def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                     trace: TracebackType | None) -> None:
            self.owner.ended.append(self.name)


def test_a_sync_tells_records_and_pages_every_few_hundred_records_read(engine: Engine) -> None:
    """1,200 tasks in one chunk of 20,000 are told at 500, 1,000 and 1,200 records, with the pages read."""
    reader = PagedReader()
    reader.put(*(task(n, minutes=n) for n in range(1200)))
    progress = Recorded()
    mirror.sync(reader, engine, "local", [ObjectType.TASK], progress=progress)
    told = [(done, counts["pages"]) for name, done, counts in progress.updates if name == "sync task"]
    assert told[:2] == [(500, 5), (1000, 10)] and told[-1] == (1200, 12)
    assert progress.ended == ["sync task"]
