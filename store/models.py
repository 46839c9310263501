"""Declarative models: the mirror of each CRM connection's records, and the ledger of what runs did.

Mirror tables have one typed column per field of the matching record in ``domain.records``
(``deleted`` excepted: deleted records leave the mirror) and the primary key (connection, id), so
one database can mirror several CRMs. Ledger tables record runs, findings, skips, actions, the
idempotency claims that make apply exactly-once, merge snapshots and sync watermarks.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from domain.records import ObjectType, TaskPriority, TaskStatus, TaskType
from store.db import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class MirrorRow(Base):
    """Columns every mirrored record has: which connection it came from and its CRM id.

    The pair is the record's key, kept by a unique index rather than a primary key: a first sync
    into an empty table writes it without the index and builds the index at the end
    (``store.bulk_indexes``), which SQLite allows for an index but not for a primary key.
    """

    __abstract__ = True
    connection: Mapped[str] = mapped_column(String, sort_order=-2)
    id: Mapped[str] = mapped_column(String, sort_order=-1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        table = cls.__table__
        return {"primary_key": [table.c.connection, table.c.id]}


def _key_index(table: str) -> Index:
    """The unique index on ``(connection, id)`` of a mirror table."""
    return Index(f"uq_{table}_connection_id", "connection", "id", unique=True)


def _mirror_indexes(table: str, *columns: str) -> tuple[Index, ...]:
    """A mirror table's key, and an index on ``(connection, column)`` for each of ``columns``."""
    return (_key_index(table), *(Index(f"ix_{table}_{column}", "connection", column) for column in columns))


class OwnerRow(MirrorRow):
    __tablename__ = "owners"
    __table_args__ = _mirror_indexes("owners")
    name: Mapped[str]
    email: Mapped[str | None]
    active: Mapped[bool]
    is_queue: Mapped[bool]
    manager_id: Mapped[str | None]
    time_zone: Mapped[str | None]
    updated_at: Mapped[datetime | None]


class AccountRow(MirrorRow):
    __tablename__ = "accounts"
    __table_args__ = _mirror_indexes("accounts", "updated_at", "owner_id")
    name: Mapped[str]
    owner_id: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    website: Mapped[str | None]
    phone: Mapped[str | None]
    billing_city: Mapped[str | None]
    billing_postcode: Mapped[str | None]
    billing_country: Mapped[str | None]
    account_type: Mapped[str | None]
    extra: Mapped[dict[str, Any]]


class ContactRow(MirrorRow):
    __tablename__ = "contacts"
    __table_args__ = _mirror_indexes("contacts", "updated_at", "account_id")
    name: Mapped[str]
    account_id: Mapped[str | None]
    owner_id: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    email: Mapped[str | None]
    phone: Mapped[str | None]


class LeadRow(MirrorRow):
    __tablename__ = "leads"
    __table_args__ = _mirror_indexes("leads", "updated_at", "owner_id")
    name: Mapped[str]
    company: Mapped[str | None]
    owner_id: Mapped[str | None]
    status: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    status_changed_at: Mapped[datetime | None]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    extra: Mapped[dict[str, Any]]


class OpportunityRow(MirrorRow):
    __tablename__ = "opportunities"
    __table_args__ = (
        *_mirror_indexes("opportunities", "updated_at", "owner_id", "account_id", "partner_account_id"),
        # Deals whose stage never changed are found by when they were created (stale deals' clock).
        Index("ix_opportunities_stage_changed_at_created_at", "connection", "stage_changed_at", "created_at"),
    )
    name: Mapped[str]
    account_id: Mapped[str | None]
    owner_id: Mapped[str | None]
    stage: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    stage_changed_at: Mapped[datetime | None]
    amount: Mapped[float | None]
    probability: Mapped[float | None]
    close_date: Mapped[date | None]
    is_closed: Mapped[bool]
    is_won: Mapped[bool]
    pipeline: Mapped[str | None]
    partner_account_id: Mapped[str | None]
    extra: Mapped[dict[str, Any]]


