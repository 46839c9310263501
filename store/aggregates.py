"""Per-run aggregates and narrowed reads over the mirror, each one SQL query.

Rules must not re-scan tasks for each record, nor decode a million records to keep a few: these
queries group tasks once per run, and let the database drop the records a rule could never flag
(completed tasks, tasks not yet due, deals that moved recently) before Python sees them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Result,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.sql.util import ClauseAdapter

from domain.org import Calls
from domain.records import Lead, ObjectType, Opportunity, Task, TaskStatus, TaskType
from store.ingest import ID_SEPARATOR, split_text
from store.json_text import json_text
from store.models import LeadRow, MirrorRow, OpportunityRow, TaskRow

_YIELD_PER = 2000
_IDS_PER_QUERY = 5000
"""Ids bound in one IN list: under both databases' parameter limits (SQLite 32,766, PostgreSQL 65,535)."""
_PROBABILITY_TOLERANCE = 1e-9
_OPPORTUNITY_COLUMNS = frozenset(f.name for f in dataclasses.fields(Opportunity)) - {"extra", "deleted"}
RecordT = TypeVar("RecordT", bound=Task | Opportunity | Lead)
_Row = TypeVarTuple("_Row")


def whole_table_filter(connection: str, row: type[MirrorRow] = TaskRow) -> ColumnElement[bool]:
    """The connection filter, written so that SQLite scans the table once when a query reads most of it.

    Every mirror index starts with ``connection``; walking one costs a lookup per row, ~10x a plain scan.
    PostgreSQL gets the plain filter: it chooses scans by its statistics, which the disguise would hide
    (it then guessed 0.5% of the tasks and sorted them to group them, 30% slower than hashing).
    """
    return _Unindexed(row.connection) == connection


class _Unindexed(FunctionElement[str]):
    """A column as SQLite cannot look it up through an index (``column || ''``), else as it is."""

    inherit_cache = True
    type = String()


@compiles(_Unindexed)
def _as_is(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Unindexed, "sqlite")
def _no_index(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} || '')"


def id_chunks(ids: Collection[str]) -> Iterator[list[str]]:
    """``ids`` sorted and cut into lists of at most ``_IDS_PER_QUERY``, one IN list each."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IDS_PER_QUERY):
        yield ordered[start : start + _IDS_PER_QUERY]


def one_of(session: Session, column: ColumnElement[Any] | InstrumentedAttribute[Any],
           ids: Sequence[str] | Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids``, the ids as one parameter: an array on PostgreSQL, a JSON array SQLite splits (``json_each``).

    As thousands of parameters, each is named, rendered and bound in Python every time: psycopg rewrites each
    ``%(name)s`` of a statement, uncached for long ones (10 ms per 2,000 ids), and SQLAlchemy spent 5 ms rendering a
    lookup of 5,000 ids on SQLite, 0.4 s of a scheduled run. Both databases still look each id up in the index.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(_postgres_array(column, ids))
    listed = func.json_each(bindparam(None, json_text(list(ids)), type_=String)).table_valued("value")
    return column.in_(select(listed.c.value))


def _postgres_array(column: ColumnElement[Any] | InstrumentedAttribute[Any],
                    ids: Sequence[str] | Sequence[int]) -> ColumnElement[Any]:
    """``ids`` as one array parameter, sent as one text that the server casts (integers) or splits (texts).

    psycopg dumps a list element by element in Python: a third of a second of a scheduled run at the bench's full
    size, for the ids of the records that changed and of the ledger's rows it closed. Texts the server could not
    split back (``store.ingest.split_text``) go as a list.
    """
    if isinstance(column.type, Integer) and all(type(i) is int for i in ids):
        return cast(bindparam(None, "{" + ",".join(map(str, ids)) + "}", type_=String), ARRAY(Integer))
    joined = None if isinstance(column.type, Integer) else split_text(ids)
    if joined is not None:
        return func.string_to_array(bindparam(None, joined, type_=String), literal(ID_SEPARATOR, String),
                                    type_=ARRAY(String))
    return bindparam(None, list(ids), type_=ARRAY(column.type))


def _execute(session: Session, stmt: TypedReturnsRows[*_Row]) -> Result[*_Row]:
    """Run ``stmt`` as a plain Core statement: rows of values, without the ORM's result machinery (a third less CPU)."""
    return session.connection().execute(stmt)


def calls(session: Session, connection: str) -> Calls:
    """Latest completed call and whether one is scheduled, per record it is about (``what_id``): one pass."""
    completed = case((TaskRow.status == TaskStatus.COMPLETED, TaskRow.completed_at))
    scheduled = case((TaskRow.status == TaskStatus.OPEN, 1), else_=0)
    stmt = (
        select(TaskRow.what_id, func.max(completed), func.max(scheduled))
        .where(whole_table_filter(connection), TaskRow.task_type == TaskType.CALL, TaskRow.what_id.is_not(None))
        .group_by(TaskRow.what_id)
    )
    last_completed: dict[str, datetime] = {}
    open_calls: set[str] = set()
    for about, done, planned in _execute(session, stmt):
        if about is None:  # the query leaves these out
            continue
        if done is not None:
            last_completed[about] = done
        if planned:
            open_calls.add(about)
    return Calls(last_completed, open_calls)


