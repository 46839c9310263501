"""The demo org's leads, of every age and status, and the activity logged on them.

Brand-new leads nobody has called yet (the 2-business-hour first-contact SLA), leads called in
time, forgotten ones, leads still owned by the rep who left, leads waiting in the marketing queue,
Qualified leads with no activity for 30+ days, and BANT answers, some of them missing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from demo.accounts import NOUNS, WORDS
from demo.people import LEAVER, MARKETING_QUEUE, REPS, email_for, person_name
from demo.tasks import Steps, Target, Touch, follow
from domain.records import Lead, TaskType

SOURCES = ("Web", "Seminar", "Referral", "Trade show", "Content download", "Partner")
BANT = {
    "bant_budget": ("$20k approved", "$100k in next year's plan", "No budget yet"),
    "bant_authority": ("VP Sales signs", "CFO signs", "Committee"),
    "bant_need": ("Replacing spreadsheets", "Pipeline visibility", "Compliance audit"),
    "bant_timeline": ("This quarter", "Next quarter", "Within 12 months"),
}
ACTIVE_STATUSES = ("Qualifying", "Development", "Working")
CLOSED_STATUSES = ("Returned to Marketing", "Disqualified", "Converted")


class LeadMaker:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.leads: list[Lead] = []
        self.touches: list[Touch] = []

    def days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def bant(self, complete: bool) -> dict[str, str | None]:
        answers: dict[str, str | None] = {key: self.rng.choice(values) for key, values in BANT.items()}
        if not complete:
            missing = self.rng.choice(list(BANT))
            if self.rng.random() < 0.5:
                del answers[missing]
            else:
                answers[missing] = None
        return answers

    def add(
        self,
        status: str,
        created: datetime,
        owner_id: str | None,
        changed: datetime | None = None,
        bant: dict[str, str | None] | None = None,
        touched: tuple[datetime, ...] = (),
    ) -> None:
        rng = self.rng
        name = person_name(rng)
        company = f"{rng.choice(WORDS)} {rng.choice(NOUNS)}"
        lead_id = f"led-{len(self.leads) + 1:06d}"
        extra: dict[str, str | None] = {"lead_source": rng.choice(SOURCES), **(bant or {})}
        self.leads.append(
            Lead(
                id=lead_id,
                name=name,
                company=company,
                owner_id=owner_id,
                status=status,
                created_at=created,
                updated_at=max(created, changed or created),
                status_changed_at=changed,
                email=email_for(name, company.lower().replace(" ", "") + ".com", rng),
                phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                extra=extra,
            )
        )
        for at in touched:
            self.touches.append(Touch(lead_id, owner_id, at, TaskType.CALL, on_person=True))


def _rep(rng: random.Random) -> str:
    return rng.choice(REPS).owner_id


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


def build_leads(rng: random.Random, now: datetime) -> tuple[list[Lead], list[Touch]]:
    """About 200 leads and the completed calls logged on them."""
    make = LeadMaker(rng, now)
    steps: Steps = [
        (14, lambda: make.add("New", now - timedelta(hours=rng.uniform(0.2, 72)), _rep(rng))),
        (4, lambda: make.add("New", make.days_ago(5, 40), _rep(rng))),
        (3, lambda: make.add("New", make.days_ago(1, 10), LEAVER.owner_id)),
        (10, lambda: make.add("New", make.days_ago(0, 20), MARKETING_QUEUE.id)),
        (1, lambda: make.add("New", make.days_ago(1, 5), None)),
        (16, lambda: _called_in_time(make)),
        (75, lambda: _working(make)),
        (36, lambda: _qualified(make)),
        (45, lambda: _closed(make)),
    ]
    follow(steps)
    return make.leads, make.touches


def _called_in_time(make: LeadMaker) -> None:
    created = make.days_ago(1, 20)
    make.add("New", created, _rep(make.rng), touched=(created + timedelta(hours=make.rng.uniform(0.3, 30)),))


def _working(make: LeadMaker) -> None:
    rng = make.rng
    created = make.days_ago(5, 120)
    changed = _between(rng, created, make.now)
    calls = tuple(_between(rng, created, make.now) for _ in range(rng.randint(1, 3)))
    bant = make.bant(complete=False) if rng.random() < 0.4 else None
    make.add(rng.choice(ACTIVE_STATUSES), created, _rep(rng), changed, bant, calls)


def _qualified(make: LeadMaker) -> None:
    rng = make.rng
    stale = rng.random() < 0.5
    changed = make.days_ago(35, 120) if stale else make.days_ago(1, 25)
    created = changed - timedelta(days=rng.uniform(3, 60))
    last_call = _between(rng, changed, make.now - timedelta(days=31)) if stale else make.days_ago(0.5, 20)
    bant = make.bant(complete=rng.random() < 0.7)
    make.add("Qualified", created, _rep(rng), changed, bant, (max(created, last_call),))


def _closed(make: LeadMaker) -> None:
    rng = make.rng
    status = rng.choice(CLOSED_STATUSES)
    created = make.days_ago(20, 400)
    changed = _between(rng, created, make.now - timedelta(days=2))
    owner = MARKETING_QUEUE.id if status == "Returned to Marketing" else _rep(rng)
    make.add(status, created, owner, changed, make.bant(complete=status == "Converted"))


def lead_targets(leads: list[Lead]) -> list[Target]:
    """Leads that open tasks and old history may be about (not the untouched new ones)."""
    return [
        Target(lead.id, lead.owner_id, lead.created_at, on_person=True)
        for lead in leads
        if lead.status_changed_at is not None
    ]
