from __future__ import annotations

from datetime import date

from domain.connector import NewTask, RecordUpdate
from domain.records import ObjectType, TaskPriority, TaskType
from tests.connectors.hubspot_fixtures import connect, hubspot
from tests.servers.hubspot.seed import seed

BATCH_UPDATE = "POST /crm/v3/objects/companies/batch/update"


def _reassign(ids: list[str], owner: str = "32900490") -> list[RecordUpdate]:
    return [RecordUpdate(f"k-{i}", ObjectType.ACCOUNT, i, {"owner_id": owner}) for i in ids]


def test_updates_go_100_per_call_and_all_land() -> None:
    """250 reassignments cost three batch calls and every company gets its new owner."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 250, deals_per=0, tasks_per=0)
        results = connect(server, clock).update(_reassign(seeded.companies))
        assert all(r.ok for r in results) and [r.key for r in results] == [f"k-{i}" for i in seeded.companies]
        assert server.requests(BATCH_UPDATE) == 3
        owners = {o.properties["hubspot_owner_id"] for o in server.portal.objects["companies"].values()}
        assert owners == {"32900490"}


def test_partial_failure_names_each_refused_record() -> None:
    """A 207 answer fails only the refused and missing records, each error naming its record."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 3, deals_per=0, tasks_per=0)
        server.portal.refused[seeded.companies[1]] = "Owner 32900490 cannot own this company"
        results = connect(server, clock).update(_reassign([*seeded.companies, "999"]))
        assert [r.ok for r in results] == [True, False, True, False]
        assert results[1].error == f"VALIDATION_ERROR on {seeded.companies[1]}: Owner 32900490 cannot own this company"
        assert results[3].error is not None and results[3].error.startswith("OBJECT_NOT_FOUND on 999")


def test_a_batch_refused_whole_is_split_until_the_bad_record_is_found() -> None:
    """One bad value in a batch of eight fails that record alone; the other seven are applied."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 8, tasks_per=0)
        updates = [RecordUpdate(f"k{n}", ObjectType.OPPORTUNITY, d, {"amount": 5}) for n, d in enumerate(seeded.deals)]
        updates[5] = RecordUpdate("bad", ObjectType.OPPORTUNITY, seeded.deals[5], {"stage": "Closed Won"})
        server.portal.refused.clear()
        original = server.portal.check_properties

        def refuse_closed_won(kind: str, props: dict[str, object]) -> None:
            if props.get("dealstage") == "closedwon":
                from tests.servers.hubspot.portal import PortalError

                raise PortalError(400, "VALIDATION_ERROR", "closedwon needs an amount above 10")
            original(kind, props)

        server.portal.check_properties = refuse_closed_won  # type: ignore[method-assign]
        results = connect(server, clock).update(updates)
        assert [r.ok for r in results] == [True] * 5 + [False] + [True] * 2
        assert results[5].error is not None and "closedwon needs an amount" in results[5].error
        assert seeded.deals[5] in results[5].error


def test_stage_labels_probability_and_dates_are_written_in_hubspot_terms() -> None:
    """Stage labels become stage ids, percents become fractions, dates become midnight UTC."""
    with hubspot() as (server, clock):
        deal = seed(server.portal, 1, tasks_per=0).deals[0]
        fields = {"stage": "Closed Lost", "probability": 25, "close_date": date(2026, 5, 1)}
        (result,) = connect(server, clock).update([RecordUpdate("k", ObjectType.OPPORTUNITY, deal, fields)])
        props = server.portal.objects["deals"][deal].properties
        assert result.ok
        assert (props["dealstage"], props["hs_deal_stage_probability"], props["closedate"]) == (
            "closedlost", "0.25", "2026-05-01T00:00:00.000Z")


def test_unknown_field_fails_with_a_fix_and_costs_no_call() -> None:
    """A field the connector cannot map is refused by name, pointing at the custom property mapping."""
    with hubspot() as (server, clock):
        deal = seed(server.portal, 1, tasks_per=0).deals[0]
        (result,) = connect(server, clock).update([RecordUpdate("k", ObjectType.OPPORTUNITY, deal, {"bant": 1})])
        assert not result.ok and result.error is not None
        assert "'bant'" in result.error and "custom properties" in result.error
        assert server.requests("POST /crm/v3/objects/deals/batch/update") == 0


def test_two_updates_of_one_record_go_in_separate_batches() -> None:
    """HubSpot refuses duplicate ids in a batch, so a second update of a record goes in the next call."""
    with hubspot() as (server, clock):
        company = seed(server.portal, 1, deals_per=0, tasks_per=0).companies[0]
        results = connect(server, clock).update([
            RecordUpdate("a", ObjectType.ACCOUNT, company, {"owner_id": "32900490"}),
            RecordUpdate("b", ObjectType.ACCOUNT, company, {"phone": "555"})])
        assert [r.ok for r in results] == [True, True]
        assert server.portal.objects["companies"][company].properties["phone"] == "555"


def _task(key: str, what: str | None = None, who: str | None = None) -> NewTask:
    return NewTask(key, f"Follow up {key}", "32900489", date(2026, 3, 3), TaskType.CALL, TaskPriority.HIGH,
                   "Nobody acted in time", what_id=what, who_id=who)


def test_created_tasks_carry_their_fields_key_and_associations() -> None:
    """A task is created with HubSpot's task properties, its key, and links to its deal and contact."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 1, tasks_per=0, contacts_per=1)
        (result,) = connect(server, clock).create_tasks([_task("sla:1", seeded.deals[0], seeded.contacts[0])])
        created = server.portal.objects["tasks"][str(result.record_id)]
        assert result.ok
        assert {k: created.properties[k] for k in ("hs_task_subject", "hs_task_priority", "hs_task_type",
                                                   "hs_timestamp", "warden_key")} == {
            "hs_task_subject": "Follow up sla:1", "hs_task_priority": "HIGH", "hs_task_type": "CALL",
            "hs_timestamp": "2026-03-03T00:00:00.000Z", "warden_key": "sla:1"}
        assert set(server.portal.associations("tasks", created.id, "deals")) == {seeded.deals[0]}
        assert set(server.portal.associations("tasks", created.id, "contacts")) == {seeded.contacts[0]}


