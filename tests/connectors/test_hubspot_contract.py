"""The connector contract run against the HubSpot connector and the local HubSpot server.

The contract's org is loaded into the portal with its ids. Where HubSpot itself behaves differently
from the contract's defaults, the test is overridden below with HubSpot's real behaviour and the
difference named in its docstring.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.hubspot import HubSpotConnector, HubSpotSettings
from connectors.hubspot._mapping import epoch_ms, format_date
from domain.connector import NewTask, RecordUpdate
from domain.records import Account, Contact, Lead, Note, ObjectType, Opportunity, Owner, Record, Task
from tests.connectors.contract import (
    CONTRACT_START,
    EPOCH,
    ConnectorContract,
    ContractCRM,
    FakeClock,
    _by_id,
    known_org,
)
from tests.connectors.hubspot_fixtures import SecondsClock
from tests.servers.hubspot.portal import Portal, iso
from tests.servers.hubspot.seed import STAGES, setup_portal
from tests.servers.hubspot.server import HubSpotServer

CUSTOM = {ObjectType.ACCOUNT: {"tier": "tier"}, ObjectType.LEAD: {"bant_budget": "bant_budget"},
          ObjectType.OPPORTUNITY: {"bant_budget": "bant_budget"}}
STAGE_IDS = {label: stage_id for stage_id, label, _, _ in STAGES}
TASK_STATUS = {"open": "NOT_STARTED", "completed": "COMPLETED"}
PRIORITY = {"low": "LOW", "normal": "MEDIUM", "high": "HIGH"}


def _ms(when: datetime) -> int:
    return epoch_ms(when)


def _names(name: str) -> dict[str, str]:
    first, _, last = name.partition(" ")
    return {"firstname": first, "lastname": last}


def _as_hubspot(record: Record) -> tuple[str, dict[str, Any], list[tuple[str, str]]]:
    """The HubSpot object type, properties and associations of one contract record."""
    owner = {"hubspot_owner_id": getattr(record, "owner_id", None)}
    kind_of = {"acc": "companies", "opp": "deals", "con": "contacts", "lead": "contacts"}
    if isinstance(record, Account):
        return "companies", {**owner, "name": record.name, "domain": record.website, "type": record.account_type,
                             **record.extra}, []
    if isinstance(record, Contact):
        return "contacts", {**owner, **_names(record.name), "lifecyclestage": "customer"}, [
            ("companies", record.account_id or "")]
    if isinstance(record, Lead):
        return "contacts", {**owner, **_names(record.name), "company": record.company, "lifecyclestage": "lead",
                            "hs_lead_status": record.status, **record.extra}, []
    if isinstance(record, Opportunity):
        return "deals", {**owner, "dealname": record.name, "dealstage": STAGE_IDS[record.stage or ""],
                         "pipeline": "default", "amount": record.amount, **record.extra,
                         "closedate": format_date(record.close_date) if record.close_date else None}, [
            ("companies", record.account_id or "")]
    if isinstance(record, Task):
        links = [(kind_of[i.split("-")[0]], i) for i in (record.what_id, record.who_id) if i]
        return "tasks", {**owner, "hs_task_subject": record.subject, "hs_task_status": TASK_STATUS[record.status],
                         "hs_task_type": record.task_type.upper(), "hs_task_priority": PRIORITY[record.priority],
                         "hs_timestamp": format_date(record.due_date) if record.due_date else None,
                         "hs_task_completion_date": iso(_ms(record.completed_at)) if record.completed_at else None,
                         }, links
    assert isinstance(record, Note)
    return "notes", {"hs_note_body": record.body}, [("companies", record.parent_id)]


def load(portal: Portal, records: list[Record]) -> None:
    """Put the contract's org in the portal with its ids, times and associations."""
    setup_portal(portal)
    portal.owners = [{"id": o.id, "email": o.email, "firstName": o.name.split()[0], "lastName": o.name.split()[-1],
                      "userId": 1, "archived": not o.active, "teams": []}
                     for o in records if isinstance(o, Owner) and not o.is_queue]
    for kind, names in (("companies", ["tier"]), ("contacts", ["bant_budget"]), ("deals", ["bant_budget"])):
        portal.custom[kind].update(names)
    for record in records:
        if isinstance(record, Owner):
            continue
        kind, props, links = _as_hubspot(record)
        obj = portal.create(kind, {k: v for k, v in props.items() if v is not None}, _ms(record.created_at),
                            record.id)
        obj.updated_ms = _ms(record.updated_at)
        obj.properties["lastmodifieddate" if kind == "contacts" else "hs_lastmodifieddate"] = iso(obj.updated_ms)
        for to_kind, to_id in links:
            portal.associate(kind, record.id, to_kind, to_id)