class TaskRow(MirrorRow):
    __tablename__ = "tasks"
    __table_args__ = _mirror_indexes("tasks", "updated_at", "what_id", "who_id", "owner_id", "status")
    subject: Mapped[str]
    owner_id: Mapped[str | None]
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus))
    task_type: Mapped[TaskType] = mapped_column(_enum(TaskType))
    priority: Mapped[TaskPriority] = mapped_column(_enum(TaskPriority))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    due_date: Mapped[date | None]
    completed_at: Mapped[datetime | None]
    what_id: Mapped[str | None]
    who_id: Mapped[str | None]
    description: Mapped[str | None] = mapped_column(Text)


class NoteRow(MirrorRow):
    __tablename__ = "notes"
    __table_args__ = _mirror_indexes("notes", "updated_at", "parent_id")
    parent_id: Mapped[str]
    title: Mapped[str]
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StageHistoryRow(Base):
    """A lead's status or an opportunity's stage and forecast from a moment on: what the pipeline reports read.

    ``source`` is ``sync`` for a change the mirror saw between two syncs (dated by the record's own
    stage-change time when it has one) or ``crm`` for the CRM's own history.
    """

    __tablename__ = "stage_history"
    __table_args__ = (  # the unique index also serves the reads by record (connection, object, record_id)
        Index("uq_stage_history_change", "connection", "object", "record_id", "entered_at", "stage", "source",
              unique=True),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection: Mapped[str]
    object: Mapped[str]
    record_id: Mapped[str]
    entered_at: Mapped[datetime]
    stage: Mapped[str | None]
    amount: Mapped[float | None]
    close_date: Mapped[date | None]
    source: Mapped[str] = mapped_column(String(8))


class ActivityRow(MirrorRow):
    """One scored activity (``domain.activities.Activity``), read from the CRM or imported from a CSV file."""

    __tablename__ = "activities"
    __table_args__ = _mirror_indexes("activities", "occurred_at")
    activity_type: Mapped[str]
    occurred_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    email: Mapped[str | None]
    name: Mapped[str | None]
    company: Mapped[str | None]
    person_id: Mapped[str | None]
    detail: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str]


MIRROR_ROWS: dict[ObjectType, type[MirrorRow]] = {
    ObjectType.OWNER: OwnerRow,
    ObjectType.ACCOUNT: AccountRow,
    ObjectType.CONTACT: ContactRow,
    ObjectType.LEAD: LeadRow,
    ObjectType.OPPORTUNITY: OpportunityRow,
    ObjectType.TASK: TaskRow,
    ObjectType.NOTE: NoteRow,
}


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_started_at", "started_at"), Index("ix_runs_recorded", "recorded", unique=True))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job: Mapped[str]
    connection: Mapped[str]
    dry_run: Mapped[bool]
    now: Mapped[datetime]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str]
    """running, finished, failed or stopped."""
    summary: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)
    recorded: Mapped[int | None]
    """The run's place in the ledger's order of recording (None: it recorded no findings nor plan)."""
    rules: Mapped[list[str] | None] = mapped_column(JSON)
    """The rules whose findings (and plan) the run recorded; a rule missing had no say (it failed)."""


def _run_id() -> Mapped[str]:
    return mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)


OPEN_ROWS = "closed IS NULL AND opened IS NOT NULL"
"""The interval rows open now (``FindingRow``); an applying run's own actions have no interval."""


def _open_by_record(table: str) -> Index:
    """The open rows of a rule by record: what a run that carried its judgments forward replaces (``store.ledger``)."""
    return Index(f"ix_{table}_open_by_record", "connection", "rule", "record_id",
                 sqlite_where=text(OPEN_ROWS), postgresql_where=text(OPEN_ROWS))


APPLIED_ROWS = "status = 'applied'"
"""The actions a run applied in the CRM: a few among the millions planned, indexed apart (``ix_actions_applied``)."""


class FindingRow(Base):
    """One finding for as long as it stays the same, not one per run.

    A row lasts from the run that first recorded it (``opened``) to the first run of its rule that no
    longer had it (``closed``; None while it is open). A run's findings are the rows of its rules open at
    its place in the order of recording (``RunRow.recorded``), so a scheduled run writes what changed, not
    every finding it carries forward.
    """

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_record_id_rule", "record_id", "rule"),
                      Index("ix_findings_connection_rule_closed", "connection", "rule", "closed"),
                      _open_by_record("findings"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = _run_id()
    """The run that first recorded the finding."""
    connection: Mapped[str]
    rule: Mapped[str]
    object: Mapped[str]
    record_id: Mapped[str]
    owner_id: Mapped[str | None]
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]]
    fingerprint: Mapped[str | None]
    """A digest of what the finding says, to tell a run's findings that are unchanged (None: recorded before)."""
    opened: Mapped[int]
    closed: Mapped[int | None]


