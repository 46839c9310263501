"""The connector interface: what CRM Warden needs from a CRM, and nothing more.

It is split into small protocols by what the caller does with it: the mirror only reads, apply
only writes, dedupe merges and restores, recovery fetches records by id to see what the CRM
holds. A concrete connector (local, Salesforce, HubSpot) implements all of them and is checked by
shape, not by inheritance.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from domain.inspection import OrgFacts
from domain.records import ObjectType, Owner, Record, StageChange, TaskPriority, TaskType


@dataclass(frozen=True, slots=True)
class RecordUpdate:
    """Set normalized fields (``owner_id``, ``stage``, ``status``...) on one record."""

    key: str
    """The ledger's idempotency key of the action this update carries out."""
    object_type: ObjectType
    record_id: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to create. ``key`` is stored with the task so a retried create finds it again."""

    key: str
    subject: str
    owner_id: str
    due_date: date
    task_type: TaskType = TaskType.TODO
    priority: TaskPriority = TaskPriority.NORMAL
    description: str = ""
    what_id: str | None = None
    who_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewLead:
    """A lead to create. ``key`` names the person, so a retried create finds the lead made the first time."""

    key: str
    name: str
    email: str
    company: str | None
    owner_id: str | None
    """A queue or a user; None: the CRM's default (no owner where the CRM allows it)."""
    status: str | None
    description: str
    lead_source: str | None = None


@dataclass(frozen=True, slots=True)
class TaskDeletion:
    """A task to delete, under the idempotency key of the action that deletes it."""

    key: str
    task_id: str


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The CRM's answer for one record of a batch write."""

    key: str
    ok: bool
    record_id: str | None = None
    error: str | None = None
    """What the CRM said, naming the record, e.g. ``INVALID_CROSS_REFERENCE_KEY on 006...: ...``."""


@dataclass(frozen=True, slots=True)
class MergeResult:
    master_id: str
    merged_ids: tuple[str, ...]
    ok: bool = True
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything needed to put a record and its children back as they were.

    ``data`` is the record in the CRM's own field names (what a restore writes back);
    ``children`` maps a child object type to the child records that point at this one.
    """

    object_type: ObjectType
    record_id: str
    data: dict[str, Any]
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class ApiUsage:
    """API calls a connector spent, by kind: ``read``, ``write``, ``merge``, ``other``."""

    calls: dict[str, int] = field(default_factory=dict)
    daily_limit: int | None = None
    daily_remaining: int | None = None

    def count(self, kind: str, n: int = 1) -> None:
        self.calls[kind] = self.calls.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def as_dict(self) -> dict[str, int]:
        return {"total": self.total, **dict(sorted(self.calls.items()))}


@runtime_checkable
class CountsCalls(Protocol):
    """Anything that counts the API calls it makes (every connector; a sync's progress shows its pages)."""

    usage: ApiUsage


@runtime_checkable
class Reader(Protocol):
    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        """Yield records of one type changed at or after ``since`` (all when None), oldest first.

        Deleted and merged-away records come back with ``deleted=True`` so the mirror forgets them.
        """
        ...

    def owners(self) -> list[Owner]:
        """Every user and queue, active or not."""
        ...


def reading_traits(reader: object) -> tuple[bool, bool]:
    """A reader's optional ``(first_sync_in_change_order, reads_over_network)`` flags, True when absent.

    A connector whose first sync lists records in id order (HubSpot) sets the first False, so that only
    a finished first sync sets the watermark. One that reads in its own process (the embedded CRM) sets
    the second False: a read-ahead thread would only contend with the writer for the GIL. Wrappers copy
    both from what they wrap.
    """
    return getattr(reader, "first_sync_in_change_order", True), getattr(reader, "reads_over_network", True)


@runtime_checkable
class ReadsAhead(Protocol):
    def read_ahead(self, since: Mapping[ObjectType, datetime | None],
                   history_since: Mapping[ObjectType, datetime | None]) -> None:
        """Fetch the first pages a sync will read (owners, changes, stage history) in as few calls as possible.

        Salesforce answers five queries in one ``composite`` call; the sync then reads them from memory.
        """
        ...


@runtime_checkable
class KeepsState(Protocol):
    """A reader that remembers, between syncs, what saves it calls: lists it need not re-read every time."""

    def saved_state(self) -> dict[str, Any]:
        """What to hand back at the next sync of this connection (JSON-ready); kept only after a whole sync."""
        ...

    def resume_state(self, state: Mapping[str, Any]) -> None:
        """Take back what ``saved_state`` returned after the connection's last complete sync."""
        ...


@runtime_checkable
class HistoryReader(Protocol):
    """A CRM that keeps each record's stage history (optional: the mirror records changes it sees anyway)."""

    def iter_stage_history(self, object_type: ObjectType, since: datetime | None) -> Iterator[StageChange]:
        """Yield the stage (status) and forecast changes recorded at or after ``since``, oldest first."""
        ...


@runtime_checkable
class Writer(Protocol):
    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        """Apply updates in as few calls as the CRM allows; one result per update, in order."""
        ...

    def delete_tasks(self, tasks: Sequence[TaskDeletion]) -> list[WriteResult]:
        """Delete tasks (into the CRM's recycle bin where it has one); a task already gone counts as deleted."""
        ...

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        """Create tasks, skipping any whose key the CRM already holds; one result per task."""
        ...


@runtime_checkable
class LeadCreator(Protocol):
    def create_leads(self, leads: Sequence[NewLead]) -> list[WriteResult]:
        """Create leads; one whose email the CRM already holds as a lead gives that lead instead of a second."""
        ...


@runtime_checkable
class Merger(Protocol):
    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        ...

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        ...

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        """Re-create or reset the snapshotted records and move their children back."""
        ...


@runtime_checkable
class Fetcher(Protocol):
    def fetch(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        """The records behind these ids as the CRM holds them now, keyed by the id asked for.

        Read in as few calls as the CRM allows (many ids per call). A deleted or unknown id is left
        out; an id merged into another record gives the survivor, whose ``id`` differs from the key.
        """
        ...


@runtime_checkable
class Connector(Reader, Writer, Merger, Fetcher, CountsCalls, Protocol):
    """A whole CRM: read, write, merge, fetch by id, and count what it spent."""

    name: str


@runtime_checkable
class TaskKeyCheck(Protocol):
    """A CRM whose tasks need a field made for our idempotency keys before a run may create any."""

    def task_key_problem(self) -> str | None:
        """None when tasks can carry our idempotency key; else one line: what is missing and the exact fix."""
        ...


@runtime_checkable
class Inspector(TaskKeyCheck, Protocol):
    """What ``warden doctor`` and ``warden policy init`` ask of a CRM: its metadata, and the task key field."""

    def inspect(self) -> OrgFacts:
        """The org's stages, statuses, picklist values, fields, permissions and API budget."""
        ...

    def create_task_key(self) -> str:
        """Create the task key field (property); say what was done, or raise ``FatalConnectorError`` with the steps."""
        ...


class RecordLinks(Protocol):
    """Turns a record into the URL that opens it in its CRM (None: the CRM has no web page for it)."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        """The address of one record's page."""
        ...


class NoLinks:
    """Record links of a CRM without web pages (or whose address is not configured): items show record ids."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoLinks)

    def __hash__(self) -> int:
        return hash(NoLinks)
