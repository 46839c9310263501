"""Contacts and leads: plan -> apply -> undo through the Salesforce and HubSpot connectors against their servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.salesforce import SalesforceConnector
from domain.plan import ActionStatus
from domain.records import ObjectType
from jobs.apply.merges import apply_plan
from jobs.apply.undo import undo
from tests.connectors.hubspot_fixtures import connect, hubspot
from tests.connectors.sf_fixtures import Seeded, connector, fake, seeded, sf_server, sleeps
from tests.connectors.test_salesforce_merge import org_state
from tests.dedupe.merge_support import NOW, ledger_sessions
from tests.dedupe.people_support import people_plan
from tests.servers.hubspot.portal import READ_ONLY, Portal
from tests.servers.hubspot.seed import seed
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["connector", "fake", "seeded", "sf_server", "sleeps"]


def seed_people(fake: FakeSalesforce, seeded: Seeded) -> dict[str, str]:
    """Robert Smith twice at Acme (once as Bob, with a task and a note), and Jo Park twice as a lead."""
    org, rep = fake.org, seeded["rep"]
    ids = {
        "robert": org.add("Contact", Name="Robert Smith", AccountId=seeded["acme"], OwnerId=rep,
                          Email="rsmith@acme.example", Phone="617 555 0100"),
        "bob": org.add("Contact", Name="Bob Smith", AccountId=seeded["acme"], OwnerId=rep,
                       Email="RSmith@acme.example"),
        "jo": org.add("Lead", Name="Jo Park", Company="Hooli", OwnerId=rep, Status="Open",
                      Email="jo.park@hooli.example"),
        "jo2": org.add("Lead", Name="Jo Park", Company="Hooli Inc.", OwnerId=rep, Status="Working",
                       Email="jo.park@hooli.example", Phone="+1 212 555 0199"),
    }
    for who in ("bob", "jo2", "jo2"):
        org.add("Task", Subject="Call", OwnerId=rep, Status="Not Started", IsClosed=False, TaskSubtype="Call",
                Priority="Normal", ActivityDate="2026-05-04", WhoId=ids[who])
    org.add("Note", ParentId=ids["robert"], Title="Old notes", Body="Prefers email")
    ids["role"] = org.add("OpportunityContactRole", OpportunityId=seeded["opp"], ContactId=ids["robert"],
                          Role="Decision Maker", IsPrimary=True)
    return ids


def test_salesforce_contacts_and_leads_merge_through_soap_and_undo_restores_them(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded, tmp_path: Path
) -> None:
    """Each merges into the record with the tasks through SOAP merge, taking its tasks, notes and opportunity
    contact roles; undo undeletes the loser and moves them back."""
    ids = seed_people(fake, seeded)
    for object_type, master, loser in ((ObjectType.CONTACT, "bob", "robert"), (ObjectType.LEAD, "jo2", "jo")):
        sessions = ledger_sessions(tmp_path / f"warden-{object_type.value}.db")
        before = org_state(fake)
        (cluster,) = people_plan(connector, sessions, "salesforce", object_type)
        assert (cluster.master_id, cluster.loser_ids) == (ids[master], (ids[loser],))
        run = apply_plan([cluster], connector, sessions, "salesforce", NOW)
        assert [o.status for o in run.outcomes] == [ActionStatus.APPLIED]
        sobject = "Contact" if object_type is ObjectType.CONTACT else "Lead"
        assert fake.org.tables[sobject][ids[loser]]["MasterRecordId"] == ids[master]
        if object_type is ObjectType.CONTACT:
            assert fake.org.tables["Contact"][ids["bob"]]["Phone"] == "617 555 0100"
            assert {n["ParentId"] for n in fake.org.tables["Note"].values()} >= {ids["bob"]}
            assert fake.org.tables["OpportunityContactRole"][ids["role"]]["ContactId"] == ids["bob"]
        undo(run.run_id, connector, sessions, NOW, apply=True)
        assert org_state(fake) == before


CONTACT_LINKS = ("companies", "deals", "tasks", "notes")


def seed_hubspot_people(portal: Portal) -> dict[str, str]:
    """Robert Smith at work and as Bob at home (one phone), Jo Park twice as a lead; tasks, a deal, a note."""
    seeded = seed(portal, 1, contacts_per=0)
    company, deal = seeded.companies[0], seeded.deals[0]
    made = {name: portal.create("contacts", props).id for name, props in {
        "robert": {"firstname": "Robert", "lastname": "Smith", "email": "rsmith@c0.example.com",
                   "phone": "617 555 0100", "lifecyclestage": "customer"},
        "bob": {"firstname": "Bob", "lastname": "Smith", "email": "bob.smith@gmail.com", "phone": "(617) 555-0100",
                "lifecyclestage": "customer"},
        "jo": {"firstname": "Jo", "lastname": "Park", "email": "jo@hooli.example", "company": "Hooli",
               "phone": "+1 212 555 0199", "lifecyclestage": "lead"},
        "jo2": {"firstname": "Jo", "lastname": "Park", "email": "jpark@gmail.com", "company": "Hooli Inc.",
                "phone": "212-555-0199", "lifecyclestage": "lead"},
    }.items()}
    for who in ("robert", "bob"):
        portal.associate("contacts", made[who], "companies", company, {1, 279})
    portal.associate("contacts", made["bob"], "deals", deal)
    for who, subject in (("robert", "Call"), ("robert", "Email"), ("jo2", "Intro")):
        task = portal.create("tasks", {"hs_task_subject": subject, "hs_task_status": "NOT_STARTED",
                                       "hs_timestamp": "2026-05-04T00:00:00Z"}).id
        portal.associate("tasks", task, "contacts", made[who])
    note = portal.create("notes", {"hs_note_body": "Met at the fair", "hs_timestamp": "2026-05-01T00:00:00Z"}).id
    portal.associate("notes", note, "contacts", made["jo"])
    return made


def contacts_picture(portal: Portal) -> list[tuple[Any, ...]]:
    """Every live contact as (its writable properties, its links with their types), in name order."""
    view = []
    for contact in portal.objects["contacts"].values():
        props = tuple(sorted((k, v) for k, v in contact.properties.items()
                             if k not in READ_ONLY | {"hs_additional_emails"} and v is not None))
        links = tuple((kind, tuple(sorted(tuple(sorted(t)) for t in portal.associations(
            "contacts", contact.id, kind).values()))) for kind in CONTACT_LINKS)
        view.append((props, links))
    return sorted(view)


@pytest.mark.parametrize("new_id", [False, True], ids=["same-id", "survivor-gets-new-id"])
def test_hubspot_contacts_and_contact_leads_merge_and_undo_brings_them_back(new_id: bool, tmp_path: Path) -> None:
    """Bob merges into Robert and the two Jo Park leads merge, through the contacts merge endpoint; the loser's
    email becomes a secondary email; undo re-creates the loser with its email, properties and associations."""
    with hubspot(merge_gives_new_id=new_id) as (server, clock):
        portal = server.portal
        made = seed_hubspot_people(portal)
        crm = connect(server, clock)
        for object_type, master, loser in ((ObjectType.CONTACT, "robert", "bob"), (ObjectType.LEAD, "jo2", "jo")):
            sessions = ledger_sessions(tmp_path / f"warden-{new_id}-{object_type.value}.db")
            before = contacts_picture(portal)
            plan = people_plan(crm, sessions, "hubspot", object_type)  # contact leads are contacts too
            (cluster,) = [c for c in plan if made[master] in c.names]
            assert (cluster.master_id, cluster.loser_ids) == (made[master], (made[loser],))
            run = apply_plan([cluster], crm, sessions, "hubspot", NOW)
            assert [o.status for o in run.outcomes] == [ActionStatus.APPLIED], run.outcomes[0].error
            survivor = portal.resolve("contacts", made[master])
            assert survivor is not None and (survivor.id == made[master]) is not new_id
            loser_email = "bob.smith@gmail.com" if loser == "bob" else "jo@hooli.example"
            assert loser_email in (survivor.properties.get("hs_additional_emails") or "")
            assert len(portal.associations("contacts", survivor.id, "tasks")) in (2, 1)
            undone = undo(run.run_id, crm, sessions, NOW, apply=True)
            assert [o.status for o in undone.outcomes] == [ActionStatus.APPLIED], undone.outcomes[0].error
            assert contacts_picture(portal) == before