class SkipRow(Base):
    """A record a rule could not judge, and why: kept as findings are (``FindingRow``), one row while it stays so.

    A run that reverts merges records rows of its own (no ``opened``), as rows recorded before skips were kept as
    intervals are.
    """

    __tablename__ = "skips"
    __table_args__ = (Index("ix_skips_connection_rule_closed", "connection", "rule", "closed"),
                      _open_by_record("skips"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = _run_id()
    """The run that first recorded the skip."""
    rule: Mapped[str]
    object: Mapped[str]
    record_id: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    connection: Mapped[str | None]
    """The kept rows only (None: the row is its run's own), as are the three below."""
    fingerprint: Mapped[str | None]
    opened: Mapped[int | None]
    closed: Mapped[int | None]


OWN_ROWS = "opened IS NULL"
"""The action rows a run records of its own, to claim and mark (``store.recorded.OWN_ACTIONS``)."""


def _own_actions_index(name: str, *columns: str) -> Index:
    """An index of the actions runs recorded of their own: the few an applying run claims, never the plan runs share.

    The shared plan's rows are written and closed by the ten thousand every scheduled run at the bench's full size,
    and each index they enter costs each of those writes a lookup of its own: on PostgreSQL, a row's write and its
    closing took about twice as long with ``key`` and ``(rule, record_id, status)`` over every row (a ``psql`` test of
    13,000 of each). What reads by key or by record reads runs' own rows (claims, merges and their undos).

    On PostgreSQL the predicate also says the leading column is not null (it never is): the planner then takes the
    index only for a read that compares that column. With no own rows left alive (their runs deleted, not yet
    vacuumed) it costs every index of own rows at nothing, and took the key's for a read by rule, walking it whole
    (97 ms). SQLite proves no such term from a comparison with a bound parameter, and does not need it.
    """
    return Index(name, *columns, sqlite_where=text(OWN_ROWS),
                 postgresql_where=text(f"{OWN_ROWS} AND {columns[0]} IS NOT NULL"))


class ActionRow(Base):
    """An action a run planned, with what became of it.

    Every run's plan is kept as findings are (``FindingRow``): one row, shared by the runs of its rule,
    while an action stays planned the same, from the run that first planned it (``opened``) to the first
    run of its rule without it (``closed``); these rows are never claimed. A run that applies also records
    a row of its own (no ``opened``) for each action no run has applied yet, which it claims and marks.
    """

    __tablename__ = "actions"
    __table_args__ = (_own_actions_index("ix_actions_own_rule_record_id_status", "rule", "record_id", "status"),
                      _own_actions_index("ix_actions_own_key", "key"),
                      Index("ix_actions_connection_rule_closed", "connection", "rule", "closed"),
                      _open_by_record("actions"),
                      Index("ix_actions_applied", "kind", "updated_at", sqlite_where=text(APPLIED_ROWS),
                            postgresql_where=text(APPLIED_ROWS)))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = _run_id()
    """The run that planned it (for the shared plan, the first that did)."""
    key: Mapped[str]
    kind: Mapped[str]
    object: Mapped[str]
    record_id: Mapped[str]
    rule: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str]
    """planned, applied, failed or skipped."""
    error: Mapped[str | None] = mapped_column(Text)
    result_id: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    requires: Mapped[str | None]
    """Key of the action that must be applied first (``Action.requires``), so a resumed run knows."""
    connection: Mapped[str | None]
    """The shared plan only (None: the row is its run's own), as are the three below."""
    fingerprint: Mapped[str | None]
    opened: Mapped[int | None]
    closed: Mapped[int | None]


def applied_actions() -> ColumnElement[bool]:
    """The ``ActionRow`` rows a run applied, read through ``ix_actions_applied``.

    ``APPLIED_ROWS`` is written into the statement, not bound as a parameter: SQLite (and PostgreSQL's generic
    plans) read a partial index only for a condition they can see in the statement's text.
    """
    return ActionRow.status == literal_column("'applied'")


IntervalRow = FindingRow | ActionRow | SkipRow
"""The ledger's rows kept as intervals (``opened`` to ``closed``), shared by the runs between them."""


class ClaimRow(Base):
    """One row per idempotency key: whichever action holds it is the only one allowed to apply it."""

    __tablename__ = "idempotency"
    key: Mapped[str] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(index=True)
    """``planned`` while its holder works on it (or until recovery settles it), then applied or failed."""
    run_id: Mapped[str]
    updated_at: Mapped[datetime]


class SnapshotRow(Base):
    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = _run_id()
    action_key: Mapped[str] = mapped_column(index=True)
    object: Mapped[str]
    record_id: Mapped[str]
    data: Mapped[dict[str, Any]]
    children: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    after_merge: Mapped[dict[str, Any] | None]
    """On a merge's master: its normalized fields just after the merge, so undo can tell what a user changed since."""


class WatermarkRow(Base):
    """Where the next incremental sync of one object type of one connection starts."""

    __tablename__ = "watermarks"
    connection: Mapped[str] = mapped_column(primary_key=True)
    object: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[datetime]
    updated_at: Mapped[datetime]


class SyncMarkRow(Base):
    """When the latest complete sync of one object type of one connection started.

    A sync that started after some moment saw every change made before it: jobs that run together
    (a worker pass, Celery flows fired in the same minute) read the mirror it brought up to date.
    """

    __tablename__ = "sync_marks"
    connection: Mapped[str] = mapped_column(primary_key=True)
    object: Mapped[str] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]


