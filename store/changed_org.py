"""The mirror as a rule that follows change sees it: only the records it must judge again.

``ChangedOrg`` implements ``domain.org.OrgData`` over the mirror like ``MirrorOrg``, but every
stream holds only the records in ``judge`` (changed since the rule's last run, or due by its
clock), plus those that a threshold in the query itself brought in since then: deals whose
stage has now stood still long enough, tasks whose due date is now in range. Aggregates are read
for those records alone, by index lookups.

``SomeLeads`` is the whole mirror but for the leads, of which it holds only some: the rules that
look leads up among the org's contacts and accounts (routing, leads already in the system) judge
those leads alone, against every contact and account.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from domain.activities import Activity
from domain.org import Calls
from domain.records import Lead, ObjectType, Opportunity, Owner, Record, Task, TaskStatus
from store import aggregates
from store.aggregates import among, open_records
from store.mirror import MirrorOrg, iter_records
from store.models import ContactRow, LeadRow, OpportunityRow, TaskRow


class ChangedOrg:
    """``OrgData`` narrowed to the records in ``judge``, for a rule last evaluated at ``since``."""

    def __init__(self, session: Session, connection: str, judge: Collection[str], since: datetime,
                 now: datetime) -> None:
        self._session, self._connection = session, connection
        self._judge = set(judge)
        self._shift = now - since
        """How far the clock moved since the last run: thresholds passed in that window bring records in."""
        self._days_on = (now.astimezone(UTC).date() - since.astimezone(UTC).date()).days
        """UTC dates the clock moved on since the last run."""
        self._mirror = MirrorOrg(session, connection)

    def records(self, object_type: ObjectType) -> Iterator[Record]:
        return self._mirror.records_by_id(object_type, self._judge)

    def records_by_id(self, object_type: ObjectType, ids: Collection[str]) -> Iterator[Record]:
        return self._mirror.records_by_id(object_type, ids)

    def owners(self) -> dict[str, Owner]:
        return self._mirror.owners()

    def sla_suspects(self, object_type: ObjectType, closed: Collection[str], acting_owners: Collection[str],
                     recheck: Collection[str]) -> Iterator[Lead | Opportunity]:
        """As ``MirrorOrg.sla_suspects``, among the records to judge: the ones acted on are left in the database."""
        row: type[LeadRow | OpportunityRow] = LeadRow if object_type is ObjectType.LEAD else OpportunityRow
        record: type[Lead | Opportunity] = Lead if object_type is ObjectType.LEAD else Opportunity
        is_open = open_records(object_type, closed)
        again = self._judge.intersection(recheck)
        yield from among(self._session, self._connection, row, record, self._judge - again,
                         and_(is_open, aggregates.sla_suspect(object_type, acting_owners)))
        yield from among(self._session, self._connection, row, record, again, is_open)

    def last_activity_of(self, record_ids: Collection[str]) -> dict[str, datetime]:
        return self._mirror.last_activity_of(record_ids)

    def activities(self, since: datetime) -> Iterator[Activity]:
        return self._mirror.activities(since)

    def calls(self) -> Calls:
        return aggregates.calls_about(self._session, self._connection, self._judge)

    def open_tasks(self, due_before: date) -> Iterator[Task]:
        due = and_(TaskRow.status == TaskStatus.OPEN, TaskRow.due_date < due_before)
        seen: set[str] = set()
        for task in among(self._session, self._connection, TaskRow, Task, self._judge, due):
            seen.add(task.id)
            yield task
        earlier = due_before - timedelta(days=self._days_on)  # the bound the last run used
        if earlier < due_before:
            for task in aggregates.open_tasks_due_between(self._session, self._connection, earlier, due_before):
                if task.id not in seen:
                    yield task

    def gate_suspects(self, gates: Mapping[str, tuple[Sequence[str], float | None]]) -> Iterator[Opportunity]:
        return among(self._session, self._connection, OpportunityRow, Opportunity, self._judge,
                     OpportunityRow.is_closed.is_(False))

    def unmoved_opportunities(self, before: datetime) -> Iterator[Opportunity]:
        unmoved = or_(OpportunityRow.stage_changed_at <= before,
                      and_(OpportunityRow.stage_changed_at.is_(None), OpportunityRow.created_at <= before))
        seen: set[str] = set()
        for deal in among(self._session, self._connection, OpportunityRow, Opportunity, self._judge,
                          and_(OpportunityRow.is_closed.is_(False), unmoved)):
            seen.add(deal.id)
            yield deal
        if self._shift > timedelta(0):
            for deal in aggregates.opportunities_unmoved_between(self._session, self._connection,
                                                                 before - self._shift, before):
                if deal.id not in seen:
                    yield deal


class SomeLeads(MirrorOrg):
    """The mirror with only the leads in ``ids``, or that match ``where``, and without the contacts that are leads.

    ``dedupe.lead_match.SystemIndex`` leaves out the contacts that are leads (HubSpot keeps a lead as a
    contact) by the ids of the leads it is given: here they are left out of the contacts instead, so
    that judging some leads sees the same contacts as judging them all.
    """

    def __init__(self, session: Session, connection: str, *, ids: Collection[str] = (),
                 where: ColumnElement[bool] | None = None) -> None:
        super().__init__(session, connection)
        self._ids, self._where = ids, where

    def records(self, object_type: ObjectType) -> Iterator[Record]:
        if object_type is ObjectType.LEAD:
            if self._where is None:
                return self.records_by_id(object_type, self._ids)
            return iter_records(self._session, self._connection, object_type, where=self._where)
        if object_type is ObjectType.CONTACT:
            leads = select(LeadRow.id).where(LeadRow.connection == self._connection)
            return iter_records(self._session, self._connection, object_type, where=ContactRow.id.not_in(leads))
        return iter(super().records(object_type))
