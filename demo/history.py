"""The demo's stage history: the statuses each lead and stages each deal passed, and how forecasts moved.

Each rep has a forecasting habit, as seed 002 says reps do ("one particular salesperson will be very
reluctant to put a high win probability on a deal ... another may always be overly optimistic"):
an optimist's deals close weeks after the date first forecast and for less than first said; a
sandbagger's close early and for more. Drawn from a generator seeded by each deal's id, so adding
history leaves the rest of the demo org as it was.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from demo.deals import OPEN_STAGES
from demo.people import REPS
from domain.records import Lead, ObjectType, Opportunity, StageChange

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
LEAD_PATH = ["New", "Qualifying", "Development", "Working", "Qualified"]


def lead_history(leads: list[Lead], seed: int) -> list[StageChange]:
    """Every lead's entry into each status it passed on the way to the one it has now."""
    changes = []
    for lead in leads:
        rng = random.Random(f"{seed}:{lead.id}")
        path = _lead_path(lead.status, rng)
        end = lead.status_changed_at or lead.created_at
        for status, at in zip(path, _moments(lead.created_at, end, len(path), rng), strict=True):
            changes.append(StageChange(ObjectType.LEAD, lead.id, at, status))
    return changes


def _lead_path(status: str | None, rng: random.Random) -> list[str]:
    if status in LEAD_PATH:
        return LEAD_PATH[: LEAD_PATH.index(status) + 1]
    if status == "Converted":
        return [*LEAD_PATH, status]
    return [*LEAD_PATH[: rng.randint(1, len(LEAD_PATH))], status] if status else []


def _moments(start: datetime, end: datetime, count: int, rng: random.Random) -> list[datetime]:
    """``count`` moments from ``start`` to ``end``: the first and last exactly, the others in between."""
    if count <= 1:
        return [start][:count]
    inside = sorted(start + (end - start) * rng.random() for _ in range(count - 2))
    return [start, *inside, end]


def deal_history(deals: list[Opportunity], seed: int) -> list[StageChange]:
    """Every deal's entry into each stage it passed, with the amount and close date it carried then."""
    return [change for deal in deals for change in _one(deal, random.Random(f"{seed}:{deal.id}"))]


def _one(deal: Opportunity, rng: random.Random) -> list[StageChange]:
    path = _stages(deal, rng)
    if not path:
        return []
    end = deal.stage_changed_at or deal.created_at
    entries = _moments(deal.created_at, end, len(path), rng)
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

