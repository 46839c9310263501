"""What every rule receives: the org's data (read-only), the policy, a calendar, a clock and history."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Protocol

from config.policy import OwnerPolicy, Policy, Team
from connectors.records import Lead, ObjectType, Opportunity, Owner, Record, Task
from enforcement.calendar import BusinessCalendar


@dataclass(frozen=True)
class Calls:
    """What the call tasks say about each record they are about (``what_id``)."""

    last_completed: Mapping[str, datetime]
    """Record id -> when its latest completed call was completed."""
    scheduled: Collection[str]
    """Ids of the records with an open call task."""


class OrgData(Protocol):
    """Read-only access to the mirrored org: the store implements it, tests use ``InMemoryOrg``."""

    def records(self, object_type: ObjectType) -> Iterable[Record]:
        """Every live record of one type (streamed; do not assume it fits in a list)."""
        ...

    def records_by_id(self, object_type: ObjectType, ids: Collection[str]) -> Iterable[Record]:
        """The live records of one type among ``ids`` (looked up, not scanned: for a few records)."""
        ...

    def sla_suspects(
        self, object_type: ObjectType, closed: Collection[str], acting_owners: Collection[str], recheck: Collection[str]
    ) -> Iterable[Lead | Opportunity]:
        """Open leads or opportunities that may have breached an SLA, narrowed where the data lives.

        Open means the status or stage is not in ``closed`` (nor is the deal flagged closed). The result
        holds every open record with no stage or status change and no completed task after it was created,
        every open record not owned by one of ``acting_owners`` (ids of active users and queues), and every
        open record in ``recheck`` (ids whose SLA clock restarted later); it may hold more (the rule
        re-checks each one).
        """
        ...

    def owners(self) -> Mapping[str, Owner]:
        """Users and queues by id."""
        ...

    def last_activity_of(self, record_ids: Collection[str]) -> Mapping[str, datetime]:
        """Latest completed task about each of ``record_ids`` (as what_id or who_id), for narrowed candidates."""
        ...

    def calls(self) -> Calls:
        """Call tasks per record they are about (``what_id``), gathered once, not per record."""
        ...

    def open_tasks(self, due_before: date) -> Iterable[Task]:
        """The open tasks due before ``due_before`` (streamed)."""
        ...

    def gate_suspects(self, gates: Mapping[str, tuple[Sequence[str], float | None]]) -> Iterable[Opportunity]:
        """Open opportunities that may break a stage gate, narrowed where the data lives.

        ``gates`` maps an open stage to its required fields and its fixed probability (None: not checked).
        The result holds every deal in such a stage with a required field blank or another probability,
        and every deal in a stage not named there; it may hold more (the rule re-checks each one).
        """
        ...

    def unmoved_opportunities(self, before: datetime) -> Iterable[Opportunity]:
        """Open opportunities whose stage last changed (never changed: were created) at or before ``before``."""
        ...


@dataclass(frozen=True)
class History:
    """What earlier runs did, from the ledger: rules need it to escalate and to share work fairly."""

    reassignments: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """(rule id, record id) -> applied reassignments so far."""
    last_reassigned: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    """(rule id, record id) -> when the latest reassignment was applied."""
    assigned_today: Mapping[str, int] = field(default_factory=dict)
    """Owner id -> records assigned to them by any rule since the start of the day."""
    taken_apart: Collection[str] = frozenset()
    """Accounts of merges an admin asked ``warden dedupe undo`` to take back: never merged unattended again."""


@dataclass(frozen=True)
class RuleContext:
    policy: Policy
    calendar: BusinessCalendar
    now: datetime
    owners: Mapping[str, Owner]
    history: History = History()
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
