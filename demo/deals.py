"""The demo org's opportunities, of every age and stage, and the activity logged on them.

New deals nobody acted on for 4+ business days (the SLA) next to new deals that were acted on,
healthy open deals, deals whose stage has not moved for 60-200 days, pushed close dates,
channel-partner deals worked by the channel manager, closed deals, and bad data: missing amount,
close date or probability, a probability that does not match the stage, a stage the policy does
not know, no owner, and an owner who left.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from demo.people import CHANNEL_MANAGER, LEAVER, REPS
from demo.tasks import Steps, Target, Touch, follow
from domain.records import Account, Opportunity, TaskType

OPEN_STAGES = {"Discovery": 10.0, "First Demo": 25.0, "Second Demo": 40.0, "Checking References": 70.0}
CLOSED_STAGES = {"Closed Won": 100.0, "Closed Lost": 0.0, "No Decision": 0.0}
PRODUCTS = ("Platform", "Analytics add-on", "Renewal", "Expansion", "Pilot", "Support plan")


class DealMaker:
    def __init__(self, rng: random.Random, now: datetime, accounts: list[Account], partners: list[Account]) -> None:
        self.rng = rng
        self.now = now
        self.accounts = accounts
        self.partners = partners
        self.deals: list[Opportunity] = []
        self.touches: list[Touch] = []

    def days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def add(
        self,
        stage: str,
        created: datetime,
        changed: datetime | None = None,
        touched: tuple[datetime, ...] = (),
        owner_id: str | None = None,
        partner: Account | None = None,
        owned: bool = True,
    ) -> None:
        """Add one deal; its owner is ``owner_id``, else the account's rep, else none when not ``owned``."""
        rng = self.rng
        account = rng.choice(self.accounts)
        if owner_id is None and owned:
            owner_id = account.owner_id if account.owner_id in _ACTIVE_REPS else rng.choice(_ACTIVE_REPS)
        amount = float(rng.randint(50, 2500) * 100)
        close = (changed or created) + timedelta(days=rng.uniform(20, 120))
        extra: dict[str, object] = {}
        if stage in OPEN_STAGES and close < self.now and rng.random() < 0.7:
            extra["close_date_pushes"] = rng.randint(1, 4)
        if stage == "Checking References":
            extra.update(_bant(rng))
        probability = OPEN_STAGES.get(stage, CLOSED_STAGES.get(stage))
        deal_id = f"opp-{len(self.deals) + 1:06d}"
        self.deals.append(
            Opportunity(
                id=deal_id,
                name=f"{account.name} - {rng.choice(PRODUCTS)}",
                account_id=account.id,
                owner_id=owner_id,
                stage=stage,
                created_at=created,
                updated_at=max(created, changed or created),
                stage_changed_at=changed,
                amount=None if rng.random() < 0.08 else amount,
                probability=_probability(rng, probability),
                close_date=None if rng.random() < 0.06 else close.date(),
                is_closed=stage in CLOSED_STAGES,
                is_won=stage == "Closed Won",
                pipeline="New Business",
                partner_account_id=partner.id if partner else None,
                extra=extra,
            )
        )
        for at in touched:
            self.touches.append(Touch(deal_id, owner_id, at, rng.choice((TaskType.CALL, TaskType.EMAIL))))


_ACTIVE_REPS = [p.owner_id for p in REPS]


def _probability(rng: random.Random, stage_value: float | None) -> float | None:
    roll = rng.random()
    if roll < 0.06 or stage_value is None:
        return None
    if roll < 0.14:
        return float(rng.choice((5, 15, 30, 50, 60, 90)))
    return stage_value


def _bant(rng: random.Random) -> dict[str, object]:
    answers: dict[str, object] = {"bant_budget": "Approved", "bant_authority": "CFO", "bant_need": "Yes",
                                  "bant_timeline": "This quarter"}
    if rng.random() < 0.3:
        del answers[rng.choice(sorted(answers))]
    return answers


def _open_stage(rng: random.Random) -> str:
    return rng.choices(list(OPEN_STAGES), weights=(4, 3, 2, 1))[0]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


def build_deals(
    rng: random.Random, now: datetime, accounts: list[Account], partners: list[Account]
) -> tuple[list[Opportunity], list[Touch]]:
    """About 400 opportunities and the activity logged on them."""
    make = DealMaker(rng, now, accounts, partners)
    steps: Steps = [
        (16, lambda: make.add("Discovery", make.days_ago(6, 15))),
        (12, lambda: make.add("Discovery", make.days_ago(0, 3))),
        (12, lambda: _acted_by_stage_change(make)),
        (12, lambda: _acted_by_activity(make)),
        (140, lambda: _active(make)),
        (50, lambda: _stale(make)),
        (36, lambda: _channel(make)),
        (120, lambda: _closed(make)),
        (2, lambda: make.add("Legacy Stage", make.days_ago(200, 500), make.days_ago(150, 199))),
        (5, lambda: make.add(_open_stage(rng), make.days_ago(5, 90), owner_id=LEAVER.owner_id)),
        (1, lambda: make.add("Discovery", make.days_ago(5, 30), owned=False)),
    ]
    follow(steps)
    return make.deals, make.touches


def _acted_by_stage_change(make: DealMaker) -> None:
    created = make.days_ago(2, 12)
    make.add("First Demo", created, _between(make.rng, created, make.now))


def _acted_by_activity(make: DealMaker) -> None:
    created = make.days_ago(2, 12)
    make.add("Discovery", created, touched=(_between(make.rng, created, make.now),))


def _active(make: DealMaker) -> None:
    rng = make.rng
    changed = make.days_ago(1, 55)
    created = changed - timedelta(days=rng.uniform(3, 250))
    touched = tuple(_between(rng, created, make.now) for _ in range(rng.randint(1, 3)))
    make.add(_open_stage(rng), created, changed, touched)


def _stale(make: DealMaker) -> None:
    rng = make.rng
    changed = make.days_ago(60, 200)
    created = changed - timedelta(days=rng.uniform(3, 90))
    make.add(_open_stage(rng), created, changed, (_between(rng, created, changed),))


def _channel(make: DealMaker) -> None:
    rng = make.rng
    changed = make.days_ago(60, 180) if rng.random() < 0.5 else make.days_ago(1, 50)
    created = changed - timedelta(days=rng.uniform(3, 120))
    partner = rng.choice(make.partners)
    make.add(_open_stage(rng), created, changed, (_between(rng, created, changed),), CHANNEL_MANAGER.owner_id, partner)


def _closed(make: DealMaker) -> None:
    rng = make.rng
    stage = rng.choices(list(CLOSED_STAGES), weights=(55, 45, 20))[0]
    closed_at = make.days_ago(1, 700)
    created = closed_at - timedelta(days=rng.uniform(10, 200))
    make.add(stage, created, closed_at, (_between(rng, created, closed_at),))


def deal_targets(deals: list[Opportunity]) -> list[Target]:
    """Open deals that were acted on: open tasks and old history may be about them."""
    return [
        Target(deal.id, deal.owner_id, deal.created_at)
        for deal in deals
        if deal.stage_changed_at is not None and not deal.is_closed
    ]
