"""The demo deals' stage history: the stages each passed through and how its forecast moved.

Each rep has a forecasting habit, as seed 002 says reps do ("one particular salesperson will be very
reluctant to put a high win probability on a deal ... another may always be overly optimistic"):
an optimist's deals close weeks after the date first forecast and for less than first said; a
sandbagger's close early and for more. Drawn from a generator seeded by each deal's id, so adding
history leaves the rest of the demo org as it was.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.deals import OPEN_STAGES
from demo.people import REPS
from domain.records import ObjectType, Opportunity, StageChange

HABITS: dict[str, tuple[float, float]] = {
    "taylor.brooks": (35.0, 0.75),
    "sam.rivera": (21.0, 0.85),
    "dana.kim": (18.0, 0.9),
    "jordan.blake": (-7.0, 1.15),
    "fatima.haddad": (-3.0, 1.1),
}
"""Rep -> (days their won deals close after the first forecast date, final amount / first amount)."""
USUAL = (7.0, 1.0)
_OWNER_LOGIN = {p.owner_id: p.login for p in REPS}
_PATH = list(OPEN_STAGES)


def deal_history(deals: list[Opportunity], seed: int) -> list[StageChange]:
    """Every deal's entry into each stage it passed, with the amount and close date it carried then."""
    return [change for deal in deals for change in _one(deal, random.Random(f"{seed}:{deal.id}"))]


def _one(deal: Opportunity, rng: random.Random) -> list[StageChange]:
    path = _stages(deal, rng)
    if not path:
        return []
    end = deal.stage_changed_at or deal.created_at
    moments = sorted(deal.created_at + (end - deal.created_at) * rng.random() for _ in path[1:-1])
    entries = [deal.created_at, *moments, end][: len(path)] if len(path) > 1 else [deal.created_at]
    slip, factor = HABITS.get(_OWNER_LOGIN.get(deal.owner_id or "", ""), USUAL)
    final_close = end.date() if deal.is_closed else (deal.close_date or end.date())
    first_close = final_close - timedelta(days=round(rng.gauss(slip, 4)))
    final_amount = deal.amount
    first_amount = None if final_amount is None else round(final_amount / (factor * rng.uniform(0.95, 1.05)), -2)
    changes = []
    for n, (stage, at) in enumerate(zip(path, entries, strict=True)):
        share = n / max(len(path) - 1, 1)
        changes.append(StageChange(ObjectType.OPPORTUNITY, deal.id, at, stage,
                                   _between(first_amount, final_amount, share),
                                   _day_between(first_close, final_close if deal.is_closed else deal.close_date,
                                                share)))
    return changes


def _stages(deal: Opportunity, rng: random.Random) -> list[str]:
    if deal.stage in OPEN_STAGES:
        return _PATH[: _PATH.index(deal.stage) + 1]
    if deal.stage == "Closed Won":
        return [*_PATH, deal.stage]
    if deal.is_closed and deal.stage:
        return [*_PATH[: rng.randint(1, len(_PATH))], deal.stage]
    return []


def _between(first: float | None, last: float | None, share: float) -> float | None:
    if first is None or last is None:
        return last
    return round(first + (last - first) * share, 2)


def _day_between(first: date, last: date | None, share: float) -> date | None:
    if last is None:
        return None
    return first + timedelta(days=round((last - first).days * share))

