"""Contacts and leads: plan, apply and undo on the embedded CRM, children and fields restored."""

from pathlib import Path

from connectors.local import LocalCRM
from domain.plan import ActionStatus
from domain.records import Contact, Lead, ObjectType, Task
from jobs.apply.merges import apply_plan
from jobs.apply.undo import undo
from tests.dedupe.merge_support import NOW, crm_state, ledger_sessions
from tests.dedupe.people_support import people, people_plan


def local_crm(tmp_path: Path) -> LocalCRM:
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    crm.insert_records(people())
    return crm


def test_duplicate_contacts_merge_into_the_busiest_and_come_back_on_undo(tmp_path: Path) -> None:
    """Robert Smith merges into Bob Smith (same email, more tasks), who takes his phone and note; undo puts all back."""
    crm, sessions = local_crm(tmp_path), ledger_sessions(tmp_path / "warden.db")
    before = crm_state(crm)
    (cluster,) = people_plan(crm, sessions, "local", ObjectType.CONTACT)
    assert (cluster.object, cluster.master_id, cluster.loser_ids) == (ObjectType.CONTACT, "con-2", ("con-1",))
    assert "most activity (1 vs 0 tasks)" in cluster.reason and "nickname" in cluster.reason
    assert cluster.fields == {"phone": "617 555 0100"}
    run = apply_plan([cluster], crm, sessions, "local", NOW)
    assert [o.status for o in run.outcomes] == [ActionStatus.APPLIED]
    assert run.outcomes[0].key == "merge:local:contact:con-2:con-1"
    contacts = {c.id: c for c in crm.iter_changed(ObjectType.CONTACT, None) if isinstance(c, Contact)}
    assert contacts["con-1"].deleted and not contacts["con-2"].deleted and not contacts["con-3"].deleted
    assert contacts["con-2"].phone == "617 555 0100"
    assert {n.id: n.parent_id for n in crm.iter_changed(ObjectType.NOTE, None)}["not-2"] == "con-2"  # type: ignore[union-attr]
    undo(run.run_id, crm, sessions, NOW, apply=True)
    assert crm_state(crm) == before


def test_duplicate_leads_merge_with_their_tasks_and_undo_restores_fields_and_tasks(tmp_path: Path) -> None:
    """Jo Park's two leads merge into the one with the calls; the other's values and tasks return on undo."""
    crm, sessions = local_crm(tmp_path), ledger_sessions(tmp_path / "warden.db")
    before = crm_state(crm)
    (cluster,) = people_plan(crm, sessions, "local", ObjectType.LEAD)
    assert (cluster.master_id, cluster.loser_ids, cluster.tier.value) == ("led-2", ("led-1",), "auto")
    run = apply_plan([cluster], crm, sessions, "local", NOW)
    assert [o.status for o in run.outcomes] == [ActionStatus.APPLIED]
    leads = {r.id: r for r in crm.iter_changed(ObjectType.LEAD, None) if isinstance(r, Lead)}
    assert leads["led-1"].deleted
    tasks = {t.id: t.who_id for t in crm.iter_changed(ObjectType.TASK, None) if isinstance(t, Task)}
    assert tasks["tsk-2"] == tasks["tsk-3"] == "led-2"
    undo(run.run_id, crm, sessions, NOW, apply=True)
    assert crm_state(crm) == before
