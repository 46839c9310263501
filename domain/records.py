"""Normalized CRM records: the one vocabulary that connectors, the mirror and the rules share.

Every connector translates its CRM's fields into these shapes (``StageName`` and ``dealstage`` both
become ``Opportunity.stage``); nothing downstream knows which CRM a record came from. Records are
frozen, slotted dataclasses rather than pydantic models because the rules walk millions of them.
All datetimes are timezone-aware UTC; dates are plain ``date`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class ObjectType(StrEnum):
    """The kinds of record CRM Warden syncs, in the order a first sync reads them."""

    OWNER = "owner"
    ACCOUNT = "account"
    CONTACT = "contact"
    LEAD = "lead"
    OPPORTUNITY = "opportunity"
    TASK = "task"
    NOTE = "note"


class TaskType(StrEnum):
    CALL = "call"
    EMAIL = "email"
    TODO = "todo"


class TaskPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Owner:
    """A user or queue that can own records. Queues own work nobody has picked up yet."""

    id: str
    name: str
    email: str | None = None
    active: bool = True
    is_queue: bool = False
    manager_id: str | None = None
    time_zone: str | None = None
    updated_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    owner_id: str | None
    created_at: datetime
    updated_at: datetime
    website: str | None = None
    phone: str | None = None
    billing_city: str | None = None
    billing_postcode: str | None = None
    billing_country: str | None = None
    account_type: str | None = None
    """The CRM's own type value (``Customer``, ``Prospect``, ``customer``...); the policy maps it."""
    extra: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    name: str
    account_id: str | None
    owner_id: str | None
    created_at: datetime
    updated_at: datetime
    email: str | None = None
    phone: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Lead:
    id: str
    name: str
    company: str | None
    owner_id: str | None
    status: str | None
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime | None = None
    email: str | None = None
    phone: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Custom fields named in the policy (BANT answers, lead source...)."""
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: str
    name: str
    account_id: str | None
    owner_id: str | None
    stage: str | None
    created_at: datetime
    updated_at: datetime
    stage_changed_at: datetime | None = None
    amount: float | None = None
    probability: float | None = None
    """Percent, 0-100, whatever scale the CRM uses."""
    close_date: date | None = None
    is_closed: bool = False
    is_won: bool = False
    pipeline: str | None = None
    partner_account_id: str | None = None
    """The channel partner working the deal, if any."""
    extra: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    subject: str
    owner_id: str | None
    status: TaskStatus
    task_type: TaskType
    priority: TaskPriority
    created_at: datetime
    updated_at: datetime
    due_date: date | None = None
    completed_at: datetime | None = None
    what_id: str | None = None
    """The account or opportunity the task is about."""
    who_id: str | None = None
    """The lead or contact the task is about."""
    description: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    parent_id: str
    title: str
    body: str | None
    created_at: datetime
    updated_at: datetime
    deleted: bool = False


Record = Owner | Account | Contact | Lead | Opportunity | Task | Note


@dataclass(frozen=True, slots=True)
class StageChange:
    """A lead entering a status, or an opportunity entering a stage or changing its forecast.

    The mirror records one whenever a sync sees a record's stage (status), amount or close date change;
    CRMs that keep their own history (Salesforce ``OpportunityHistory``, HubSpot ``hs_date_entered_*``)
    supply theirs too, with ``from_crm`` set.
    """

    object_type: ObjectType
    record_id: str
    entered_at: datetime
    stage: str | None
    amount: float | None = None
    close_date: date | None = None
    from_crm: bool = False

RECORD_CLASSES: dict[ObjectType, type[Record]] = {
    ObjectType.OWNER: Owner,
    ObjectType.ACCOUNT: Account,
    ObjectType.CONTACT: Contact,
    ObjectType.LEAD: Lead,
    ObjectType.OPPORTUNITY: Opportunity,
    ObjectType.TASK: Task,
    ObjectType.NOTE: Note,
}
