from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import connectors.hubspot._read as hubspot_read
from domain.connector import Connector
from domain.records import ObjectType, TaskPriority, TaskStatus, TaskType
from tests.connectors.hubspot_fixtures import connect, hubspot
from tests.servers.hubspot.portal import iso
from tests.servers.hubspot.seed import START_MS, seed

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def test_the_connector_has_the_shape_of_a_connector() -> None:
    """HubSpotConnector satisfies domain.connector.Connector, so jobs can use it like any CRM."""
    with hubspot() as (server, clock):
        assert isinstance(connect(server, clock), Connector)


def test_first_sync_pages_through_every_company_100_at_a_time() -> None:
    """250 companies come back complete from three list pages."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 250, deals_per=0, tasks_per=0)
        accounts = list(connect(server, clock).iter_changed(ObjectType.ACCOUNT, None))
        assert [a.id for a in accounts] == seeded.companies
        assert server.requests("GET /crm/v3/objects/companies") == 3
        assert (accounts[0].name, accounts[0].website, accounts[0].billing_city) == (
            "Company 0", "c0.example.com", "Austin")


def test_deal_maps_stage_label_entered_date_amount_and_company() -> None:
    """A deal reads back with its stage label, stage-entered date, amount, close date and company."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 1, tasks_per=0)
        (deal,) = connect(server, clock).iter_changed(ObjectType.OPPORTUNITY, None)
        assert (deal.stage, deal.pipeline, deal.amount, deal.close_date) == (
            "Discovery", "Sales Pipeline", 1000.0, date(2026, 4, 1))
        assert deal.stage_changed_at == datetime(2026, 1, 1, tzinfo=UTC)
        assert (deal.account_id, deal.owner_id, deal.is_closed) == (seeded.companies[0], "32900489", False)


def test_stage_entered_date_falls_back_to_last_modified() -> None:
    """A deal without hs_date_entered_<stage> uses its last modification date."""
    with hubspot() as (server, clock):
        deal = server.portal.create("deals", {"dealname": "Old", "dealstage": "closedwon", "pipeline": "default"})
        (read,) = connect(server, clock).iter_changed(ObjectType.OPPORTUNITY, None)
        assert read.stage_changed_at == read.updated_at
        assert (read.stage, read.is_closed, read.is_won, read.id) == ("Closed Won", True, True, deal.id)


def test_task_maps_hubspot_task_properties_and_associations() -> None:
    """A task reads back with subject, due date, status, priority, type and the deal it is about."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 1)
        (task,) = connect(server, clock).iter_changed(ObjectType.TASK, None)
        assert (task.subject, task.due_date, task.status) == ("Call 0.0.0", date(2026, 1, 8), TaskStatus.OPEN)
        assert (task.priority, task.task_type, task.what_id) == (TaskPriority.HIGH, TaskType.CALL, seeded.deals[0])


def test_logged_calls_read_as_completed_call_tasks() -> None:
    """A call logged on a company comes back as a completed call task about that company."""
    with hubspot() as (server, clock):
        company = seed(server.portal, 1, deals_per=0).companies[0]
        call = server.portal.create("calls", {"hs_call_title": "Quarterly check-in", "hs_call_status": "COMPLETED",
                                              "hs_timestamp": iso(START_MS), "hubspot_owner_id": "32900490"})
        server.portal.associate("calls", call.id, "companies", company)
        tasks = list(connect(server, clock).iter_changed(ObjectType.TASK, None))
        assert [(t.id, t.subject, t.status, t.task_type, t.what_id) for t in tasks] == [
            (call.id, "Quarterly check-in", TaskStatus.COMPLETED, TaskType.CALL, company)]
        assert tasks[0].completed_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_contacts_know_their_company_and_leads_are_contacts_in_lead_stages() -> None:
    """Contacts carry their company; leads are the contacts whose lifecycle stage is a lead stage."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 2, deals_per=0, contacts_per=2)
        connector = connect(server, clock)
        contacts = list(connector.iter_changed(ObjectType.CONTACT, None))
        assert [c.account_id for c in contacts] == [seeded.companies[0]] * 2 + [seeded.companies[1]] * 2
        leads = list(connector.iter_changed(ObjectType.LEAD, None))
        assert [lead.id for lead in leads] == [seeded.contacts[1], seeded.contacts[3]]


def test_a_contact_that_leaves_the_lead_stages_comes_back_as_a_deleted_lead() -> None:
    """After a lead becomes a customer, the next incremental lead sync tells the mirror to forget it."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 1, deals_per=0, contacts_per=2)
        server.portal.update("contacts", seeded.contacts[1], {"lifecyclestage": "customer"})
        leads = list(connect(server, clock).iter_changed(ObjectType.LEAD, LONG_AGO))
        assert [(lead.id, lead.deleted) for lead in leads] == [(seeded.contacts[0], True), (seeded.contacts[1], True)]


def test_leads_object_is_read_when_the_portal_uses_it() -> None:
    """With leads="leads_object" leads come from HubSpot's Leads object with their pipeline stage."""
    with hubspot() as (server, clock):
        server.portal.create("leads", {"hs_lead_name": "Kim Park", "hs_pipeline_stage": "new-stage-id"})
        (lead,) = connect(server, clock, leads="leads_object").iter_changed(ObjectType.LEAD, None)
        assert (lead.name, lead.status) == ("Kim Park", "new-stage-id")