def test_task_on_a_company_links_to_the_company() -> None:
    """A task whose what_id is a company is associated with that company."""
    with hubspot() as (server, clock):
        company = seed(server.portal, 1, deals_per=0).companies[0]
        (result,) = connect(server, clock).create_tasks([_task("cad:1", company)])
        assert set(server.portal.associations("tasks", str(result.record_id), "companies")) == {company}


def test_rerun_finds_existing_tasks_instead_of_creating_them_again() -> None:
    """Creating 150 tasks twice leaves 150 tasks, and the second run returns the first run's ids."""
    with hubspot() as (server, clock):
        connector = connect(server, clock)
        tasks = [_task(f"k{n}") for n in range(150)]
        first = connector.create_tasks(tasks)
        second = connector.create_tasks(tasks)
        assert [r.record_id for r in first] == [r.record_id for r in second]
        assert all(r.ok for r in first + second) and len(server.portal.objects["tasks"]) == 150
        assert server.requests("POST /crm/v3/objects/tasks/batch/create") == 2


def test_missing_key_property_is_reported_with_its_fix() -> None:
    """Without the key property in the portal, task creation fails naming the property."""
    with hubspot() as (server, clock):
        server.portal.custom["tasks"].clear()
        (result,) = connect(server, clock).create_tasks([_task("k")])
        assert not result.ok and result.error is not None and "warden_key" in result.error


def test_closing_a_deal_goes_through_its_stage() -> None:
    """is_closed agreeing with the new stage is implied by it; contradicting it is refused by name."""
    with hubspot() as (server, clock):
        deals = seed(server.portal, 2, tasks_per=0).deals
        results = connect(server, clock).update([
            RecordUpdate("close", ObjectType.OPPORTUNITY, deals[0], {"stage": "Closed Lost", "is_closed": True}),
            RecordUpdate("odd", ObjectType.OPPORTUNITY, deals[1], {"stage": "First Demo", "is_closed": True})])
        assert [r.ok for r in results] == [True, False]
        assert server.portal.objects["deals"][deals[0]].properties["dealstage"] == "closedlost"
        assert results[1].error is not None and "is_closed" in results[1].error and "First Demo" in results[1].error
