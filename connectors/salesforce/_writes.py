"""Batched writes through sObject Collections: updates, and task creation that never duplicates.

Updates are idempotent, so a failed call is simply sent again and records refused with
``UNABLE_TO_LOCK_ROW`` go into the next round. A create is not: when its call fails without an
answer the task may exist, so every round first looks the keys up and creates only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from simple_salesforce.format import format_soql
from tenacity import Retrying, retry_if_result, stop_after_attempt

from connectors._retry import backoff
from connectors.salesforce._client import SalesforceClient
from connectors.salesforce._errors import RETRIABLE_RECORD_CODES, record_error
from connectors.salesforce._mapping import SOBJECTS, UnmappedField, to_sf_fields, to_sf_value
from domain.connector import NewLead, NewTask, RecordUpdate, TaskDeletion, WriteResult
from domain.errors import RetriableConnectorError
from domain.records import ObjectType

BATCH = 200
"""Most records one sObject Collections call takes."""

T = TypeVar("T")
Pending = dict[str, dict[str, Any]]
"""Action key -> the Salesforce record still to be written for it."""


def chunks(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


NO_COMPANY = "[not provided]"
"""What Salesforce's own Web-to-Lead writes in the required Company field of a lead that gave none."""
CREATE_RETRY_CODES = RETRIABLE_RECORD_CODES | {"DUPLICATE_VALUE"}
"""A duplicate key means an earlier attempt created the task: the next round's lookup finds it."""


def distinct_id_batches(pending: Pending) -> Iterator[Pending]:
    """Batches of at most 200 in which no record appears twice (Salesforce refuses duplicate ids in a list)."""
    batch: Pending = {}
    ids: set[str] = set()
    for key, record in pending.items():
        if len(batch) == BATCH or record["Id"] in ids:
            yield batch
            batch, ids = {}, set()
        batch[key] = record
        ids.add(record["Id"])
    if batch:
        yield batch


def _retriable(answer: dict[str, Any], codes: frozenset[str]) -> bool:
    errors = answer.get("errors") or []
    return bool(errors) and all(e.get("statusCode") in codes for e in errors)