class MirrorChangeRow(Base):
    """One record an incremental sync changed or deleted, in sync order, for the rules that follow change.

    ``object`` is a record type, or ``activity`` for the records a changed task is (or was) about;
    ``record_id`` ``*`` means every record of the type (a first sync, or the owner list changed).
    """

    __tablename__ = "mirror_changes"
    # AUTOINCREMENT: SQLite must never hand out an id again once the log up to it was forgotten
    __table_args__ = (Index("ix_mirror_changes_connection_id", "connection", "id"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection: Mapped[str]
    object: Mapped[str]
    record_id: Mapped[str]


class RuleStateRow(Base):
    """What a rule last concluded about one record, and when its own clock may change that."""

    __tablename__ = "rule_state"
    __table_args__ = (Index("ix_rule_state_connection_rule_recheck_at", "connection", "rule", "recheck_at"),)
    connection: Mapped[str] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(primary_key=True)
    recheck_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None]
    """The record's findings, actions and skips from the rule's latest judgment of it (None: nothing)."""


class RuleMarkRow(Base):
    """Where a rule's incremental evaluation of one connection stands."""

    __tablename__ = "rule_marks"
    connection: Mapped[str] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(primary_key=True)
    now: Mapped[datetime]
    """The clock of the rule's latest evaluation."""
    change_id: Mapped[int]
    """The last ``mirror_changes`` row that evaluation had seen."""
    fingerprint: Mapped[str]
    """The policy and owners it judged by: when they differ, the next evaluation is a full pass."""
    full_at: Mapped[datetime]
    """The clock of the latest full pass."""
    pass_id: Mapped[str | None]
    """The evaluation's own id: the judgments stored are the ones it made (None: made before passes had ids)."""


class RecordedPassRow(Base):
    """Whose judgments a rule's open rows in the ledger are: the pass of the run that recorded them last.

    The next run of the rule that carried that pass's judgments forward records only the records whose
    judgment changed; any other compares everything it has with the open rows (``store.ledger``).
    Deleting the recording run deletes this row too, so the next run compares in full.
    """

    __tablename__ = "recorded_passes"
    connection: Mapped[str] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(primary_key=True)
    kept: Mapped[str] = mapped_column(primary_key=True)
    """``findings``, or ``plan`` for the planned actions."""
    pass_id: Mapped[str]
    run_id: Mapped[str] = _run_id()


class ReaderStateRow(Base):
    """What a connection's connector asked to keep between syncs (``domain.connector.KeepsState``)."""

    __tablename__ = "reader_state"
    connection: Mapped[str] = mapped_column(primary_key=True)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
