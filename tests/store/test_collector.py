"""The garbage collector is held back while a sync streams records, and given back as the process had it."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine

from domain.records import ObjectType, Record
from store import mirror
from store.collector import collections_every, settle
from tests.store.fake_reader import FakeReader, task


@pytest.fixture
def own_threshold() -> Iterator[tuple[int, ...]]:
    """A threshold of the test's own, so a restored default cannot pass by luck; the real one comes back after."""
    before = gc.get_threshold()
    gc.set_threshold(901, 11, 12)
    yield gc.get_threshold()
    gc.set_threshold(*before)


class WatchingReader(FakeReader):
    """Notes the collector's threshold while the sync reads from it."""

    def __init__(self) -> None:
        super().__init__()
        self.thresholds: list[tuple[int, ...]] = []

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        self.thresholds.append(gc.get_threshold())
        yield from super().iter_changed(object_type, since)


def test_a_sync_collects_young_objects_only_past_its_chunks_and_restores_the_threshold(
    engine: Engine, own_threshold: tuple[int, ...]
) -> None:
    reader = WatchingReader()
    reader.put(*(task(n, minutes=n) for n in range(5)))
    mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=1000)
    assert reader.thresholds == [(1000 * mirror.OBJECTS_PER_RECORD_IN_FLIGHT, 11, 12)]
    assert gc.get_threshold() == own_threshold


def test_a_failed_sync_restores_the_threshold(engine: Engine, own_threshold: tuple[int, ...]) -> None:
    reader = FakeReader()
    reader.put(*(task(n, minutes=n) for n in range(5)))
    reader.fail_after = 2
    with pytest.raises(ConnectionError):
        mirror.sync(reader, engine, "local", [ObjectType.TASK], chunk_size=1)
    assert gc.get_threshold() == own_threshold


def test_a_higher_threshold_is_never_lowered(own_threshold: tuple[int, ...]) -> None:
    with collections_every(10):
        assert gc.get_threshold() == own_threshold


def test_overlapping_syncs_in_threads_restore_the_threshold_once_the_last_ends(own_threshold: tuple[int, ...]) -> None:
    """The first holder to leave does not hand back the low threshold under the other one's feet."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, ...]] = []

    def first() -> None:
        with collections_every(50_000):
            first_in.set()
            second_in.wait()
        first_out.set()

    def second() -> None:
        first_in.wait()
        with collections_every(40_000):
            second_in.set()
            first_out.wait()
            seen.append(gc.get_threshold())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [(50_000, 11, 12)]
    assert gc.get_threshold() == own_threshold


class Cycle:
    """Garbage only the cyclic collector frees: it refers to itself."""

    def __init__(self) -> None:
        self.me = self


def test_settling_collects_garbage_and_keeps_what_survives_out_of_later_collections() -> None:
    """Between runs: a full collection now, then the survivors (a worker's kept judgments) are left out of the next
    run's collections; garbage among them is collected by the settle after."""
    dead = Cycle()
    gone = weakref.ref(dead)
    del dead
    kept = Cycle()
    settle()
    assert gone() is None
    assert gc.get_freeze_count() > 0
    held = weakref.ref(kept)
    del kept
    gc.collect()
    assert held() is not None  # frozen: no collection walks it while the next run goes on
    settle()
    assert held() is None
