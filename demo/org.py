"""The demo org: a deterministic, realistic sales org for ``warden demo`` and the tests.

Everything is dated relative to ``now`` and drawn from ``random.Random(seed)``, so the same
``now`` and seed always give the same org, and the rules always have something to find.
``seed_scaled`` (in ``demo.scaled``) builds the large org the benchmarks use.
"""

from __future__ import annotations

import random
from datetime import datetime

from connectors.local import LocalCRM
from demo.accounts import build_accounts
from demo.activity import build_activity
from demo.deals import build_deals, deal_targets
from demo.history import deal_history, lead_history
from demo.intake import WEB_LEADS, build_decided, build_intake
from demo.leads import build_leads, lead_targets
from demo.people import demo_owners
from demo.scaled import seed_scaled
from demo.tasks import Target, build_tasks
from domain.records import ObjectType

__all__ = ["seed_demo", "seed_scaled"]


def seed_demo(crm: LocalCRM, now: datetime, seed: int = 7) -> None:
    """Fill an empty local CRM with the demo org; a CRM that already holds owners is left alone."""
    if crm.count(ObjectType.OWNER) > 0:
        return
    rng = random.Random(seed)
    org = build_accounts(rng, now)
    partners = org.of_type("Partner")
    selling = [a for a in org.accounts if a.account_type in ("Customer", "Prospect")]
    leads, lead_touches = build_leads(rng, now)
    deals, deal_touches = build_deals(rng, now, selling, partners)
    targets = [
        *(Target(a.id, a.owner_id, a.created_at) for a in org.accounts),
        *(Target(c.id, c.owner_id, c.created_at, on_person=True) for c in org.contacts),
        *lead_targets(leads),
        *deal_targets(deals),
    ]
    tasks = build_tasks(rng, now, [*lead_touches, *deal_touches], org.of_type("Customer"), targets)
    intake = build_intake(now, org.of_type("Customer"), org.contacts)
    decided, decisions = build_decided(now)
    crm.insert_records([*demo_owners(now), WEB_LEADS, *org.accounts, *org.contacts, *org.notes, *leads, *intake,
                        *decided, *deals, *tasks])
    crm.insert_history([*lead_history(leads, seed), *decisions, *deal_history(deals, seed)])
    crm.insert_activities(build_activity(now, org.contacts))
