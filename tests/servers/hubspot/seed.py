"""A small sales org in the local HubSpot portal, the same shape at any size (tests and the bench)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.servers.hubspot.portal import Portal, iso

STAGES = [("appointmentscheduled", "Discovery", "false", "0.1"), ("qualifiedtobuy", "First Demo", "false", "0.25"),
          ("presentationscheduled", "Second Demo", "false", "0.4"), ("closedwon", "Closed Won", "true", "1.0"),
          ("closedlost", "Closed Lost", "true", "0.0")]
OWNERS = [("32900489", "ann@example.com", "Ann", "Archer"), ("32900490", "bob@example.com", "Bob", "Baker")]
DAY_MS = 86_400_000
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass
class Seeded:
    companies: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    deals: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def setup_portal(portal: Portal) -> None:
    """Owners, the default deal pipeline, and the task property that holds ledger keys."""
    portal.owners = [{"id": i, "email": e, "firstName": f, "lastName": last, "userId": int(i), "archived": False,
                      "teams": [], "createdAt": iso(START_MS), "updatedAt": iso(START_MS)}
                     for i, e, f, last in OWNERS]
    portal.pipelines = [{"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "archived": False,
                         "stages": [{"id": sid, "label": label, "displayOrder": n, "archived": False,
                                     "metadata": {"isClosed": closed, "probability": p}}
                                    for n, (sid, label, closed, p) in enumerate(STAGES)]}]
    portal.custom["tasks"].add("warden_key")


def seed(portal: Portal, companies: int, *, deals_per: int = 1, tasks_per: int = 1, contacts_per: int = 0,
         notes_per: int = 0) -> Seeded:
    """``companies`` companies, each with its deals, tasks (on the deal), contacts and notes."""
    setup_portal(portal)
    out = Seeded()
    for n in range(companies):
        owner = OWNERS[n % 2][0]
        company = portal.create("companies", {"name": f"Company {n}", "domain": f"c{n}.example.com",
                                              "hubspot_owner_id": owner, "city": "Austin"}).id
        out.companies.append(company)
        for c in range(contacts_per):
            contact = portal.create("contacts", {"firstname": f"Pat{c}", "lastname": f"Doe{n}",
                                                 "email": f"pat{c}@c{n}.example.com",
                                                 "lifecyclestage": "lead" if c % 2 else "customer"}).id
            portal.associate("contacts", contact, "companies", company)
            out.contacts.append(contact)
        for d in range(deals_per):
            deal = portal.create("deals", {
                "dealname": f"Deal {n}.{d}", "pipeline": "default", "dealstage": "appointmentscheduled",
                "amount": str(1000 * (d + 1)), "closedate": iso(START_MS + 90 * DAY_MS),
                "hubspot_owner_id": owner, "hs_date_entered_appointmentscheduled": iso(START_MS)}).id
            portal.associate("deals", deal, "companies", company, {5, 341})
            out.deals.append(deal)
            for t in range(tasks_per):
                task = portal.create("tasks", {
                    "hs_task_subject": f"Call {n}.{d}.{t}", "hs_timestamp": iso(START_MS + 7 * DAY_MS),
                    "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH", "hs_task_type": "CALL",
                    "hubspot_owner_id": owner}).id
                portal.associate("tasks", task, "deals", deal)
                portal.associate("tasks", task, "companies", company)
                out.tasks.append(task)
        for m in range(notes_per):
            note = portal.create("notes", {"hs_note_body": f"Note {m} about company {n}",
                                           "hs_timestamp": iso(START_MS)}).id
            portal.associate("notes", note, "companies", company)
            out.notes.append(note)
    return out
