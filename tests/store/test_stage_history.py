"""The mirror keeps each record's stage and forecast history as it syncs, and the CRM's own where it has one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from domain.records import ObjectType, Record, StageChange
from store import bulk_indexes, mirror
from store.db import session_factory
from store.stage_history import histories
from tests.store.fake_reader import T0, FakeReader, opportunity, owners


def stages(engine: Engine) -> dict[str, list[tuple[str | None, float | None, datetime]]]:
    with session_factory(engine)() as session:
        return {i: [(c.stage, c.amount, c.entered_at) for c in changes]
                for i, changes in histories(session, "local", ObjectType.OPPORTUNITY).items()}


def test_each_sync_records_only_what_changed(engine: Engine) -> None:
    """A new deal starts its history; a stage move is dated by the deal's own stage-change time; no change, no row."""
    reader = FakeReader()
    reader.owner_list = owners()
    first = opportunity(1, stage="Discovery", amount=1000.0, stage_changed_at=T0)
    reader.put(first)
    mirror.sync(reader, engine, "local")
    mirror.sync(reader, engine, "local")
    moved_at = T0 + timedelta(days=3)
    reader.put(replace(first, stage="First Demo", stage_changed_at=moved_at, updated_at=moved_at + timedelta(hours=1)))
    mirror.sync(reader, engine, "local")
    bigger = T0 + timedelta(days=5)
    reader.put(replace(first, stage="First Demo", stage_changed_at=moved_at, amount=1500.0, updated_at=bigger))
    mirror.sync(reader, engine, "local")

    assert stages(engine)[first.id] == [("Discovery", 1000.0, T0), ("First Demo", 1000.0, moved_at),
                                        ("First Demo", 1500.0, bigger)]


class HistoryKeepingReader(FakeReader):
    """A CRM that keeps its own stage history, as Salesforce's OpportunityHistory does."""

    def __init__(self, changes: list[StageChange]) -> None:
        super().__init__()
        self.changes = changes
        self.asked: list[tuple[ObjectType, datetime | None]] = []

    def iter_stage_history(self, object_type: ObjectType, since: datetime | None) -> Iterator[StageChange]:
        self.asked.append((object_type, since))
        return iter([c for c in self.changes
                     if c.object_type is object_type and (since is None or c.entered_at >= since)])


def test_the_crms_own_history_is_preferred_and_read_incrementally(engine: Engine) -> None:
    """With the CRM's history the report sees every stage, even those passed between two syncs."""
    deal = opportunity(1, stage="Second Demo", amount=900.0, stage_changed_at=T0 + timedelta(days=9))
    crm = [StageChange(ObjectType.OPPORTUNITY, deal.id, T0 + timedelta(days=d), stage, 1000.0, date(2026, 12, 1))
           for d, stage in ((0, "Discovery"), (4, "First Demo"), (9, "Second Demo"))]
    reader = HistoryKeepingReader(crm)
    reader.owner_list = owners()
    reader.put(deal)
    mirror.sync(reader, engine, "local")
    mirror.sync(reader, engine, "local")

    assert [s for s, _, _ in stages(engine)[deal.id]] == ["Discovery", "First Demo", "Second Demo"]
    assert [since for obj, since in reader.asked if obj is ObjectType.OPPORTUNITY] == [None, T0 + timedelta(days=9)]


def test_a_crm_history_without_forecasts_is_merged_with_the_mirrors(engine: Engine) -> None:
    """HubSpot gives stage dates only: the mirror's own rows add the amounts and close dates."""
    deal = opportunity(1, stage="First Demo", amount=700.0, stage_changed_at=T0 + timedelta(days=4))
    reader = HistoryKeepingReader([StageChange(ObjectType.OPPORTUNITY, deal.id, T0, "Discovery"),
                                   StageChange(ObjectType.OPPORTUNITY, deal.id, T0 + timedelta(days=4), "First Demo")])
    reader.owner_list = owners()
    reader.put(deal)
    mirror.sync(reader, engine, "local")

    assert stages(engine)[deal.id] == [("Discovery", None, T0), ("First Demo", None, T0 + timedelta(days=4)),
                                       ("First Demo", 700.0, T0 + timedelta(days=4))]


def test_a_first_sync_starts_each_deals_history_as_the_sync_left_it(engine: Engine) -> None:
    """A deal edited while the first sync pages through the CRM is met twice: its history starts at its last version."""
    moved_at, bigger = T0 + timedelta(days=3), T0 + timedelta(days=5)
    first = opportunity(1, stage="Discovery", amount=1000.0, stage_changed_at=T0)
    grown = replace(first, stage="First Demo", stage_changed_at=moved_at, amount=1500.0, updated_at=bigger)

    class EditedMidway(FakeReader):
        def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
            yield from super().iter_changed(object_type, since)
            if since is None and object_type is ObjectType.OPPORTUNITY:
                yield from (opportunity(n, minutes=n) for n in range(10, 13))
                yield grown  # the CRM's paging meets the edited deal again, in a later chunk

    reader = EditedMidway()
    reader.owner_list = owners()
    reader.put(first, *(opportunity(n, minutes=n) for n in range(2, 6)))
    mirror.sync(reader, engine, "local", chunk_size=3)
    history = stages(engine)
    assert history[first.id] == [("First Demo", 1500.0, moved_at)]
    assert len(history) == 8 and all(len(changes) == 1 for changes in history.values())
    reader.put(replace(grown, stage="Negotiation", stage_changed_at=bigger, updated_at=bigger))
    mirror.sync(reader, engine, "local")
    assert stages(engine)[first.id] == [("First Demo", 1500.0, moved_at), ("Negotiation", 1500.0, bigger)]


def test_deals_a_killed_first_sync_wrote_start_their_history_with_the_next_sync(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed before its end, a first sync leaves deals without history; the next sync starts it, once."""
    reader = FakeReader()
    reader.owner_list = owners()
    reader.put(*(opportunity(n, minutes=n) for n in range(1, 10)))
    reader.fail_after = 6
    with monkeypatch.context() as killed:  # killed: nothing runs on the way out
        killed.setattr(bulk_indexes, "restore", lambda session, table: False)
        with pytest.raises(ConnectionError):
            mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY], chunk_size=3)
    assert stages(engine) == {}
    reader.fail_after = None
    mirror.sync(reader, engine, "local", [ObjectType.OPPORTUNITY], chunk_size=3)
    assert {i: len(changes) for i, changes in stages(engine).items()} == {opportunity(n).id: 1 for n in range(1, 10)}
