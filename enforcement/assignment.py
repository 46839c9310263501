"""Choosing who gets reassigned work: weighted round-robin within a team, or a queue, or a manager."""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field

from config.policy import ReassignTarget, RoundRobin, ToManager, ToQueue
from domain.records import Owner
from enforcement.context import RuleContext
from enforcement.owner_facts import OwnerFacts


@dataclass(frozen=True)
class Assignee:
    owner: Owner
    how: str
    """How the assignee was chosen, for the reason text: ``round-robin in East``, ``manager``..."""


@dataclass
class Rotation:
    """Weighted round-robin: whoever has the least work per unit of weight goes next.

    An owner's work is what the ledger assigned them in the policy's rotation window
    (``History.assigned_recently``) plus what this run planned for them, so shares follow weights
    across runs and processes, even at one breach per run. Owners out of office (today, on their own
    calendar) are skipped; so is an owner at their daily cap (assignments applied today plus those
    planned in this run), and, for a target with ``working_hours_only``, one outside business hours in
    their zone unless every member is. Ties are broken by a hash of the record id so that equal owners
    share work evenly without depending on the order records arrive in.
    """

    ctx: RuleContext
    planned: Counter[str] = field(default_factory=Counter)
    facts: OwnerFacts = field(init=False)
    _members: dict[str, list[tuple[Owner, int]]] = field(default_factory=dict)
    """Team name -> its members in the CRM, each with the hash that breaks ties for them."""

    def __post_init__(self) -> None:
        self.facts = OwnerFacts(self.ctx)

    def choose(self, target: ReassignTarget, current: Owner, record_id: str) -> Assignee | None:
        if isinstance(target, ToQueue):
            queue = self.ctx.queue(target.queue)
            return Assignee(queue, f"queue {queue.name}") if queue else None
        if isinstance(target, ToManager):
            return self.to_manager(current)
        return self._round_robin(target, current, record_id) or self.to_manager(current)

    def to_manager(self, current: Owner) -> Assignee | None:
        manager = self.facts.manager(current)
        if manager is None:
            return None
        self.planned[manager.id] += 1
        return Assignee(manager, "manager")

    def _round_robin(self, target: RoundRobin, current: Owner, record_id: str) -> Assignee | None:
        team = (
            next((t for t in self.ctx.policy.teams if t.name == target.team), None)
            if target.team
            else self.ctx.team_of(current)
        )
        if team is None:
            return None
        if team.name not in self._members:
            members = [c for c in (self.ctx.owner_by_email(m) for m in team.members) if c is not None]
            self._members[team.name] = [(c, zlib.crc32(c.id.encode())) for c in members]
        eligible = [(c, w, h) for c, h in self._members[team.name]
                    if c.id != current.id and (w := self._weight(c)) is not None]
        if target.working_hours_only:
            eligible = [e for e in eligible if self._working_now(e[0])] or eligible
        if not eligible:
            return None
        tiebreak = zlib.crc32(record_id.encode())
        recent = self.ctx.history.assigned_recently

        def load(item: tuple[Owner, float, int]) -> tuple[float, int]:
            owner, weight, owner_hash = item
            return ((recent.get(owner.id, 0) + self.planned[owner.id] + 1) / weight, owner_hash ^ tiebreak)

        chosen, _, _ = min(eligible, key=load)
        self.planned[chosen.id] += 1
        return Assignee(chosen, f"round-robin in {team.name}")

    def _weight(self, owner: Owner) -> float | None:
        """The owner's share of new work, or None when they cannot take any now."""
        if not owner.active:
            return None
        settings = self.ctx.owner_policy(owner)
        if settings is None:
            return 1.0
        if settings.away_on(self.facts.today(owner)):
            return None
        if settings.cap is not None:
            assigned = self.ctx.history.assigned_today.get(owner.id, 0) + self.planned[owner.id]
            if assigned >= settings.cap:
                return None
        return settings.weight

    def _working_now(self, owner: Owner) -> bool:
        return self.ctx.calendar.is_business_time(self.ctx.now, self.facts.zone(owner))