def last_activity_of(session: Session, connection: str, record_ids: Collection[str]) -> dict[str, datetime]:
    """Latest completed task about each of ``record_ids`` (as ``what_id`` or ``who_id``), by index lookups."""
    latest: dict[str, datetime] = {}
    for chunk in id_chunks(record_ids):
        for about in (TaskRow.what_id, TaskRow.who_id):
            stmt = (
                select(about, func.max(TaskRow.completed_at))
                .where(TaskRow.connection == connection, one_of(session, about, chunk),
                       TaskRow.status == TaskStatus.COMPLETED)
                .group_by(about)
            )
            for record_id, done in _execute(session, stmt):
                if record_id and done and (record_id not in latest or latest[record_id] < done):
                    latest[record_id] = done
    return latest


def open_tasks(session: Session, connection: str, due_before: date) -> Iterator[Task]:
    """Stream the open tasks due before ``due_before``."""
    due = and_(TaskRow.status == TaskStatus.OPEN, TaskRow.due_date < due_before)
    return _stream(session, connection, TaskRow, Task, due)


def unmoved_opportunities(session: Session, connection: str, before: datetime) -> Iterator[Opportunity]:
    """Stream the open opportunities whose stage last changed (never changed: were created) at or before ``before``."""
    unmoved = or_(
        OpportunityRow.stage_changed_at <= before,
        and_(OpportunityRow.stage_changed_at.is_(None), OpportunityRow.created_at <= before),
    )
    return _stream(session, connection, OpportunityRow, Opportunity, and_(OpportunityRow.is_closed.is_(False), unmoved),
                   whole_table=True)


def gate_suspects(
    session: Session, connection: str, gates: Mapping[str, tuple[Sequence[str], float | None]]
) -> Iterator[Opportunity]:
    """Stream the open opportunities that may break a stage gate (see ``OrgData.gate_suspects``)."""
    stage = OpportunityRow.stage
    suspect: list[ColumnElement[bool]] = [stage.is_(None), stage.not_in(list(gates))]
    for name, (required, probability) in gates.items():
        broken = [_blank(field) for field in required]
        if probability is not None:
            broken.append(and_(OpportunityRow.probability.is_not(None),
                               func.abs(OpportunityRow.probability - probability) > _PROBABILITY_TOLERANCE))
        if broken:
            suspect.append(and_(stage == name, or_(*broken)))
    return _stream(session, connection, OpportunityRow, Opportunity,
                   and_(OpportunityRow.is_closed.is_(False), or_(*suspect)), whole_table=True)


def sla_suspects(
    session: Session,
    connection: str,
    object_type: ObjectType,
    closed: Collection[str],
    acting_owners: Collection[str],
    recheck: Collection[str],
) -> Iterator[Lead | Opportunity]:
    """Stream the open leads or opportunities that may have breached an SLA (see ``OrgData.sla_suspects``).

    Most open records were acted on long ago; testing that here (a stage change, or a completed task
    found through the tasks' ``what_id``/``who_id`` indexes) spares decoding them.
    """
    row: type[LeadRow | OpportunityRow] = LeadRow if object_type is ObjectType.LEAD else OpportunityRow
    record: type[Lead | Opportunity] = Lead if object_type is ObjectType.LEAD else Opportunity
    is_open = open_records(object_type, closed)
    again = set(recheck)
    for found in _stream(session, connection, row, record, and_(is_open, sla_suspect(object_type, acting_owners)),
                         whole_table=True):
        if found.id not in again:
            yield found
    for chunk in id_chunks(again):
        yield from _stream(session, connection, row, record, and_(is_open, one_of(session, row.id, chunk)))


def sla_suspect(object_type: ObjectType, acting_owners: Collection[str]) -> ColumnElement[bool]:
    """A lead or opportunity whose owner is not acting, or who never acted on it since it was created."""
    row: type[LeadRow | OpportunityRow] = LeadRow if object_type is ObjectType.LEAD else OpportunityRow
    changed = LeadRow.status_changed_at if object_type is ObjectType.LEAD else OpportunityRow.stage_changed_at
    acted = or_(and_(changed.is_not(None), changed > row.created_at), _completed_after_creation(row, TaskRow.what_id),
                _completed_after_creation(row, TaskRow.who_id))
    return or_(row.owner_id.is_(None), row.owner_id.not_in(list(acting_owners)), not_(acted))


def _completed_after_creation(
    row: type[LeadRow | OpportunityRow], about: InstrumentedAttribute[str | None]
) -> ColumnElement[bool]:
    return exists().where(TaskRow.connection == row.connection, about == row.id,
                          TaskRow.status == TaskStatus.COMPLETED, TaskRow.completed_at > row.created_at)