def test_owners_have_no_manager_and_archived_owners_are_inactive() -> None:
    """Owners come from /crm/v3/owners; managers are left to the policy's teams."""
    with hubspot() as (server, clock):
        server.portal.owners.append({"id": "9", "email": "old@example.com", "firstName": "Old", "lastName": "Timer",
                                     "userId": 9, "archived": True, "teams": []})
        owners = {o.id: o for o in connect(server, clock).owners()}
        assert {o.manager_id for o in owners.values()} == {None}
        assert (owners["32900489"].name, owners["9"].active) == ("Ann Archer", False)


def test_custom_properties_land_in_extra() -> None:
    """A custom property named in the mapping reads into the record's extra."""
    with hubspot() as (server, clock):
        server.portal.custom["deals"].add("bant_budget_hs")
        server.portal.create("deals", {"dealname": "D", "bant_budget_hs": "yes"})
        mapping = {ObjectType.OPPORTUNITY: {"bant_budget": "bant_budget_hs"}}
        connector = connect(server, clock, custom_properties=mapping)
        (deal,) = connector.iter_changed(ObjectType.OPPORTUNITY, None)
        assert deal.extra == {"bant_budget": "yes"}


def test_incremental_sync_searches_only_what_changed() -> None:
    """After a watermark only the changed company comes back, through one search call."""
    with hubspot(clock_ms=lambda: START_MS) as (server, clock):
        seeded = seed(server.portal, 30, deals_per=0, tasks_per=0)
        server.portal.clock_ms = lambda: START_MS + 60_000
        server.portal.update("companies", seeded.companies[7], {"name": "Renamed"})
        changed = list(connect(server, clock).iter_changed(ObjectType.ACCOUNT, datetime(2026, 1, 1, 0, 0, 30,
                                                                                          tzinfo=UTC)))
        assert [(a.id, a.name) for a in changed] == [(seeded.companies[7], "Renamed")]
        assert server.requests("POST /crm/v3/objects/companies/search") == 1


def test_search_rewindows_at_the_result_cap_without_losing_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """More changed records than one query may page through all come back, each once, oldest first."""
    monkeypatch.setattr(hubspot_read, "SEARCH_CAP", 400)
    with hubspot(search_cap=400) as (server, clock):
        seeded = seed(server.portal, 1000, deals_per=0, tasks_per=0)
        changed = list(connect(server, clock).iter_changed(ObjectType.ACCOUNT, LONG_AGO))
        assert [a.id for a in changed] == seeded.companies
        assert server.requests("POST /crm/v3/objects/companies/search") >= 5


def test_archived_and_merged_away_records_come_back_deleted() -> None:
    """An archived deal and a merged-away company are reported deleted so the mirror forgets them."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 3, tasks_per=0)
        server.portal.archive("deals", seeded.deals[0])
        server.portal.merge("companies", seeded.companies[0], seeded.companies[1])
        connector = connect(server, clock)
        deals = {d.id: d.deleted for d in connector.iter_changed(ObjectType.OPPORTUNITY, LONG_AGO)}
        assert deals == {seeded.deals[1]: False, seeded.deals[2]: False, seeded.deals[0]: True}
        accounts = {a.id: a.deleted for a in connector.iter_changed(ObjectType.ACCOUNT, LONG_AGO)}
        assert accounts == {seeded.companies[2]: False, seeded.companies[0]: False, seeded.companies[1]: True}


def test_datetimes_are_aware_utc() -> None:
    """Created and updated times come back timezone-aware in UTC."""
    with hubspot(clock_ms=lambda: START_MS) as (server, clock):
        seed(server.portal, 1, deals_per=0)
        (account,) = connect(server, clock).iter_changed(ObjectType.ACCOUNT, None)
        assert account.created_at == account.updated_at == datetime(2026, 1, 1, tzinfo=UTC)
        assert iso(START_MS) == "2026-01-01T00:00:00.000Z"


def test_stage_history_comes_from_hs_date_entered_without_more_calls() -> None:
    """Each stage a deal entered (hs_date_entered_<stage>) is offered as its history, oldest first, once."""
    with hubspot() as (server, clock):
        deal = server.portal.create("deals", {
            "dealname": "Moving", "dealstage": "qualifiedtobuy", "pipeline": "default",
            "hs_date_entered_appointmentscheduled": "2026-01-01T00:00:00Z",
            "hs_date_entered_qualifiedtobuy": "2026-01-09T12:00:00Z"})
        crm = connect(server, clock)
        list(crm.iter_changed(ObjectType.OPPORTUNITY, None))
        calls = crm.usage.total
        history = list(crm.iter_stage_history(ObjectType.OPPORTUNITY, None))

        assert [(c.record_id, c.stage, c.entered_at) for c in history] == [
            (deal.id, "Discovery", datetime(2026, 1, 1, tzinfo=UTC)),
            (deal.id, "First Demo", datetime(2026, 1, 9, 12, tzinfo=UTC))]
        assert crm.usage.total == calls
        assert list(crm.iter_stage_history(ObjectType.OPPORTUNITY, None)) == []
