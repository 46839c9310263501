"""How findings talk about records and times, so every rule reads the same to a sales manager."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from domain.records import Account, Lead, Opportunity, Record, Task

_KIND = {Lead: "Lead", Opportunity: "Opportunity", Account: "Account", Task: "Task"}


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def when(moment: datetime, zone: str) -> str:
    """``Tue 18 Nov 09:00 EST`` in the given zone: what the owner's own clock said."""
    local = moment.astimezone(_zone(zone))
    return f"{local:%a %d %b %H:%M} {local.tzname()}"


def record_label(record: Record) -> str:
    """``Opportunity 'Acme Products - 50 seats'``; falls back to the id when the name is blank."""
    kind = _KIND.get(type(record), type(record).__name__)
    name = getattr(record, "name", None) or getattr(record, "subject", None) or record.id
    return f"{kind} {name!r}"


def unjudged_owner(owner_id: str | None, role: str = "owner") -> str:
    """Why a record whose owner is not among the org's users cannot be judged: none set, or an unknown id."""
    return f"it has no {role}" if owner_id is None else f"its {role} {owner_id} is unknown"
