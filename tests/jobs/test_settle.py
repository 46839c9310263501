"""Settling from the CRM what a dead run left in flight: done is recorded, undone is applied as planned."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from connectors.local import LocalCRM
from domain.connector import NewTask, RecordUpdate, WriteResult
from domain.errors import RetriableConnectorError
from domain.plan import Action, ActionKind
from domain.records import Account, Lead, ObjectType, Owner
from jobs.apply.actions import apply_actions
from jobs.apply.settle import settle_runs
from store.db import session_factory
from store.ledger import Ledger
from store.models import SnapshotRow

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
OWNERS = [Owner("u-a", "Ann"), Owner("u-b", "Bob"), Owner("u-c", "Cy")]


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[LocalCRM]:
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    day = NOW - timedelta(days=1)
    crm.insert_records([*OWNERS, *(Lead(f"l{n}", f"Lead {n}", "Initech", "u-a", "New", day, day) for n in range(3))])
    yield crm
    crm.close()


def _reassign(lead: str, owner: str) -> Action:
    return Action(ActionKind.REASSIGN, ObjectType.LEAD, lead, f"sla:{lead}", "late", "sla", {"owner_id": owner})


def _task(reassign: Action) -> Action:
    payload = {"subject": "Call this lead", "owner_id": reassign.payload["owner_id"], "due_date": "2026-11-21",
               "who_id": reassign.record_id}
    return Action(ActionKind.CREATE_TASK, ObjectType.LEAD, reassign.record_id, f"{reassign.key}:task", "late", "sla",
                  payload, requires=reassign.key)


def _dead_run(engine: Engine, actions: list[Action], claimed: int) -> tuple[Ledger, str, list[int]]:
    """A run that recorded ``actions``, claimed the first ``claimed`` of them, then died."""
    ledger = Ledger(session_factory(engine), clock=lambda: NOW)
    run_id = ledger.start_run("all", "local", dry_run=False, now=NOW)
    ids = ledger.record_actions(run_id, actions)
    ledger.claim_all(ids[:claimed])
    ledger.finish_run(run_id, "failed", {}, error="interrupted")
    return ledger, run_id, ids


def _owners(crm: LocalCRM) -> dict[str, str | None]:
    return {lead.id: lead.owner_id for lead in crm.iter_changed(ObjectType.LEAD, None) if isinstance(lead, Lead)}


def test_what_the_crm_shows_is_recorded_and_the_rest_applied_with_the_ledgers_payload(
    crm: LocalCRM, engine: Engine
) -> None:
    """One read for all leads; the write that landed is not sent again; the other goes to the planned owner."""
    landed, lost = _reassign("l0", "u-b"), _reassign("l1", "u-c")
    ledger, run_id, ids = _dead_run(engine, [landed, lost], claimed=2)
    crm.update([RecordUpdate(landed.key, ObjectType.LEAD, "l0", {"owner_id": "u-b"})])  # before the process died
    crm.update([RecordUpdate("a user", ObjectType.LEAD, "l1", {"owner_id": "u-a"})])
    before = dict(crm.usage.calls)

    settled = settle_runs(crm, session_factory(engine), [run_id], NOW)

    spent = {kind: crm.usage.calls[kind] - before.get(kind, 0) for kind in crm.usage.calls}
    assert spent == {"read": 1, "write": 1}
    assert (settled.shown, settled.applied, settled.failed) == (1, 1, 0)
    assert _owners(crm) == {"l0": "u-b", "l1": "u-c", "l2": "u-a"}
    assert {s for s, _ in ledger.action_statuses(ids).values()} == {"applied"}


def test_a_task_the_crm_holds_is_not_created_twice_and_waiting_tasks_follow_their_reassignment(
    crm: LocalCRM, engine: Engine
) -> None:
    """A task created before the death is found by its key; the dependent of an applied reassignment is created."""
    first, second, never = _reassign("l0", "u-b"), _reassign("l1", "u-c"), _reassign("l2", "u-b")
    actions = [first, second, _task(first), never, _task(second)]
    ledger, run_id, ids = _dead_run(engine, actions, claimed=3)
    crm.update([RecordUpdate(a.key, ObjectType.LEAD, a.record_id, dict(a.payload)) for a in (first, second)])
    crm.create_tasks([NewTask(_task(first).key, "Call this lead", "u-b", date(2026, 11, 21), who_id="l0")])

    settled = settle_runs(crm, session_factory(engine), [run_id], NOW)

    tasks = [t for t in crm.iter_changed(ObjectType.TASK, None)]
    assert sorted((t.who_id, t.owner_id) for t in tasks) == [("l0", "u-b"), ("l1", "u-c")]
    assert _owners(crm)["l2"] == "u-a"
    statuses = ledger.action_statuses(ids)
    assert [statuses[i][0] for i in ids] == ["applied", "applied", "applied", "skipped", "applied"]
    assert (settled.shown, settled.skipped) == (2, 1)


class UnansweredCRM(LocalCRM):
    """Carries out the first update, then loses the answer, as a timeout after the CRM committed would."""

    lost = False

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        results = super().update(updates)
        if not self.lost:
            self.lost = True
            raise RetriableConnectorError("read timed out")
        return results


def test_a_write_without_an_answer_stays_claimed_and_is_settled_from_the_crm_not_replanned(
    tmp_path: Path, engine: Engine
) -> None:
    """The run records no outcome for it; its dependent waits; the next start finds the write done and adds the task."""
    crm = UnansweredCRM(tmp_path / "crm.db", clock=lambda: NOW)
    crm.insert_records([*OWNERS, Lead("l0", "Lead 0", "Initech", "u-a", "New", NOW, NOW)])
    reassign = _reassign("l0", "u-b")
    ledger = Ledger(session_factory(engine), clock=lambda: NOW)
    run_id = ledger.start_run("sla", "local", dry_run=False, now=NOW)
    ids = ledger.record_actions(run_id, [reassign, _task(reassign)])

    outcome = apply_actions(crm, ledger, list(zip(ids, [reassign, _task(reassign)], strict=True)))
    ledger.finish_run(run_id, "finished", {})

    assert outcome.unsettled == {reassign.key} and _owners(crm)["l0"] == "u-b"
    assert [s for s, _ in ledger.action_statuses(ids).values()] == ["planned", "planned"]
    settled = settle_runs(crm, session_factory(engine), [run_id], NOW)
    assert (settled.shown, settled.applied) == (1, 1)
    assert [(t.who_id, t.owner_id) for t in crm.iter_changed(ObjectType.TASK, None)] == [("l0", "u-b")]
    crm.close()


def test_a_merge_cut_short_after_the_masters_new_values_is_finished_with_the_first_snapshots(
    tmp_path: Path, engine: Engine
) -> None:
    """Snapshots saved before the first write are reused; the merge goes on; the after-image is kept for undo."""
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    crm.insert_records([Account(i, f"Acme {i}", "u-a", NOW, NOW, phone=None) for i in ("m", "x", "y")])
    merge = Action(ActionKind.MERGE, ObjectType.ACCOUNT, "m", "merge:local:m:x,y", "same", "dedupe.merge",
                   {"cluster_id": "c1", "loser_ids": ["x", "y"], "fields": {"phone": "+1 555"},
                    "cluster_key": "merge:local:m:x,y"})
    ledger, run_id, (merge_id,) = _dead_run(engine, [merge], claimed=1)
    ledger.save_snapshots(merge_id, crm.snapshot(ObjectType.ACCOUNT, ["m", "x", "y"]))
    crm.update([RecordUpdate(merge.key, ObjectType.ACCOUNT, "m", {"phone": "+1 555"})])

    settled = settle_runs(crm, session_factory(engine), [run_id], NOW)

    assert settled.applied == 1
    assert set(crm.fetch(ObjectType.ACCOUNT, ["m", "x", "y"])) == {"m", "x", "y"}
    assert {r.id for r in crm.fetch(ObjectType.ACCOUNT, ["x", "y"]).values()} == {"m"}
    with session_factory(engine)() as session:
        rows = session.scalars(select(SnapshotRow).order_by(SnapshotRow.id)).all()
    assert [(r.record_id, r.data["phone"]) for r in rows] == [("m", None), ("x", None), ("y", None)]
    assert rows[0].after_merge is not None and rows[0].after_merge["phone"] == "+1 555"
    crm.close()