def _blank(field: str) -> ColumnElement[bool]:
    """``field`` (a column, else a key of ``extra``) is null, or text that is only whitespace."""
    column: ColumnElement[Any]
    if field in _OPPORTUNITY_COLUMNS:
        column = getattr(OpportunityRow, field)
        if not isinstance(column.type, String):
            return column.is_(None)
    else:
        column = OpportunityRow.extra[field].as_string()
    return or_(column.is_(None), func.trim(column) == "")


def _stream(
    session: Session,
    connection: str,
    row: type[MirrorRow],
    record: type[RecordT],
    where: ColumnElement[bool],
    *,
    whole_table: bool = False,
) -> Iterator[RecordT]:
    """Stream the records of ``row`` matching ``where``; ``whole_table`` when the filter keeps no index useful."""
    columns: list[Any] = [getattr(row, f.name) for f in dataclasses.fields(record) if f.name != "deleted"]
    mine = whole_table_filter(connection, row) if whole_table else row.connection == connection
    stmt = select(*columns).where(mine, where)
    for values in _execute(session, stmt.execution_options(yield_per=_YIELD_PER)):
        yield record(*values)


def calls_about(session: Session, connection: str, record_ids: Collection[str]) -> Calls:
    """``calls`` for the records in ``record_ids`` only, by index lookups."""
    completed = case((TaskRow.status == TaskStatus.COMPLETED, TaskRow.completed_at))
    scheduled = case((TaskRow.status == TaskStatus.OPEN, 1), else_=0)
    last_completed: dict[str, datetime] = {}
    open_calls: set[str] = set()
    for chunk in id_chunks(record_ids):
        stmt = (
            select(TaskRow.what_id, func.max(completed), func.max(scheduled))
            .where(TaskRow.connection == connection, one_of(session, TaskRow.what_id, chunk),
                   TaskRow.task_type == TaskType.CALL)
            .group_by(TaskRow.what_id)
        )
        for about, done, planned in _execute(session, stmt):
            if about is None:  # the query leaves these out
                continue
            if done is not None:
                last_completed[about] = done
            if planned:
                open_calls.add(about)
    return Calls(last_completed, open_calls)


def among(session: Session, connection: str, row: type[MirrorRow], record: type[RecordT], ids: Collection[str],
          where: ColumnElement[bool]) -> Iterator[RecordT]:
    """Stream the records of ``row`` among ``ids`` that match ``where`` (looked up by id).

    The records are looked up by id first and ``where`` applies to those alone: left to choose, both
    databases plan ``where`` through an index (open tasks, by status) and scan far more rows.
    """
    names = [f.name for f in dataclasses.fields(record) if f.name != "deleted"]
    for chunk in id_chunks(ids):
        picked = (select(row).where(row.connection == connection, one_of(session, row.id, chunk))
                  .cte("picked").prefix_with("MATERIALIZED"))
        stmt = select(*(picked.c[n] for n in names)).where(ClauseAdapter(picked).traverse(where))
        for values in _execute(session, stmt.execution_options(yield_per=_YIELD_PER)):
            yield record(*values)


def open_records(object_type: ObjectType, closed: Collection[str]) -> ColumnElement[bool]:
    """Open leads or opportunities: status or stage not among ``closed`` (nor a deal flagged closed)."""
    if object_type is ObjectType.LEAD:
        return or_(LeadRow.status.is_(None), LeadRow.status.not_in(list(closed)))
    stage = OpportunityRow.stage
    return and_(or_(stage.is_(None), stage.not_in(list(closed))), OpportunityRow.is_closed.is_(False))


def open_tasks_due_between(session: Session, connection: str, start: date, end: date) -> Iterator[Task]:
    """Stream the open tasks due on or after ``start`` and before ``end``."""
    due = and_(TaskRow.status == TaskStatus.OPEN, TaskRow.due_date >= start, TaskRow.due_date < end)
    return _stream(session, connection, TaskRow, Task, due)


def opportunities_unmoved_between(session: Session, connection: str, after: datetime,
                                  before: datetime) -> Iterator[Opportunity]:
    """Stream the open deals whose stage last changed (never changed: were created) in (after, before].

    Both are ranges of the index on ``(connection, stage_changed_at, created_at)``.
    """
    moved = and_(OpportunityRow.stage_changed_at > after, OpportunityRow.stage_changed_at <= before)
    created = and_(OpportunityRow.stage_changed_at.is_(None), OpportunityRow.created_at > after,
                   OpportunityRow.created_at <= before)
    is_open = OpportunityRow.is_closed.is_(False)
    yield from _stream(session, connection, OpportunityRow, Opportunity, and_(is_open, moved))
    yield from _stream(session, connection, OpportunityRow, Opportunity, and_(is_open, created))


def opportunities_with_partner(session: Session, connection: str, account_ids: Collection[str]) -> set[str]:
    """Ids of the open opportunities whose channel partner is one of ``account_ids``."""
    found: set[str] = set()
    for chunk in id_chunks(account_ids):
        stmt = select(OpportunityRow.id).where(OpportunityRow.connection == connection,
                                               one_of(session, OpportunityRow.partner_account_id, chunk),
                                               OpportunityRow.is_closed.is_(False))
        found.update(_execute(session, stmt).scalars())
    return found
