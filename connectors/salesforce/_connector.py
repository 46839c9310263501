"""The Salesforce connector: ``domain.connector.Connector`` over simple-salesforce and the SOAP API.

Reads stream SOQL pages (``nextRecordsUrl``) incrementally by ``SystemModstamp``, through
``queryAll`` so deleted and merged-away records reach the mirror; a first sync of an object whose
first page reports at least ``SALESFORCE_BULK_THRESHOLD`` records switches to a Bulk API 2.0 job.
Writes go 200 per sObject Collections call; merges go through SOAP. Every call is counted in
``usage`` by kind.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import requests
from simple_salesforce.format import format_soql

from connectors._retry import Sleep
from connectors.salesforce._activities import FIELDS as ACTIVITY_FIELDS
from connectors.salesforce._activities import WHERE as ACTIVITY_WHERE
from connectors.salesforce._activities import activity, merged
from connectors.salesforce._auth import Clock, token_source
from connectors.salesforce._bulk import BulkQuery
from connectors.salesforce._client import SalesforceClient
from connectors.salesforce._inspect import SalesforceInspector
from connectors.salesforce._mapping import (
    QUEUE_FIELDS,
    SOBJECTS,
    FieldMap,
    field_map,
    from_csv,
    parse_datetime,
    select_fields,
    to_record,
)
from connectors.salesforce._merge import SoapMerger
from connectors.salesforce._writes import CollectionWriter
from connectors.salesforce.settings import SalesforceSettings
from domain.activities import Activity
from domain.connector import ApiUsage, MergeResult, NewLead, NewTask, RecordUpdate, Snapshot, TaskDeletion, WriteResult
from domain.inspection import OrgFacts
from domain.records import ObjectType, Opportunity, Owner, Record, StageChange

FETCH_BATCH = 200
"""Ids per ``fetch`` query: 200 eighteen-character ids keep the query well inside a URL's length."""
MERGEABLE = (ObjectType.ACCOUNT, ObjectType.CONTACT, ObjectType.LEAD)
"""The objects Salesforce merges, which carry ``MasterRecordId``."""
_RECORD_TYPES = format_soql("SELECT Id, Name FROM RecordType WHERE SobjectType = {o}", o="Opportunity")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SalesforceConnector:
    """A Salesforce org. Build it with ``from_settings``; tests pass ``http``, ``sleep`` and ``page_size``."""

    name: str = "salesforce"

    def __init__(
        self,
        client: SalesforceClient,
        *,
        fields: FieldMap | None = None,
        task_key_field: str,
        bulk_threshold: int = 0,
        api_version: str = "59.0",
    ) -> None:
        self._client = client
        self._bulk = BulkQuery(client, api_version=client.api_version)
        self._bulk_threshold = bulk_threshold
        self.first_sync_in_change_order = bulk_threshold <= 0
        """Bulk results come in no set order: with bulk on, a first sync sets its watermark only once done."""
        self._maps = {object_type: field_map(object_type, fields) for object_type in ObjectType}
        self._writer = CollectionWriter(client, self._maps, task_key_field)
        self._merger = SoapMerger(client, self._maps)
        self._inspector = SalesforceInspector(client, api_version, task_key_field)
        self._record_types: dict[str, str] | None = None
        self._ahead: dict[tuple[str, bool], dict[str, Any]] = {}
        self.usage: ApiUsage = client.usage

    @classmethod
    def from_settings(
        cls,
        settings: SalesforceSettings,
        *,
        fields: FieldMap | None = None,
        http: requests.Session | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = _utc_now,
        page_size: int | None = None,
    ) -> SalesforceConnector:
        """Connect as the settings say; ``fields`` overrides the field map (normalized name -> SF field)."""
        session = http or requests.Session()
        client = SalesforceClient(
            token_source(settings, session, clock),
            http=session,
            api_version=settings.api_version,
            usage=ApiUsage(),
            api_share=settings.api_share,
            sleep=sleep,
            page_size=page_size,
        )
        return cls(client, fields=fields, task_key_field=settings.task_key_field,
                   bulk_threshold=settings.bulk_threshold, api_version=settings.api_version)

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        """Stream records changed at or after ``since``, oldest first; deleted ones with ``deleted=True``."""
        if object_type is ObjectType.OWNER:
            yield from self._owners(since)
            return
        soql, include_deleted = self._changes_query(object_type, since)
        mapping = self._maps[object_type]
        first = self._first_page(soql, include_deleted)
        if since is None and not first["done"] and 0 < self._bulk_threshold <= first["totalSize"]:
            for text_row in self._bulk.rows(soql, include_deleted=False):
                yield self._named_pipeline(to_record(object_type, from_csv(object_type, text_row, mapping), mapping))
            return
        for page in self._client.pages_from(first):
            for row in page:
                yield self._named_pipeline(to_record(object_type, row, mapping))

    def _named_pipeline(self, record: Record) -> Record:
        """An opportunity's pipeline by its record type's name when the map reads it from ``RecordTypeId``."""
        if not isinstance(record, Opportunity) or record.pipeline is None or not self._pipeline_by_record_type():
            return record
        if self._record_types is None:
            pages = self._client.pages_from(self._first_page(_RECORD_TYPES, False))
            self._record_types = {row["Id"]: row["Name"] for page in pages for row in page}
        return dataclasses.replace(record, pipeline=self._record_types.get(record.pipeline, record.pipeline))

    def _pipeline_by_record_type(self) -> bool:
        return self._maps[ObjectType.OPPORTUNITY].get("pipeline") == "RecordTypeId"

    def read_ahead(self, since: Mapping[ObjectType, datetime | None],
                   history_since: Mapping[ObjectType, datetime | None]) -> None:
        """Fetch the first pages a sync reads, five queries to a ``composite`` call.

        The owners, each type's changes, ``OpportunityHistory``, and the opportunity record types when
        pipelines are named by them: a sync that finds nothing changed costs two calls for the whole org.
        """
        queries = [(soql, False) for soql, _ in self._owner_queries(None)]
        queries += [self._changes_query(obj, when) for obj, when in since.items() if obj is not ObjectType.OWNER]
        if ObjectType.OPPORTUNITY in history_since:
            queries.append((_history_soql(history_since[ObjectType.OPPORTUNITY]), False))
        if ObjectType.OPPORTUNITY in since and self._pipeline_by_record_type() and self._record_types is None:
            queries.append((_RECORD_TYPES, False))
        self._ahead.update(self._client.first_pages(queries))

    def _first_page(self, soql: str, include_deleted: bool) -> dict[str, Any]:
        ahead = self._ahead.pop((soql, include_deleted), None)
        return ahead if ahead is not None else self._client.query(soql, include_deleted=include_deleted)

    def _changes_query(self, object_type: ObjectType, since: datetime | None) -> tuple[str, bool]:
        include_deleted = since is not None
        fields = select_fields(object_type, self._maps[object_type], include_deleted)
        return _changed_soql(SOBJECTS[object_type], fields, since), include_deleted

    def iter_stage_history(self, object_type: ObjectType, since: datetime | None) -> Iterator[StageChange]:
        """``OpportunityHistory`` rows created at or after ``since``, oldest first: each stage and forecast change.

        Leads have no such object (their status history needs field history tracking), so none for them.
        """
        if object_type is not ObjectType.OPPORTUNITY:
            return
        rows = (row for page in self._client.pages_from(self._first_page(_history_soql(since), False)) for row in page)
        for row in rows:
            entered = parse_datetime(row["CreatedDate"])
            assert entered is not None
            close = row.get("CloseDate")
            yield StageChange(ObjectType.OPPORTUNITY, row["OpportunityId"], entered, row.get("StageName"),
                              row.get("Amount"), date.fromisoformat(close) if close else None, from_crm=True)

    def owners(self) -> list[Owner]:
        """Every user and queue, active or not."""
        return list(self._owners(None))

    def _owner_queries(self, since: datetime | None) -> list[tuple[str, Mapping[str, str]]]:
        users = self._maps[ObjectType.OWNER]
        return [(_changed_soql(sobject, list(dict.fromkeys(mapping.values())), since, where), mapping)
                for sobject, mapping, where in (("User", users, ""), ("Group", QUEUE_FIELDS, "Type = 'Queue'"))]

    def _owners(self, since: datetime | None) -> Iterator[Owner]:
        for soql, mapping in self._owner_queries(since):
            for page in self._client.pages_from(self._first_page(soql, False)):
                for row in page:
                    owner = to_record(ObjectType.OWNER, row, mapping)
                    assert isinstance(owner, Owner)
                    yield owner

    def fetch(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        """The records behind these ids, 200 per SOQL query (``queryAll``); a merged-away id gives its master.

        Merges in Salesforce delete the losers with ``MasterRecordId`` set; one more query per 200
        such ids reads their masters.
        """
        if object_type is ObjectType.OWNER:
            return {o.id: o for o in self._owners(None) if o.id in set(record_ids)}
        rows = self._rows_by_id(object_type, list(dict.fromkeys(record_ids)))
        mapping = self._maps[object_type]
        found = {i: to_record(object_type, row, mapping) for i, row in rows.items() if not row.get("IsDeleted")}
        merged = {i: row["MasterRecordId"] for i, row in rows.items()
                  if row.get("IsDeleted") and row.get("MasterRecordId")}
        masters = self._rows_by_id(object_type, list(dict.fromkeys(merged.values()))) if merged else {}
        found.update({i: to_record(object_type, masters[m], mapping) for i, m in merged.items()
                      if m in masters and not masters[m].get("IsDeleted")})
        return found

    def _rows_by_id(self, object_type: ObjectType, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        fields = select_fields(object_type, self._maps[object_type], include_deleted=True)
        if object_type in MERGEABLE:
            fields.append("MasterRecordId")
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(record_ids), FETCH_BATCH):
            soql = format_soql("SELECT {fields:literal} FROM {sobject:literal} WHERE Id IN {ids}",
                               fields=", ".join(fields), sobject=SOBJECTS[object_type],
                               ids=record_ids[start : start + FETCH_BATCH])
            rows.update((row["Id"], row) for row in self._client.query_rows(soql, include_deleted=True))
        return rows

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        return self._writer.update(updates)

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        return self._writer.create_tasks(tasks)

    def delete_tasks(self, tasks: Sequence[TaskDeletion]) -> list[WriteResult]:
        return self._writer.delete_tasks(tasks)

    def create_leads(self, leads: Sequence[NewLead]) -> list[WriteResult]:
        return self._writer.create_leads(leads)

    def iter_activities(self, since: datetime | None) -> Iterator[Activity]:
        """Tasks and Events about a lead or contact changed at or after ``since``, oldest change first."""
        return merged([self._activities(sobject, fields, since) for sobject, fields in ACTIVITY_FIELDS.items()])

    def _activities(self, sobject: str, fields: Sequence[str], since: datetime | None) -> Iterator[Activity]:
        for row in self._client.query_rows(_changed_soql(sobject, fields, since, ACTIVITY_WHERE)):
            yield activity(sobject, row)

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        return self._merger.snapshot(object_type, record_ids)

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        return self._merger.merge(object_type, master_id, loser_ids)

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        """Undelete the merged-away records, reset their fields and move their children back."""
        self._merger.restore(snapshots, self._writer)

    def inspect(self) -> OrgFacts:
        return self._inspector.inspect()

    def task_key_problem(self) -> str | None:
        return self._inspector.task_key_problem()

    def create_task_key(self) -> str:
        return self._inspector.create_task_key()

    def refresh_limits(self) -> ApiUsage:
        """Read the org's ``/limits`` (one call) and return the usage with the daily figures filled in."""
        self._client.refresh_limits()
        return self.usage


def _history_soql(since: datetime | None) -> str:
    where = format_soql(" WHERE CreatedDate >= {since}", since=since) if since is not None else ""
    return format_soql("SELECT OpportunityId, StageName, Amount, CloseDate, CreatedDate FROM OpportunityHistory"
                       "{where:literal} ORDER BY CreatedDate, Id", where=where)


def _changed_soql(sobject: str, fields: Sequence[str], since: datetime | None, where: str = "") -> str:
    conditions = [where] if where else []
    if since is not None:
        conditions.append(format_soql("SystemModstamp >= {since}", since=since))
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return format_soql(
        "SELECT {fields:literal} FROM {sobject:literal}{clause:literal} ORDER BY SystemModstamp, Id",
        fields=", ".join(fields), sobject=sobject, clause=clause,
    )

