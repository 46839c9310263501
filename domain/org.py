"""The org's data as rules read it: a read-only view of the mirror, and what earlier runs did.

The store implements ``OrgData`` over the mirror; rule tests pass an in-memory double.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from domain.records import Lead, ObjectType, Opportunity, Owner, Record, Task


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
    """(rule id, record id) -> when the latest reassignment was applied, in the time of the run that applied it."""
    assigned_today: Mapping[str, int] = field(default_factory=dict)
    """Owner id -> records assigned to them by any rule since the start of the day."""
    assigned_recently: Mapping[str, int] = field(default_factory=dict)
    """Owner id -> records assigned to them by any rule in the policy's rotation window (round-robin load)."""
    taken_apart: Collection[str] = frozenset()
    """Accounts of merges an admin asked ``warden dedupe undo`` to take back: never merged unattended again."""
