"""The demo org's scored activity (issue 15): a new person over the threshold, one below it, a known contact.

``warden run activity`` on the demo creates a lead for the first (in the Web Leads queue, where the
route rule routes it), nothing for the second, and a task for the owner of the third.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from demo.people import REPS
from domain.activities import Activity
from domain.records import Contact

NEW_PERSON = ("Morgan Reyes", "morgan.reyes@northwindtraders.com", "Northwind Traders")
BELOW_THRESHOLD = ("Casey Lin", "casey.lin@bluepeak.io", "Bluepeak")


def build_activity(now: datetime, contacts: list[Contact]) -> list[Activity]:
    """Web visits, a download, an event attended and a reply in the last three weeks, by three people."""
    name, email, company = NEW_PERSON
    new = [("Web Visit", 20, "/pricing"), ("Web Visit", 12, "/integrations/salesforce"),
           ("Download", 9, "CRM hygiene ebook"), ("Event Attendance", 3, "Spring webinar")]
    below = [("Web Visit", 15, "/blog/lead-routing"), ("Web Visit", 2, "/pricing")]
    activities = [_activity(f"act-new-{n}", kind, now - timedelta(days=days), detail, email, name, company)
                  for n, (kind, days, detail) in enumerate(new)]
    name, email, company = BELOW_THRESHOLD
    activities += [_activity(f"act-below-{n}", kind, now - timedelta(days=days), detail, email, name, company)
                   for n, (kind, days, detail) in enumerate(below)]
    known = _known_contact(contacts)
    if known is not None:
        activities += [
            _activity("act-known-0", "Event Attendance", now - timedelta(days=6), "Partner summit", known.email,
                      known.name, None),
            _activity("act-known-1", "Email Reply", now - timedelta(days=2), "Re: your question on renewals",
                      None, None, None, person_id=known.id),
        ]
    return activities


def _known_contact(contacts: list[Contact]) -> Contact | None:
    """The first contact with an email whose owner is an active rep: the person already in the CRM."""
    active = {p.owner_id for p in REPS if p.active}
    return next((c for c in sorted(contacts, key=lambda c: c.id) if c.email and c.owner_id in active), None)


def _activity(activity_id: str, kind: str, when: datetime, detail: str, email: str | None, name: str | None,
              company: str | None, person_id: str | None = None) -> Activity:
    return Activity(activity_id, kind, when, when, email=email, name=name, company=company, person_id=person_id,
                    detail=detail)