class CollectionWriter:
    def __init__(
        self,
        client: SalesforceClient,
        maps: Mapping[ObjectType, Mapping[str, str]],
        task_key_field: str,
        max_rounds: int = 5,
    ) -> None:
        self._client = client
        self._maps = maps
        self._key_field = task_key_field
        self._max_rounds = max_rounds

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        """Apply updates 200 per call; one result per update, in order, each error naming its record."""
        results: dict[str, WriteResult] = {}
        pending: Pending = {}
        for update in updates:
            try:
                fields = to_sf_fields(update.object_type, update.fields, self._maps[update.object_type])
            except UnmappedField as exc:
                error = f"INVALID_FIELD on {update.record_id}: {exc}"
                results[update.key] = WriteResult(update.key, False, update.record_id, error)
                continue
            sobject = SOBJECTS[update.object_type]
            pending[update.key] = {"attributes": {"type": sobject}, "Id": update.record_id, **fields}
        results.update(self.patch_records(pending))
        return [results[u.key] for u in updates]

    def patch_records(self, pending: Pending) -> dict[str, WriteResult]:
        """Write records already in Salesforce field names (each with ``Id``), 200 per call, in order."""
        results: dict[str, WriteResult] = {}
        for batch in distinct_id_batches(pending):
            results.update(self._in_rounds(batch, self._patch_round))
        return results

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        """Create tasks 200 per call, skipping keys Salesforce already holds (``task_key_field``)."""
        results: dict[str, WriteResult] = {}
        unique = list({task.key: task for task in tasks}.values())
        for batch in chunks(unique):
            pending = {task.key: self._task_record(task) for task in batch}
            results.update(self._in_rounds(pending, partial(self._create_round, self._existing_task_ids)))
        return [results[t.key] for t in tasks]

    def create_leads(self, leads: Sequence[NewLead]) -> list[WriteResult]:
        """Create leads 200 per call; a lead Salesforce already holds with the email is returned instead."""
        results: dict[str, WriteResult] = {}
        unique = list({lead.key: lead for lead in leads}.values())
        for batch in chunks(unique):
            pending = {lead.key: _lead_record(lead) for lead in batch}
            results.update(self._in_rounds(pending, partial(self._create_round, self._existing_leads)))
        return [results[lead.key] for lead in leads]

    def delete_tasks(self, tasks: Sequence[TaskDeletion]) -> list[WriteResult]:
        """Delete tasks 200 per call (into the recycle bin); one Salesforce already deleted counts as done."""
        results: dict[str, WriteResult] = {}
        for batch in chunks(list(tasks)):
            answers = self._client.delete_collection([t.task_id for t in batch])
            for task, answer in zip(batch, answers, strict=True):
                errors = answer.get("errors") or []
                gone = bool(errors) and all(e.get("statusCode") == "ENTITY_IS_DELETED" for e in errors)
                ok = bool(answer.get("success")) or gone
                results[task.key] = WriteResult(task.key, ok, task.task_id,
                                                None if ok else record_error(task.task_id, errors))
        return [results[t.key] for t in tasks]

    def _in_rounds(
        self, pending: Pending, one_round: Callable[[Pending, dict[str, WriteResult]], Pending]
    ) -> dict[str, WriteResult]:
        done: dict[str, WriteResult] = {}

        def attempt() -> Pending:
            nonlocal pending
            pending = one_round(pending, done)
            return pending

        Retrying(
            stop=stop_after_attempt(self._max_rounds),
            wait=backoff,
            retry=retry_if_result(bool),
            sleep=self._client.sleep,
            retry_error_callback=lambda state: None,
        )(attempt)
        return done

    def _patch_round(self, pending: Pending, done: dict[str, WriteResult]) -> Pending:
        keys = list(pending)
        answers = self._client.collections("PATCH", list(pending.values()), retry=True)
        return self._settle(keys, pending, answers, done, RETRIABLE_RECORD_CODES)

    def _create_round(self, existing: Callable[[Pending], dict[str, str]], pending: Pending,
                      done: dict[str, WriteResult]) -> Pending:
        """Look up what an earlier attempt may have created (``existing``: key -> id), then create the rest."""
        for key, record_id in existing(pending).items():
            done[key] = WriteResult(key, True, record_id)
            pending.pop(key)
        if not pending:
            return {}
        keys = list(pending)
        try:
            answers = self._client.collections("POST", list(pending.values()), retry=False)
        except RetriableConnectorError as exc:
            for key in keys:
                done[key] = WriteResult(key, False, None, f"{key}: {exc}")
            return dict(pending)
        return self._settle(keys, pending, answers, done, CREATE_RETRY_CODES)

    @staticmethod
    def _settle(
        keys: list[str],
        pending: Pending,
        answers: list[dict[str, Any]],
        done: dict[str, WriteResult],
        retry_codes: frozenset[str],
    ) -> Pending:
        left: Pending = {}
        for key, answer in zip(keys, answers, strict=True):
            record_id = answer.get("id") or pending[key].get("Id")
            if answer.get("success"):
                done[key] = WriteResult(key, True, record_id)
                continue
            name = record_id or f"task {key}"
            done[key] = WriteResult(key, False, record_id, record_error(name, answer.get("errors") or []))
            if _retriable(answer, retry_codes):
                left[key] = pending[key]
        return left

    def _existing_task_ids(self, pending: Pending) -> dict[str, str]:
        soql = format_soql(
            "SELECT Id, {key:literal} FROM Task WHERE {key:literal} IN {keys}", key=self._key_field, keys=list(pending)
        )
        return {row[self._key_field]: row["Id"] for row in self._client.query_rows(soql)}

    def _existing_leads(self, pending: Pending) -> dict[str, str]:
        """Action key -> the oldest live lead with the pending lead's email (SOQL compares text ignoring case)."""
        emails = sorted({record["Email"] for record in pending.values()})
        soql = format_soql("SELECT Id, Email FROM Lead WHERE Email IN {emails} ORDER BY CreatedDate, Id", emails=emails)
        found: dict[str, str] = {}
        for row in self._client.query_rows(soql):
            found.setdefault(str(row["Email"]).lower(), row["Id"])
        return {key: found[r["Email"].lower()] for key, r in pending.items() if r["Email"].lower() in found}

    def _task_record(self, task: NewTask) -> dict[str, Any]:
        fields = {
            "Subject": task.subject,
            "OwnerId": task.owner_id,
            "ActivityDate": to_sf_value(task.due_date),
            "TaskSubtype": to_sf_value(task.task_type),
            "Priority": to_sf_value(task.priority),
            "Status": "Not Started",
            "Description": task.description or None,
            "WhatId": task.what_id,
            "WhoId": task.who_id,
            self._key_field: task.key,
        }
        return {"attributes": {"type": "Task"}, **{k: v for k, v in fields.items() if v is not None}}


def _lead_record(lead: NewLead) -> dict[str, Any]:
    """A Lead in Salesforce's fields: LastName and Company are required, so a missing company says so."""
    first, _, last = lead.name.strip().rpartition(" ")
    fields = {"FirstName": first or None, "LastName": last or lead.email, "Company": lead.company or NO_COMPANY,
              "Email": lead.email, "Status": lead.status, "LeadSource": lead.lead_source,
              "Description": lead.description or None, "OwnerId": lead.owner_id}
    return {"attributes": {"type": "Lead"}, **{k: v for k, v in fields.items() if v is not None}}
