"""Facts about an owner that every record they own shares, worked out once per run, not per record.

Rules over a million records ask the same questions of a few dozen owners (time zone, today's date
there, manager, who acts for them); answering each once keeps the per-record cost flat.
"""

from __future__ import annotations

from datetime import date

from domain.records import Owner
from enforcement.context import RuleContext


class OwnerFacts:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._zone: dict[str, str] = {}
        self._today: dict[str, date] = {}
        self._manager: dict[str, Owner | None] = {}

    def zone(self, owner: Owner | None) -> str:
        """The owner's time zone (the company's for no owner), as ``RuleContext.time_zone`` decides it."""
        key = owner.id if owner else ""
        if key not in self._zone:
            self._zone[key] = self.ctx.time_zone(owner)
        return self._zone[key]

    def today(self, owner: Owner) -> date:
        """The date it is now on the owner's own clock."""
        if owner.id not in self._today:
            self._today[owner.id] = self.ctx.calendar.local_date(self.ctx.now, self.zone(owner))
        return self._today[owner.id]

    def manager(self, owner: Owner) -> Owner | None:
        if owner.id not in self._manager:
            self._manager[owner.id] = self.ctx.manager_of(owner)
        return self._manager[owner.id]

    def acting(self, owner: Owner) -> Owner | None:
        """Who answers for the owner's work: the owner, or their manager once the owner has left."""
        return owner if owner.active else self.manager(owner)

    def answerable(self, owner_id: str | None) -> str | None:
        """Whom a finding about this owner's record is for: the owner, or their manager once they have left."""
        owner = self.ctx.owner(owner_id)
        stand_in = self.acting(owner) if owner is not None else None
        return stand_in.id if stand_in is not None else owner_id

    def due_date(self, owner: Owner, business_days: int) -> date:
        """``business_days`` working days after the owner's today, in the company calendar."""
        return self.ctx.calendar.add_working_days_to_date(self.today(owner), business_days)
