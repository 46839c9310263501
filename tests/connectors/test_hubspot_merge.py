from __future__ import annotations

from typing import Any

import pytest

from domain.records import ObjectType
from tests.connectors.hubspot_fixtures import connect, hubspot
from tests.servers.hubspot.portal import READ_ONLY, Portal
from tests.servers.hubspot.seed import Seeded, seed
from tests.servers.hubspot.server import Fault

CHILDREN = ("contacts", "deals", "tasks", "notes")


def _cluster(portal: Portal) -> Seeded:
    """Three "Acme" companies with children, one contact shared by the first two, and a bystander."""
    seeded = seed(portal, 4, contacts_per=2, notes_per=1)
    for n, name in enumerate(["Acme Products", "Acme Products, Inc.", "Acme Products, Incorporated"]):
        portal.update("companies", seeded.companies[n], {"name": name, "phone": None if n == 0 else f"555-{n}"})
    portal.associate("contacts", seeded.contacts[2], "companies", seeded.companies[0], {1, 279})
    return seeded


def _picture(portal: Portal) -> list[tuple[Any, ...]]:
    """Every live company as (writable properties, its children with association types), by name."""
    view = []
    for company in portal.objects["companies"].values():
        props = tuple(sorted((k, v) for k, v in company.properties.items() if k not in READ_ONLY and v is not None))
        links = tuple((kind, tuple(sorted((i, tuple(sorted(t))) for i, t in portal.associations(
            "companies", company.id, kind).items()))) for kind in CHILDREN)
        view.append((props, links))
    return sorted(view)


def _child_picture(portal: Portal) -> dict[str, list[str]]:
    """Each child's companies, by company name, seen from the child's side."""
    names = {c.id: c.properties["name"] for c in portal.objects["companies"].values()}
    return {child.id: sorted(str(names[i]) for i in portal.associations(kind, child.id, "companies"))
            for kind in CHILDREN for child in portal.objects[kind].values()}


@pytest.mark.parametrize("new_id", [False, True], ids=["same-id", "survivor-gets-new-id"])
def test_merge_then_restore_leaves_every_property_and_association_as_before(new_id: bool) -> None:
    """Snapshot, chained merge and restore put back every company property and every association."""
    with hubspot(merge_gives_new_id=new_id) as (server, clock):
        seeded = _cluster(server.portal)
        before, children_before = _picture(server.portal), _child_picture(server.portal)
        connector = connect(server, clock)
        cluster = seeded.companies[:3]
        snapshots = connector.snapshot(ObjectType.ACCOUNT, cluster)
        result = connector.merge(ObjectType.ACCOUNT, cluster[0], cluster[1:])
        assert result.ok and result.merged_ids == tuple(cluster[1:])
        assert (result.master_id == cluster[0]) is not new_id
        assert len(server.portal.objects["companies"]) == 2
        connector.restore(snapshots)
        assert _picture(server.portal) == before
        assert _child_picture(server.portal) == children_before


def test_merge_moves_children_to_the_survivor_one_pair_per_call() -> None:
    """A three-company cluster costs two merge calls and leaves every child on the survivor."""
    with hubspot() as (server, clock):
        seeded = _cluster(server.portal)
        connector = connect(server, clock)
        result = connector.merge(ObjectType.ACCOUNT, seeded.companies[0], seeded.companies[1:3])
        assert connector.usage.calls["merge"] == 2
        assert len(server.portal.associations("companies", result.master_id, "deals")) == 3
        survivor = server.portal.objects["companies"][result.master_id].properties
        assert (survivor["name"], survivor["phone"]) == ("Acme Products", "555-1")


def test_snapshot_holds_properties_and_children_by_record_type() -> None:
    """A company's snapshot has all its properties and its contacts, deals, tasks and notes."""
    with hubspot() as (server, clock):
        seeded = _cluster(server.portal)
        (snap,) = connect(server, clock).snapshot(ObjectType.ACCOUNT, [seeded.companies[1]])
        assert snap.data["name"] == "Acme Products, Inc."
        children = {kind: {c["id"] for c in rows} for kind, rows in snap.children.items()}
        assert children == {"contact": set(seeded.contacts[2:4]), "opportunity": {seeded.deals[1]},
                            "task": {seeded.tasks[1]}, "note": {seeded.notes[1]}}


def test_salesforce_sync_refuses_the_merge_with_a_plain_reason_and_the_run_goes_on() -> None:
    """With Salesforce sync on, the cluster's result says to merge in Salesforce and nothing changes."""
    with hubspot(salesforce_sync_on=True) as (server, clock):
        seeded = _cluster(server.portal)
        before = _picture(server.portal)
        result = connect(server, clock).merge(ObjectType.ACCOUNT, seeded.companies[0], seeded.companies[1:3])
        assert not result.ok and result.merged_ids == ()
        assert result.error is not None and "merge these accounts in Salesforce" in result.error
        assert seeded.companies[1] in result.error
        assert _picture(server.portal) == before


def test_a_lost_merge_answer_is_recognised_as_done() -> None:
    """When the merge happened but its answer was lost, the result still reports it done, once."""
    with hubspot() as (server, clock):
        seeded = _cluster(server.portal)
        server.state.faults.append(Fault("/companies/merge", "drop_after"))
        result = connect(server, clock).merge(ObjectType.ACCOUNT, seeded.companies[0], [seeded.companies[1]])
        assert (result.ok, result.master_id, result.merged_ids) == (True, seeded.companies[0], (seeded.companies[1],))
        assert server.requests("POST /crm/v3/objects/companies/merge") == 1


def test_merging_deals_is_refused_by_name() -> None:
    """Only companies and contacts merge through the HubSpot connector; other types are refused plainly."""
    with hubspot() as (server, clock):
        result = connect(server, clock).merge(ObjectType.OPPORTUNITY, "1", ["2"])
        assert not result.ok and result.error is not None and "companies and contacts only" in result.error
        assert server.requests() == 0
