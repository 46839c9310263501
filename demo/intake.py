"""The demo org's lead intake: new leads waiting in the Web Leads queue for routing (issue 15).

Web-form leads from several countries, states, industries and company sizes, with the lead source
and campaign marketing set, and two from companies that already are customers (one by its email
domain, one by its company name), so ``warden run route`` shows every kind of route. Drawn from a
random generator of their own, so the rest of the demo org is the same as without them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from demo.people import email_for, person_name
from domain.records import Account, Lead, Owner

WEB_LEADS = Owner("q-web-leads", "Web Leads", is_queue=True)
CAMPAIGNS = ("Spring webinar", "Pricing page", "CRM hygiene ebook", "Partner summit")
PLACES = (("US", "NY"), ("US", "CA"), ("US", "WA"), ("US", "MA"), ("GB", None), ("DE", None), ("US", "TX"),
          ("FR", None), ("US", "CO"), ("US", "IL"))
INDUSTRIES = ("Software", "Manufacturing", "Healthcare", "Retail", "Financial Services")
SOURCES = ("Web", "Content download", "Seminar", "Trade show")
COMPANIES = ("Brightline Labs", "Copperfield Foods", "Dunmore Health", "Everpeak Retail", "Fairway Capital",
             "Goldleaf Software", "Harborview Clinics", "Ironbridge Tools", "Jadestone Bank", "Kestrel Motors")


def build_intake(now: datetime, customers: list[Account], seed: int = 15) -> list[Lead]:
    """Ten new web leads of new companies plus two from existing customers, all in the Web Leads queue."""
    rng = random.Random(seed)
    leads = [_lead(rng, n, now, company, None) for n, company in enumerate(COMPANIES)]
    known = sorted((a for a in customers if a.website), key=lambda a: a.id)[:1]
    by_name = sorted((a for a in customers if not a.website), key=lambda a: a.id)[:1] or sorted(
        customers, key=lambda a: a.id)[1:2]
    for account in known:
        domain = (account.website or "").removeprefix("https://").removeprefix("www.").split("/")[0]
        leads.append(_lead(rng, len(leads), now, account.name, domain))
    for account in by_name:
        leads.append(_lead(rng, len(leads), now, account.name.upper(), None))
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
