"""The connector contract: behaviour every connector must show, whatever CRM is behind it.

Reuse it by subclassing ``ConnectorContract`` in a test module and defining a ``crm`` fixture that
yields a ``ContractCRM``: a connector whose CRM holds exactly ``known_org(CONTRACT_START)`` (with
these ids) and reads its time from ``clock``. For example::

    class TestLocalContract(ConnectorContract):
        @pytest.fixture
        def crm(self, tmp_path):
            clock = FakeClock(CONTRACT_START)
            connector = LocalCRM(tmp_path / "crm.db", clock=clock, page_size=2, batch_size=2)
            connector.insert_records(known_org(CONTRACT_START))
            yield ContractCRM(connector, clock, page_size=2, batch_size=2)

Use a page size and batch size smaller than the org (2 or 3) so paging and batching are exercised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.connector import Connector, NewTask, RecordUpdate, TaskDeletion
from domain.records import (
    Account,
    Contact,
    Lead,
    Note,
    ObjectType,
    Opportunity,
    Owner,
    Record,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from jobs.apply.fields import shows

CONTRACT_START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> datetime:
        self.moment += delta
        return self.moment


@dataclass
class ContractCRM:
    connector: Connector
    clock: FakeClock
    page_size: int
    batch_size: int
    losers_per_merge_call: int = 2
    ids_per_fetch: int | None = None
    """Ids one ``fetch`` read call takes (default: the page size)."""


def known_org(start: datetime) -> list[Record]:
    """The small org every contract test starts from; acc-3 and acc-4 share an updated_at."""

    def ago(days: int) -> datetime:
        return start - timedelta(days=days)

    return [
        Owner("usr-ann", "Ann Lee", "ann@example.com", time_zone="America/New_York", updated_at=ago(30)),
        Owner("usr-bob", "Bob Roy", "bob@example.com", time_zone="Europe/Berlin", updated_at=ago(30)),
        Owner("usr-old", "Old Timer", "old@example.com", active=False, updated_at=ago(30)),
        Owner("q-sales", "Sales Queue", is_queue=True, updated_at=ago(30)),
        Account("acc-1", "Acme Products", "usr-ann", ago(20), ago(5), website="acme.example"),
        Account("acc-2", "Acme Products, Inc.", "usr-bob", ago(19), ago(4), extra={"tier": "gold"}),
        Account("acc-3", "Acme Products, Incorporated", "usr-ann", ago(18), ago(3)),
        Account("acc-4", "Globex", "usr-bob", ago(18), ago(3), account_type="Customer"),
        Account("acc-5", "Channel Co", "usr-ann", ago(17), ago(1), account_type="Partner"),
        Contact("con-1", "Jo Ng", "acc-2", "usr-bob", ago(15), ago(15)),
        Contact("con-2", "Ольга Иванова", "acc-3", "usr-ann", ago(15), ago(15)),
        Contact("con-3", "Max Mu", "acc-1", "usr-ann", ago(15), ago(15)),
        Lead("lead-1", "Kim Park", "Initech", "usr-ann", "New", ago(2), ago(2),
             extra={"bant_budget": None}),
        Lead("lead-2", "Café ☕ Owner", "Café ☕ Ltd", "q-sales", "Working", ago(9), ago(6)),
        Opportunity("opp-1", "Acme renewal", "acc-2", "usr-bob", "Discovery", ago(10), ago(8),
                    amount=1000.0, close_date=date(2026, 4, 1), extra={"bant_budget": "yes"}),
        Opportunity("opp-2", "Acme via partner", "acc-1", "usr-ann", "First Demo", ago(10), ago(7),
                    partner_account_id="acc-3"),
        Task("tsk-1", "Call Acme", "usr-bob", TaskStatus.OPEN, TaskType.CALL, TaskPriority.HIGH,
             ago(6), ago(6), due_date=date(2026, 2, 27), what_id="acc-2"),
        Task("tsk-2", "Demo prep", "usr-bob", TaskStatus.COMPLETED, TaskType.TODO, TaskPriority.NORMAL,
             ago(6), ago(5), what_id="opp-1", completed_at=ago(5)),
        Task("tsk-3", "Email Olga", "usr-ann", TaskStatus.OPEN, TaskType.EMAIL, TaskPriority.LOW,
             ago(4), ago(4), who_id="con-2"),
        Note("note-1", "acc-3", "Pricing", "Wants a discount", ago(3), ago(3)),
    ]


def _known(record_id: str) -> Record:
    return next(r for r in known_org(CONTRACT_START) if r.id == record_id)


def _state(connector: Connector) -> dict[str, Record]:
    """Every record of every type, updated_at blanked, keyed by id."""
    return {
        record.id: replace(record, updated_at=EPOCH)
        for obj in ObjectType
        for record in connector.iter_changed(obj, None)
    }


def _by_id(connector: Connector, obj: ObjectType, since: datetime | None = None) -> dict[str, Any]:
    return {record.id: record for record in connector.iter_changed(obj, since)}


class ConnectorContract:
    """Subclass with a ``crm`` fixture (see the module docstring) to run the contract."""

    def test_iter_changed_without_watermark_yields_all_oldest_first(self, crm: ContractCRM) -> None:
        """With no watermark every record comes back, ordered by (updated_at, id)."""
        accounts = list(crm.connector.iter_changed(ObjectType.ACCOUNT, None))
        assert [a.id for a in accounts] == ["acc-1", "acc-2", "acc-3", "acc-4", "acc-5"]
        assert accounts[1] == _known("acc-2")

    def test_iter_changed_counts_one_read_per_page(self, crm: ContractCRM) -> None:
        """Reading N records costs ceil(N / page size) read calls."""
        before = crm.connector.usage.calls.get("read", 0)
        tasks = list(crm.connector.iter_changed(ObjectType.TASK, None))
        assert crm.connector.usage.calls["read"] - before == math.ceil(len(tasks) / crm.page_size)

    def test_iter_changed_reads_pages_only_as_consumed(self, crm: ContractCRM) -> None:
        """Taking the first record costs one read call, not a read of the whole table."""
        before = crm.connector.usage.calls.get("read", 0)
        next(iter(crm.connector.iter_changed(ObjectType.TASK, None)))
        assert crm.connector.usage.calls["read"] - before == 1

    def test_watermark_is_inclusive(self, crm: ContractCRM) -> None:
        """A watermark equal to a record's updated_at includes it and everything later."""
        since = CONTRACT_START - timedelta(days=3)
        ids = [a.id for a in crm.connector.iter_changed(ObjectType.ACCOUNT, since)]
        assert ids == ["acc-3", "acc-4", "acc-5"]

    def test_returned_datetimes_are_aware_utc(self, crm: ContractCRM) -> None:
        """Datetimes come back timezone-aware in UTC."""
        opp = _by_id(crm.connector, ObjectType.OPPORTUNITY)["opp-1"]
        assert opp.created_at == CONTRACT_START - timedelta(days=10)
        assert opp.created_at.utcoffset() == timedelta(0)

    def test_update_moves_record_past_the_watermark(self, crm: ContractCRM) -> None:
        """An updated record is the only one changed since the moment before the update."""
        mark = crm.clock.advance(timedelta(minutes=5))
        crm.clock.advance(timedelta(seconds=1))
        results = crm.connector.update(
            [RecordUpdate("k1", ObjectType.ACCOUNT, "acc-1", {"owner_id": "usr-bob"})]
        )
        assert results[0].ok, results[0].error
        changed = _by_id(crm.connector, ObjectType.ACCOUNT, since=mark).values()
        assert [(a.id, a.owner_id, a.updated_at) for a in changed] == [("acc-1", "usr-bob", crm.clock())]

    def test_batch_update_fails_only_the_bad_records(self, crm: ContractCRM) -> None:
        """Bad records in a batch get their own named errors while the good ones are applied."""
        results = crm.connector.update(
            [
                RecordUpdate("ok-1", ObjectType.OPPORTUNITY, "opp-1", {"amount": 2500.0}),
                RecordUpdate("gone", ObjectType.OPPORTUNITY, "opp-404", {"amount": 1.0}),
                RecordUpdate("owner", ObjectType.OPPORTUNITY, "opp-2", {"owner_id": "usr-old"}),
                RecordUpdate("field", ObjectType.OPPORTUNITY, "opp-2", {"no_such_field": 1}),
                RecordUpdate("ok-2", ObjectType.OPPORTUNITY, "opp-2", {"bant_budget": "approved"}),
            ]
        )
        assert [r.key for r in results] == ["ok-1", "gone", "owner", "field", "ok-2"]
        assert [r.ok for r in results] == [True, False, False, False, True]
        assert results[1].error is not None and results[1].error.startswith("ENTITY_IS_DELETED")
        assert "opp-404" in results[1].error
        assert results[2].error is not None and results[2].error.startswith("INVALID_CROSS_REFERENCE_KEY")
        assert results[3].error is not None and results[3].error.startswith("INVALID_FIELD")
        assert "no_such_field" in results[3].error
        opps = _by_id(crm.connector, ObjectType.OPPORTUNITY)
        assert opps["opp-1"].amount == 2500.0
        assert (opps["opp-2"].owner_id, opps["opp-2"].extra["bant_budget"]) == ("usr-ann", "approved")

    def test_update_counts_one_write_per_batch(self, crm: ContractCRM) -> None:
        """Updating batch size + 1 records costs two write calls."""
        ids = ["acc-1", "acc-2", "acc-3", "acc-4", "acc-5"][: crm.batch_size + 1]
        before = crm.connector.usage.calls.get("write", 0)
        updates = [RecordUpdate(f"k-{i}", ObjectType.ACCOUNT, i, {"owner_id": "q-sales"}) for i in ids]
        assert all(r.ok for r in crm.connector.update(updates))
        assert crm.connector.usage.calls["write"] - before == math.ceil(len(ids) / crm.batch_size)

    def test_stage_and_status_changes_are_stamped(self, crm: ContractCRM) -> None:
        """Changing a stage or a lead status records when it changed."""
        now = crm.clock.advance(timedelta(hours=1))
        crm.connector.update(
            [
                RecordUpdate("s", ObjectType.OPPORTUNITY, "opp-1", {"stage": "First Demo"}),
                RecordUpdate("l", ObjectType.LEAD, "lead-1", {"status": "Working"}),
            ]
        )
        assert _by_id(crm.connector, ObjectType.OPPORTUNITY)["opp-1"].stage_changed_at == now
        assert _by_id(crm.connector, ObjectType.LEAD)["lead-1"].status_changed_at == now

    def test_create_tasks_is_idempotent_by_key(self, crm: ContractCRM) -> None:
        """Creating a task twice with the same key returns the first task and creates no duplicate."""
        task = NewTask("sla:opp-1:2026-03", "Act on this opportunity", "usr-ann", date(2026, 3, 3),
                       priority=TaskPriority.HIGH, what_id="opp-1")
        first = crm.connector.create_tasks([task])
        second = crm.connector.create_tasks([task])
        assert first[0].ok and second[0].ok
        assert first[0].record_id == second[0].record_id
        tasks = _by_id(crm.connector, ObjectType.TASK)
        assert [t.subject for t in tasks.values()].count("Act on this opportunity") == 1
        created = tasks[str(first[0].record_id)]
        assert (created.owner_id, created.status, created.what_id) == ("usr-ann", TaskStatus.OPEN, "opp-1")

    def test_create_task_with_inactive_owner_fails_alone(self, crm: ContractCRM) -> None:
        """A task for an inactive owner is refused while the rest of the batch is created."""
        results = crm.connector.create_tasks(
            [
                NewTask("bad", "Call", "usr-old", date(2026, 3, 3)),
                NewTask("good", "Call", "usr-bob", date(2026, 3, 3)),
            ]
        )
        assert [r.ok for r in results] == [False, True]
        assert results[0].error is not None and "INVALID_CROSS_REFERENCE_KEY" in results[0].error

    def test_delete_tasks_removes_them_once_and_a_second_delete_counts_as_done(self, crm: ContractCRM) -> None:
        """Revert's delete: the created task leaves reads and fetches; deleting it again is no error."""
        created = crm.connector.create_tasks([NewTask("revert-me", "Call", "usr-ann", date(2026, 3, 3))])[0]
        task_id = str(created.record_id)
        assert task_id in crm.connector.fetch(ObjectType.TASK, [task_id])
        first = crm.connector.delete_tasks([TaskDeletion("revert:1", task_id)])
        again = crm.connector.delete_tasks([TaskDeletion("revert:2", task_id)])
        assert [(r.key, r.ok) for r in (*first, *again)] == [("revert:1", True), ("revert:2", True)]
        assert task_id not in crm.connector.fetch(ObjectType.TASK, [task_id])
        assert task_id not in {t.id for t in crm.connector.iter_changed(ObjectType.TASK, None) if not t.deleted}

    def test_fetch_gives_records_by_id_as_a_read_does(self, crm: ContractCRM) -> None:
        """Records fetched by id equal the synced ones; an unknown id is left out; ids go many per read call."""
        wanted = ["opp-1", "opp-2", "opp-404"]
        before = crm.connector.usage.calls.get("read", 0)
        found = crm.connector.fetch(ObjectType.OPPORTUNITY, wanted)
        spent = crm.connector.usage.calls["read"] - before
        assert found == {i: r for i, r in _by_id(crm.connector, ObjectType.OPPORTUNITY).items() if i in wanted}
        assert spent == math.ceil(len(wanted) / (crm.ids_per_fetch or crm.page_size))

    def test_fetch_gives_the_master_for_a_merged_away_id(self, crm: ContractCRM) -> None:
        """After a merge, fetching the loser's id gives the surviving record; the master's id gives it too."""
        assert crm.connector.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2"]).ok
        found = crm.connector.fetch(ObjectType.ACCOUNT, ["acc-1", "acc-2", "acc-3"])
        assert {asked: record.id for asked, record in found.items()} == {
            "acc-1": "acc-1", "acc-2": "acc-1", "acc-3": "acc-3"}
        assert found["acc-2"] == _by_id(crm.connector, ObjectType.ACCOUNT)["acc-1"]

    def test_fetch_shows_what_an_update_wrote(self, crm: ContractCRM) -> None:
        """Recovery's test of whether a write landed: after an update, the fetched record shows every value set."""
        writes = [
            RecordUpdate("k1", ObjectType.LEAD, "lead-1", {"owner_id": "usr-bob", "status": "Working"}),
            RecordUpdate("k2", ObjectType.OPPORTUNITY, "opp-1", {"owner_id": "usr-ann", "stage": "First Demo"}),
            RecordUpdate("k3", ObjectType.ACCOUNT, "acc-4", {"owner_id": "usr-ann"}),
        ]
        fetched = {w.key: crm.connector.fetch(w.object_type, [w.record_id]).get(w.record_id) for w in writes}
        assert not any(shows(fetched[w.key], w.fields) for w in writes)
        assert all(r.ok for r in crm.connector.update(writes))
        fetched = {w.key: crm.connector.fetch(w.object_type, [w.record_id]).get(w.record_id) for w in writes}
        assert all(shows(fetched[w.key], w.fields) for w in writes)

    def test_owners_lists_users_and_queues_in_one_read(self, crm: ContractCRM) -> None:
        """owners() returns active and inactive users and queues for one read call."""
        before = crm.connector.usage.calls.get("read", 0)
        owners = {o.id: o for o in crm.connector.owners()}
        assert set(owners) == {"usr-ann", "usr-bob", "usr-old", "q-sales"}
        assert owners["q-sales"].is_queue and not owners["usr-old"].active
        assert crm.connector.usage.calls["read"] - before == 1

    def test_merge_moves_children_and_deletes_losers(self, crm: ContractCRM) -> None:
        """After a merge the losers' children point at the master and the losers read back deleted."""
        mark = crm.clock.advance(timedelta(minutes=1))
        result = crm.connector.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2", "acc-3"])
        assert result.ok, result.error
        assert set(result.merged_ids) == {"acc-2", "acc-3"}
        contacts = _by_id(crm.connector, ObjectType.CONTACT)
        assert {contacts[c].account_id for c in ("con-1", "con-2", "con-3")} == {"acc-1"}
        opps = _by_id(crm.connector, ObjectType.OPPORTUNITY)
        assert (opps["opp-1"].account_id, opps["opp-2"].partner_account_id) == ("acc-1", "acc-1")
        assert _by_id(crm.connector, ObjectType.TASK)["tsk-1"].what_id == "acc-1"
        assert _by_id(crm.connector, ObjectType.NOTE)["note-1"].parent_id == "acc-1"
        changed = {a.id: a.deleted for a in crm.connector.iter_changed(ObjectType.ACCOUNT, mark)}
        assert changed == {"acc-1": False, "acc-2": True, "acc-3": True}
        assert "tsk-1" in {t.id for t in crm.connector.iter_changed(ObjectType.TASK, mark)}

    def test_merged_away_record_refuses_updates(self, crm: ContractCRM) -> None:
        """Updating a merged-away record fails with ENTITY_IS_DELETED naming it."""
        crm.connector.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2"])
        (result,) = crm.connector.update([RecordUpdate("k", ObjectType.ACCOUNT, "acc-2", {"name": "x"})])
        assert not result.ok
        assert result.error is not None and result.error.startswith("ENTITY_IS_DELETED")
        assert "acc-2" in result.error

    def test_merge_counts_calls_by_losers_per_call(self, crm: ContractCRM) -> None:
        """Merging three losers costs ceil(3 / losers per call) merge calls."""
        before = crm.connector.usage.calls.get("merge", 0)
        result = crm.connector.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2", "acc-3", "acc-4"])
        assert result.ok, result.error
        spent = crm.connector.usage.calls["merge"] - before
        assert spent == math.ceil(3 / crm.losers_per_merge_call)

    def test_merging_opportunities_is_refused(self, crm: ContractCRM) -> None:
        """Opportunities cannot be merged: the result says so and nothing changes."""
        before = _state(crm.connector)
        result = crm.connector.merge(ObjectType.OPPORTUNITY, "opp-1", ["opp-2"])
        assert not result.ok
        assert result.error is not None and "INVALID_TYPE_FOR_OPERATION" in result.error
        assert _state(crm.connector) == before

    def test_restore_undoes_a_merge_exactly(self, crm: ContractCRM) -> None:
        """Snapshot, merge, restore leaves every record as it was, apart from updated_at."""
        before = _state(crm.connector)
        snapshots = crm.connector.snapshot(ObjectType.ACCOUNT, ["acc-1", "acc-2", "acc-3"])
        crm.clock.advance(timedelta(minutes=1))
        assert crm.connector.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2", "acc-3"]).ok
        crm.clock.advance(timedelta(minutes=1))
        crm.connector.restore(snapshots)
        assert _state(crm.connector) == before

    def test_snapshot_holds_the_children_a_merge_moves(self, crm: ContractCRM) -> None:
        """An account's snapshot lists its contacts, opportunities, tasks and notes."""
        (snap,) = crm.connector.snapshot(ObjectType.ACCOUNT, ["acc-3"])
        assert snap.record_id == "acc-3"
        child_ids = {kind: {row_id(c) for c in rows} for kind, rows in snap.children.items() if rows}
        assert child_ids == {"contact": {"con-2"}, "opportunity": {"opp-2"}, "note": {"note-1"}}


def row_id(row: dict[str, Any]) -> Any:
    """A snapshot child's id, whatever the CRM calls the field."""
    return next(row[k] for k in ("id", "Id", "hs_object_id") if k in row)
