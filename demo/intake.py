"""The demo org's lead intake: new leads waiting in the Web Leads queue for routing (issue 15).

Web-form leads from several countries, states, industries and company sizes, with the lead source
and campaign marketing set, two from companies that already are customers (one by its email
domain, one by its company name) and one from a person who already is a customer's contact, so
``warden run route`` shows every kind of route and the ``existing_lead`` rule marks those three. Drawn from a
random generator of their own, so the rest of the demo org is the same as without them.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from demo.people import REPS, email_for, person_name
from domain.records import Account, Contact, Lead, ObjectType, Owner, StageChange

WEB_LEADS = Owner("q-web-leads", "Web Leads", is_queue=True)
CAMPAIGNS = ("Spring webinar", "Pricing page", "CRM hygiene ebook", "Partner summit")
PLACES = (("US", "NY"), ("US", "CA"), ("US", "WA"), ("US", "MA"), ("GB", None), ("DE", None), ("US", "TX"),
          ("FR", None), ("US", "CO"), ("US", "IL"))
INDUSTRIES = ("Software", "Manufacturing", "Healthcare", "Retail", "Financial Services")
SOURCES = ("Web", "Content download", "Seminar", "Trade show")
COMPANIES = ("Brightline Labs", "Copperfield Foods", "Dunmore Health", "Everpeak Retail", "Fairway Capital",
             "Goldleaf Software", "Harborview Clinics", "Ironbridge Tools", "Jadestone Bank", "Kestrel Motors")


def build_intake(now: datetime, customers: list[Account], contacts: list[Contact], seed: int = 15) -> list[Lead]:
    """Ten new web leads of new companies, two from existing customers and one existing contact, all queued."""
    rng = random.Random(seed)
    leads = [_lead(rng, n, now, company, None) for n, company in enumerate(COMPANIES)]
    known = sorted((a for a in customers if a.website), key=lambda a: a.id)[:1]
    by_name = sorted((a for a in customers if not a.website), key=lambda a: a.id)[:1] or sorted(
        customers, key=lambda a: a.id)[1:2]
    for account in known:
        domain = (account.website or "").removeprefix("https://").removeprefix("www.").split("/")[0]
        leads.append(_lead(rng, len(leads), now, account.name, domain))
    for account in by_name:  # from a private address: only the company's name says who it is
        leads.append(_lead(rng, len(leads), now, account.name.upper(), "gmail.com"))
    ids = {a.id for a in customers}
    known_person = sorted((c for c in contacts if c.phone and c.account_id in ids), key=lambda c: c.id)[:1]
    for contact in known_person:  # no company, a private address: only the contact's name and number say who
        lead = _lead(rng, len(leads), now, "", "gmail.com")
        leads.append(replace(lead, name=contact.name, company=None, phone=contact.phone,
                             email=email_for(contact.name, "gmail.com", rng)))
    return leads


def _lead(rng: random.Random, n: int, now: datetime, company: str, domain: str | None) -> Lead:
    name = person_name(rng)
    country, state = PLACES[n % len(PLACES)]
    created = now - timedelta(minutes=rng.uniform(5, 90))
    extra: dict[str, str | int | None] = {
        "lead_source": rng.choice(SOURCES), "campaign": rng.choice(CAMPAIGNS), "country": country, "state": state,
        "industry": rng.choice(INDUSTRIES), "employees": rng.choice((12, 80, 250, 1200, 5000)),
    }
    email = email_for(name, domain or company.lower().replace(" ", "") + ".com", rng)
    if domain and email is None:
        email = f"info@{domain}"
    return Lead(f"led-web-{n + 1:03d}", name, company, WEB_LEADS.id, "New", created, created,
                email=email, phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}", extra=extra)


REJECTIONS = ("Student, no budget", "Competitor researching us", "Wrong region: we do not sell there")


def build_decided(now: datetime, seed: int = 16) -> tuple[list[Lead], list[StageChange]]:
    """Leads sales decided on in the last two weeks: accepted, rejected with a reason, one rejected without."""
    rng = random.Random(seed)
    reps = [p.owner_id for p in REPS if p.active]
    leads: list[Lead] = []
    history: list[StageChange] = []
    outcomes = ("Working",) * 6 + ("Rejected",) * len(REJECTIONS) + ("Rejected",)
    for n, status in enumerate(outcomes):
        created = now - timedelta(days=rng.uniform(2, 14))
        decided = created + timedelta(hours=rng.uniform(1, 30))
        reason = REJECTIONS[n - 6] if status == "Rejected" and n - 6 < len(REJECTIONS) else None
        extra: dict[str, str | None] = {"lead_source": SOURCES[n % len(SOURCES)], "campaign": rng.choice(CAMPAIGNS),
                                        **({"rejection_reason": reason} if reason else {})}
        name = person_name(rng)
        lead = Lead(f"led-decided-{n + 1:03d}", name, rng.choice(COMPANIES), rng.choice(reps), status, created,
                    decided, status_changed_at=decided, extra=extra)
        leads.append(lead)
        history += [StageChange(ObjectType.LEAD, lead.id, created, "New"),
                    StageChange(ObjectType.LEAD, lead.id, decided, status)]
    return leads, history
