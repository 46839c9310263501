"""What every rule receives besides the org's data: the policy, a calendar, a clock and history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from config.policy import OwnerPolicy, Policy, Team
from domain.org import History
from domain.records import Owner
from enforcement.calendar import BusinessCalendar


@dataclass(frozen=True)
class RuleContext:
    policy: Policy
    calendar: BusinessCalendar
    now: datetime
    owners: Mapping[str, Owner]
    history: History = field(default_factory=History)
    connection: str = "local"
    """The CRM connection evaluated: keys of actions that must not collide across CRMs (merges) name it."""

    def owner(self, owner_id: str | None) -> Owner | None:
        return self.owners.get(owner_id) if owner_id else None

    def owner_by_email(self, email: str) -> Owner | None:
        return self._people_by_email.get(email.lower())

    @cached_property
    def _people_by_email(self) -> dict[str, Owner]:
        """Users (not queues) by lower-cased email; built once, since round-robin asks per record."""
        return {o.email.lower(): o for o in reversed(list(self.owners.values())) if o.email and not o.is_queue}

    def queue(self, name: str) -> Owner | None:
        return next((o for o in self.owners.values() if o.is_queue and o.name == name), None)

    def owner_policy(self, owner: Owner) -> OwnerPolicy | None:
        return self._owner_policies.get(owner.email.lower()) if owner.email else None

    def team_of(self, owner: Owner) -> Team | None:
        return self._teams_by_email.get(owner.email.lower()) if owner.email else None

    @cached_property
    def _owner_policies(self) -> dict[str, OwnerPolicy]:
        return {o.email.lower(): o for o in reversed(self.policy.owners)}

    @cached_property
    def _teams_by_email(self) -> dict[str, Team]:
        """Member email -> team; a member of two teams belongs to the first, as in ``Policy.team_of``."""
        return {m.lower(): t for t in reversed(self.policy.teams) for m in t.members}

    @cached_property
    def route_rule_ids(self) -> tuple[str, ...]:
        """Rules that route new leads: a routing starts the new owner's SLA clock."""
        return tuple(r.id for r in self.policy.rules if r.kind == "route")

    def time_zone(self, owner: Owner | None) -> str:
        """The owner's zone: the policy's override, then the CRM profile, then the company default."""
        if owner is not None:
            override = self.owner_policy(owner)
            if override is not None and override.time_zone:
                return override.time_zone
            if owner.time_zone:
                return owner.time_zone
        return self.policy.calendar.time_zone

    def manager_of(self, owner: Owner) -> Owner | None:
        """The CRM's manager field first, then the manager of the owner's team in the policy."""
        if owner.manager_id and (manager := self.owners.get(owner.manager_id)) and manager.active:
            return manager
        team = self.team_of(owner)
        if team is not None:
            manager = self.owner_by_email(team.manager)
            if manager is not None and manager.active and manager.id != owner.id:
                return manager
        return None
