"""The demo org: deterministic, realistic, and full of what the rules look for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from demo.org import seed_demo, seed_scaled
from domain.records import Account, Lead, ObjectType, Opportunity, Owner, Task, TaskPriority, TaskStatus, TaskType

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def _all(crm: LocalCRM, obj: ObjectType) -> list[Any]:
    return list(crm.iter_changed(obj, None))


@pytest.fixture(scope="module")
def demo() -> Iterator[LocalCRM]:
    crm = LocalCRM(":memory:")
    seed_demo(crm, NOW)
    yield crm
    crm.close()


def test_same_seed_gives_the_same_org() -> None:
    """Seeding twice with the same moment and seed yields identical records of every type."""
    first, second, other = LocalCRM(":memory:"), LocalCRM(":memory:"), LocalCRM(":memory:")
    seed_demo(first, NOW)
    seed_demo(second, NOW)
    seed_demo(other, NOW, seed=8)
    assert all(_all(first, obj) == _all(second, obj) for obj in ObjectType)
    assert _all(first, ObjectType.OPPORTUNITY) != _all(other, ObjectType.OPPORTUNITY)


def test_seeding_a_seeded_crm_adds_nothing(demo: LocalCRM) -> None:
    """A second seed_demo on the same CRM leaves every count unchanged."""
    before = {obj: demo.count(obj) for obj in ObjectType}
    seed_demo(demo, NOW + timedelta(days=3))
    assert {obj: demo.count(obj) for obj in ObjectType} == before


def test_org_has_the_promised_size(demo: LocalCRM) -> None:
    """The org has a few hundred accounts, ~200 leads, ~400 opportunities and ~1500 tasks."""
    counts = {obj: demo.count(obj) for obj in ObjectType}
    assert 250 <= counts[ObjectType.ACCOUNT] <= 350
    assert 180 <= counts[ObjectType.LEAD] <= 250
    assert 350 <= counts[ObjectType.OPPORTUNITY] <= 450
    assert 1400 <= counts[ObjectType.TASK] <= 1700
    assert counts[ObjectType.CONTACT] > 0 and counts[ObjectType.NOTE] > 0


def test_every_person_the_policy_names_exists(demo: LocalCRM) -> None:
    """Every manager and team member in the packaged policy is an owner with a time zone."""
    policy = load_policy(PACKAGED_POLICY)
    owners = {o.email: o for o in demo.owners() if o.email}
    for team in policy.teams:
        manager = owners[team.manager]
        for member in team.members:
            assert owners[member].time_zone
            assert owners[member].manager_id == manager.id
    queues = {o.name for o in demo.owners() if o.is_queue}
    assert set(policy.queues) <= queues
    assert not owners["pat.morgan@example.com"].active
    assert owners["olga.ivanova@example.com"].name == "Ольга Иванова"


def test_accounts_hold_duplicates_look_alikes_and_odd_names(demo: LocalCRM) -> None:
    """Naming-convention duplicates, look-alikes, partners and non-Latin names are all present."""
    accounts: list[Account] = _all(demo, ObjectType.ACCOUNT)
    names = {a.name for a in accounts}
    assert {"Acme Products", "Acme Products, Inc.", "Acme Products, Inc", "Acme Products, Incorporated"} <= names
    assert {"Globex GmbH", "Globex", "Bank of the West", "Bank of the East", "Northwind II"} <= names
    assert {"株式会社トヨタ", "Café ☕ Ltd"} <= names
    assert len(names) == len(accounts)
    assert {a.account_type for a in accounts} == {"Customer", "Prospect", "Partner"}
    assert any(a.owner_id is None for a in accounts)


def test_leads_cover_every_status_and_age(demo: LocalCRM) -> None:
    """Leads span all statuses, with untouched brand-new ones and Qualified ones idle for 30+ days."""
    leads: list[Lead] = _all(demo, ObjectType.LEAD)
    assert {lead.status for lead in leads} == {
        "New", "Qualifying", "Development", "Working", "Qualified", "Returned to Marketing",
        "Disqualified", "Converted", "Rejected",
    }
    last_call = _last_completed(demo)
    fresh = [
        lead for lead in leads
        if lead.status == "New" and NOW - lead.created_at < timedelta(days=3) and lead.id not in last_call
    ]
    assert len(fresh) >= 5
    idle = [
        lead for lead in leads
        if lead.status == "Qualified" and NOW - last_call.get(lead.id, lead.created_at) > timedelta(days=30)
    ]
    assert len(idle) >= 5
    bant = ("bant_budget", "bant_authority", "bant_need", "bant_timeline")
    qualified = [lead for lead in leads if lead.status == "Qualified"]
    assert any(not all(lead.extra.get(key) for key in bant) for lead in qualified)
    assert any(all(lead.extra.get(key) for key in bant) for lead in qualified)


def test_opportunities_cover_stages_staleness_and_bad_data(demo: LocalCRM) -> None:
    """Deals span every stage plus one unknown, with stale, channel, untouched and incomplete ones."""
    deals: list[Opportunity] = _all(demo, ObjectType.OPPORTUNITY)
    assert {d.stage for d in deals} >= {
        "Discovery", "First Demo", "Second Demo", "Checking References", "Closed Won", "Closed Lost",
        "No Decision", "Legacy Stage",
    }
    assert all(d.is_closed == (d.stage in ("Closed Won", "Closed Lost", "No Decision")) for d in deals)
    stale = [d for d in deals if not d.is_closed and d.stage_changed_at and NOW - d.stage_changed_at > timedelta(60)]
    assert len(stale) >= 30
    partners = {a.id for a in _all(demo, ObjectType.ACCOUNT) if a.account_type == "Partner"}
    channel = [d for d in deals if d.partner_account_id]
    assert channel and all(d.partner_account_id in partners and d.owner_id == "usr-robin-shaw" for d in channel)
    acted_on = _last_completed(demo)
    untouched = [d for d in deals if d.stage_changed_at is None and d.id not in acted_on]
    assert any(NOW - d.created_at > timedelta(days=6) for d in untouched)
    assert any(d.amount is None for d in deals) and any(d.close_date is None for d in deals)
    assert any(d.owner_id is None for d in deals) and any(d.owner_id == "usr-pat-morgan" for d in deals)


def test_tasks_include_overdue_today_and_neglected_customers(demo: LocalCRM) -> None:
    """Open tasks are overdue (some high priority), due today or later; some customers go uncalled."""
    tasks: list[Task] = _all(demo, ObjectType.TASK)
    open_tasks = [t for t in tasks if t.status is TaskStatus.OPEN and t.due_date]
    today = NOW.date()
    assert any(t.due_date < today and t.priority is TaskPriority.HIGH for t in open_tasks if t.due_date)
    assert any(t.due_date == today for t in open_tasks) and any(t.due_date > today for t in open_tasks if t.due_date)
    calls = {t.what_id: t.completed_at for t in sorted(tasks, key=lambda t: t.completed_at or NOW)
             if t.task_type is TaskType.CALL and t.completed_at}
    customers = [a for a in _all(demo, ObjectType.ACCOUNT) if a.account_type == "Customer"]
    neglected = [a for a in customers if NOW - calls.get(a.id, a.created_at) > timedelta(days=100)]
    assert len(neglected) >= 10


def test_dates_are_consistent_and_references_resolve(demo: LocalCRM) -> None:
    """No record is created in the future or updated before creation, and every lookup resolves."""
    ids = {r.id for obj in ObjectType for r in _all(demo, obj)}
    for obj in ObjectType:
        for record in _all(demo, obj):
            if isinstance(record, Owner):
                continue
            assert record.created_at <= record.updated_at <= NOW, record.id
            for ref in ("owner_id", "account_id", "partner_account_id", "what_id", "who_id", "parent_id"):
                value = getattr(record, ref, None)
                assert value is None or value in ids, f"{record.id}.{ref} -> {value}"


def test_seed_scaled_builds_the_requested_size(tmp_path: Any) -> None:
    """seed_scaled adds exactly the requested numbers of rows, with the demo owners."""
    crm = LocalCRM(tmp_path / "big.db")
    seed_scaled(crm, accounts=300, opportunities=1000, tasks=3000, now=NOW)
    assert [crm.count(o) for o in (ObjectType.ACCOUNT, ObjectType.OPPORTUNITY, ObjectType.TASK)] == [300, 1000, 3000]
    assert crm.count(ObjectType.OWNER) == 17
    deal = next(crm.iter_changed(ObjectType.OPPORTUNITY, None))
    assert isinstance(deal, Opportunity) and deal.account_id and deal.account_id.startswith("acc-")


def _last_completed(crm: LocalCRM) -> dict[str, datetime]:
    latest: dict[str, datetime] = {}
    for task in _all(crm, ObjectType.TASK):
        for about in (task.what_id, task.who_id):
            if about and task.completed_at and task.completed_at > latest.get(about, task.completed_at - timedelta(1)):
                latest[about] = task.completed_at
    return latest