class TestHubSpotContract(ConnectorContract):
    @pytest.fixture
    def crm(self) -> Iterator[ContractCRM]:
        clock = FakeClock(CONTRACT_START)
        portal = Portal(clock_ms=lambda: _ms(clock()))
        load(portal, known_org(CONTRACT_START))
        seconds = SecondsClock()
        with HubSpotServer(portal, clock=seconds) as server:
            settings = HubSpotSettings(access_token=SecretStr("test-token"), api_base=server.url)
            connector = HubSpotConnector.from_settings(settings, clock=seconds, sleep=seconds.sleep,
                                                       custom_properties=CUSTOM)
            yield ContractCRM(connector, clock, page_size=100, batch_size=100, losers_per_merge_call=1)

    def test_iter_changed_counts_one_read_per_page(self, crm: ContractCRM) -> None:
        """As the contract, plus one list read for logged calls, which HubSpot keeps apart from tasks."""
        before = crm.connector.usage.calls.get("read", 0)
        tasks = list(crm.connector.iter_changed(ObjectType.TASK, None))
        assert crm.connector.usage.calls["read"] - before == math.ceil(len(tasks) / crm.page_size) + 1

    def test_batch_update_fails_only_the_bad_records(self, crm: ContractCRM) -> None:
        """As the contract, with HubSpot's words: OBJECT_NOT_FOUND, INVALID_OWNER_ID, an unmapped field."""
        results = crm.connector.update([
            RecordUpdate("ok-1", ObjectType.OPPORTUNITY, "opp-1", {"amount": 2500.0}),
            RecordUpdate("gone", ObjectType.OPPORTUNITY, "opp-404", {"amount": 1.0}),
            RecordUpdate("owner", ObjectType.OPPORTUNITY, "opp-2", {"owner_id": "usr-old"}),
            RecordUpdate("field", ObjectType.OPPORTUNITY, "opp-2", {"no_such_field": 1}),
            RecordUpdate("ok-2", ObjectType.OPPORTUNITY, "opp-2", {"bant_budget": "approved"}),
        ])
        assert [r.ok for r in results] == [True, False, False, False, True]
        assert str(results[1].error).startswith("OBJECT_NOT_FOUND on opp-404")
        assert "opp-2" in str(results[2].error) and "INVALID_OWNER_ID" in str(results[2].error)
        assert "no_such_field" in str(results[3].error)
        opps = _by_id(crm.connector, ObjectType.OPPORTUNITY)
        assert opps["opp-1"].amount == 2500.0
        assert (opps["opp-2"].owner_id, opps["opp-2"].extra["bant_budget"]) == ("usr-ann", "approved")

    def test_update_counts_one_write_per_batch(self, crm: ContractCRM) -> None:
        """As the contract, reassigning to a user: HubSpot has no queues that could own a company."""
        before = crm.connector.usage.calls.get("write", 0)
        updates = [RecordUpdate(f"k-{i}", ObjectType.ACCOUNT, i, {"owner_id": "usr-bob"}) for i in ("acc-1", "acc-2")]
        assert all(r.ok for r in crm.connector.update(updates))
        assert crm.connector.usage.calls["write"] - before == 1

    def test_stage_and_status_changes_are_stamped(self, crm: ContractCRM) -> None:
        """HubSpot stamps hs_date_entered_<stage>; contacts keep no lead-status change date, so it stays None."""
        now = crm.clock.advance(timedelta(hours=1))
        crm.connector.update([RecordUpdate("s", ObjectType.OPPORTUNITY, "opp-1", {"stage": "First Demo"}),
                              RecordUpdate("l", ObjectType.LEAD, "lead-1", {"status": "Working"})])
        lead = _by_id(crm.connector, ObjectType.LEAD)["lead-1"]
        assert _by_id(crm.connector, ObjectType.OPPORTUNITY)["opp-1"].stage_changed_at == now
        assert (lead.status, lead.status_changed_at) == ("Working", None)

    def test_create_task_with_inactive_owner_fails_alone(self, crm: ContractCRM) -> None:
        """As the contract, with HubSpot's INVALID_OWNER_ID for the deactivated owner."""
        results = crm.connector.create_tasks([NewTask("bad", "Call", "usr-old", date(2026, 3, 3)),
                                              NewTask("good", "Call", "usr-bob", date(2026, 3, 3))])
        assert [r.ok for r in results] == [False, True]
        assert "INVALID_OWNER_ID" in str(results[0].error)

    def test_owners_lists_users_and_queues_in_one_read(self, crm: ContractCRM) -> None:
        """HubSpot has no queues, and lists active and archived owners in two reads."""
        before = crm.connector.usage.calls.get("read", 0)
        owners = {o.id: o for o in crm.connector.owners()}
        assert set(owners) == {"usr-ann", "usr-bob", "usr-old"} and not owners["usr-old"].active
        assert crm.connector.usage.calls["read"] - before == 2

    def test_fetch_gives_records_by_id_as_a_read_does(self, crm: ContractCRM) -> None:
        """As the contract, plus one read of the deals' companies: a batch read carries no associations."""
        wanted = ["opp-1", "opp-2", "opp-404"]
        assert isinstance(crm.connector, HubSpotConnector) and crm.connector.catalog  # deal stages: read once
        before = crm.connector.usage.calls.get("read", 0)
        found = crm.connector.fetch(ObjectType.OPPORTUNITY, wanted)
        assert crm.connector.usage.calls["read"] - before == 2
        assert found == {i: r for i, r in _by_id(crm.connector, ObjectType.OPPORTUNITY).items() if i in wanted}

    def test_merge_moves_children_and_deletes_losers(self, crm: ContractCRM) -> None:
        """As the contract, except HubSpot has no partner field on deals and does not re-date moved children."""
        mark = crm.clock.advance(timedelta(minutes=1))
        result = crm.connector.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2", "acc-3"])
        assert result.ok and set(result.merged_ids) == {"acc-2", "acc-3"}
        contacts = _by_id(crm.connector, ObjectType.CONTACT)
        assert {contacts[c].account_id for c in ("con-1", "con-2", "con-3")} == {"acc-1"}
        assert _by_id(crm.connector, ObjectType.OPPORTUNITY)["opp-1"].account_id == "acc-1"
        assert _by_id(crm.connector, ObjectType.TASK)["tsk-1"].what_id == "acc-1"
        assert _by_id(crm.connector, ObjectType.NOTE)["note-1"].parent_id == "acc-1"
        changed = {a.id: a.deleted for a in crm.connector.iter_changed(ObjectType.ACCOUNT, mark)}
        assert changed == {"acc-1": False, "acc-2": True, "acc-3": True}

    def test_merged_away_record_refuses_updates(self, crm: ContractCRM) -> None:
        """Updating a merged-away company fails with HubSpot's OBJECT_NOT_FOUND naming it."""
        crm.connector.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2"])
        (result,) = crm.connector.update([RecordUpdate("k", ObjectType.ACCOUNT, "acc-2", {"name": "x"})])
        assert not result.ok and str(result.error).startswith("OBJECT_NOT_FOUND on acc-2")

    def test_merging_opportunities_is_refused(self, crm: ContractCRM) -> None:
        """HubSpot merges go through the connector for companies and contacts only; the result says so."""
        result = crm.connector.merge(ObjectType.OPPORTUNITY, "opp-1", ["opp-2"])
        assert not result.ok and "companies and contacts only" in str(result.error)

    def test_restore_undoes_a_merge_exactly(self, crm: ContractCRM) -> None:
        """As the contract, except HubSpot re-creates merged-away companies under new ids."""
        before = _state(crm.connector)
        snapshots = crm.connector.snapshot(ObjectType.ACCOUNT, ["acc-1", "acc-2", "acc-3"])
        crm.clock.advance(timedelta(minutes=1))
        assert crm.connector.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2", "acc-3"]).ok
        crm.clock.advance(timedelta(minutes=1))
        crm.connector.restore(snapshots)
        assert _state(crm.connector) == before

    def test_snapshot_holds_the_children_a_merge_moves(self, crm: ContractCRM) -> None:
        """A company's snapshot lists its contacts, deals, tasks and notes (HubSpot deals have no partner)."""
        (snap,) = crm.connector.snapshot(ObjectType.ACCOUNT, ["acc-3"])
        child_ids = {kind: {c["id"] for c in rows} for kind, rows in snap.children.items() if rows}
        assert child_ids == {"contact": {"con-2"}, "note": {"note-1"}}


def _state(connector: HubSpotConnector) -> dict[str, Record]:
    """Every record, updated_at blanked, re-created companies known by their old ids (through their names)."""
    accounts = {a.id: a for a in connector.iter_changed(ObjectType.ACCOUNT, None)}
    old_id = {a.name: a.id for a in known_org(CONTRACT_START) if isinstance(a, Account)}
    renamed = {new: old_id[a.name] for new, a in accounts.items()}
    state: dict[str, Record] = {}
    for obj in ObjectType:
        for record in connector.iter_changed(obj, None):
            links = {f: renamed.get(getattr(record, f), getattr(record, f)) for f in ("account_id", "what_id",
                     "parent_id") if hasattr(record, f)}
            record = replace(record, **links, updated_at=EPOCH)  # type: ignore[arg-type]
            state[f"{obj.value}:{renamed.get(record.id, record.id)}"] = (
                replace(record, id=renamed[record.id], created_at=EPOCH) if obj is ObjectType.ACCOUNT else record)
    return state
