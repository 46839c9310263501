"""Writing to HubSpot: batch updates and idempotent batch task creation, 100 records per call.

A batch answers 207 Multi-Status when some records fail; each failure becomes a
:class:`WriteResult` naming its record. A batch refused whole (400) is split in halves until the
bad record is found, so one bad value never fails its 99 neighbours. Tasks carry their ledger key
in a property (``warden_key`` by default); before creating, the writer searches for the keys so
that a retry or a re-run finds the task it already created instead of making a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from connectors.hubspot._http import HubSpotHttp
from connectors.hubspot._mapping import ObjectSpec, StageCatalog, format_date
from connectors.hubspot._read import chunked
from domain.connector import NewLead, NewTask, RecordUpdate, TaskDeletion, WriteResult
from domain.errors import RecordError, RetriableConnectorError
from domain.records import ObjectType, TaskPriority

BATCH = 100
TASK_LINK_TYPES = {"deals": 216, "companies": 192, "contacts": 204}
PRIORITIES = {TaskPriority.LOW: "LOW", TaskPriority.NORMAL: "MEDIUM", TaskPriority.HIGH: "HIGH"}
JsonObject = dict[str, Any]


class UnwritableField(ValueError):
    pass


def _distinct_batches(updates: Sequence[tuple[int, RecordUpdate]]) -> Iterator[list[tuple[int, RecordUpdate]]]:
    """Batches of at most 100 in which no record appears twice (HubSpot refuses duplicate ids)."""
    batch: list[tuple[int, RecordUpdate]] = []
    for item in updates:
        if len(batch) == BATCH or any(u.record_id == item[1].record_id for _, u in batch):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


class HubSpotWriter:
    def __init__(self, http: HubSpotHttp, spec_of: Callable[[ObjectType], ObjectSpec],
                 catalog: Callable[[], StageCatalog],
                 custom: Mapping[ObjectType, Mapping[str, str]], task_key_property: str,
                 attempts: int = 3) -> None:
        self.http, self.spec_of, self.catalog, self.custom = http, spec_of, catalog, custom
        self.task_key_property, self.attempts = task_key_property, attempts

    def properties(self, object_type: ObjectType, fields: Mapping[str, Any]) -> dict[str, str]:
        """HubSpot property values for normalized fields; unknown fields raise :class:`UnwritableField`."""
        writable = {**self.spec_of(object_type).writable, **self.custom.get(object_type, {})}
        if object_type is ObjectType.OPPORTUNITY:
            fields = self._without_stage_flags(fields)
        props: dict[str, str] = {}
        for name, value in fields.items():
            if name not in writable:
                raise UnwritableField(f"field {name!r} cannot be written to a HubSpot {object_type.value}: "
                                      f"map it to a property under the policy's custom properties")
            props[writable[name]] = self._encode(name, value, fields.get("pipeline"))
        return props

    def _without_stage_flags(self, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        """Drop ``is_closed``/``is_won``, which HubSpot derives from the stage, once the stage agrees."""
        flags = {name: fields[name] for name in ("is_closed", "is_won") if name in fields}
        if not flags:
            return fields
        catalog = self.catalog()
        pipeline = fields.get("pipeline")
        stage = catalog.stages.get(catalog.stage_id(str(fields.get("stage", "")), str(pipeline) if pipeline else None))
        for name, wanted in flags.items():
            if stage is None or getattr(stage, name.removeprefix("is_")) != bool(wanted):
                raise UnwritableField(f"HubSpot sets {name} from a deal's stage: give a stage whose pipeline "
                                      f"marks it {name}={bool(wanted)} (got stage {fields.get('stage')!r})")
        return {name: value for name, value in fields.items() if name not in flags}

    def _encode(self, name: str, value: Any, pipeline: Any = None) -> str:
        if value is None:
            return ""
        if isinstance(value, date):
            return format_date(value)
        text = str(value)
        encoders: dict[str, Callable[[str], str]] = {
            "stage": lambda v: self.catalog().stage_id(v, str(pipeline) if pipeline else None),
            "pipeline": lambda v: self.catalog().pipeline_id(v), "probability": lambda v: str(float(v) / 100),
            "close_date": lambda v: format_date(date.fromisoformat(v[:10])),
            "due_date": lambda v: format_date(date.fromisoformat(v[:10])),
            "status": lambda v: {"completed": "COMPLETED", "open": "NOT_STARTED"}.get(v, v),
            "priority": lambda v: PRIORITIES.get(TaskPriority(v), v) if v in set(TaskPriority) else v,
            "task_type": str.upper}
        return encoders.get(name, str)(text)

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        """One result per update, in order; records of one type go 100 per call."""
        results: dict[int, WriteResult] = {}
        by_type: dict[ObjectType, list[tuple[int, RecordUpdate]]] = {}
        for index, update in enumerate(updates):
            by_type.setdefault(update.object_type, []).append((index, update))
        for object_type, indexed in by_type.items():
            ready: list[tuple[int, RecordUpdate]] = []
            for index, update in indexed:
                try:
                    self.properties(object_type, update.fields)
                    ready.append((index, update))
                except UnwritableField as exc:
                    results[index] = WriteResult(update.key, False, update.record_id, str(exc))
            for batch in _distinct_batches(ready):
                answers = self._update_batch(object_type, [u for _, u in batch])
                results.update((index, answer) for (index, _), answer in zip(batch, answers, strict=True))
        return [results[i] for i in range(len(updates))]

    def _update_batch(self, object_type: ObjectType, batch: list[RecordUpdate]) -> list[WriteResult]:
        kind = self.spec_of(object_type).hubspot_type
        request = {"inputs": [{"id": u.record_id, "objectWriteTraceId": u.key,
                               "properties": self.properties(object_type, u.fields)} for u in batch]}
        try:
            body = self.http.call("write", f"batch update of {len(batch)} {kind}",
                                  lambda c: c.crm.objects.batch_api.update(kind, request, _preload_content=False)).body
        except RecordError as exc:
            if len(batch) == 1 or "PROPERTY_DOESNT_EXIST" in str(exc):
                return [WriteResult(u.key, False, u.record_id, f"{kind} {u.record_id}: {exc}") for u in batch]
            half = len(batch) // 2
            return self._update_batch(object_type, batch[:half]) + self._update_batch(object_type, batch[half:])
        failed = _errors_by_id(body)
        done = {str(r["id"]) for r in body.get("results", [])}
        return [WriteResult(u.key, True, u.record_id) if u.record_id in done and u.record_id not in failed
                else WriteResult(u.key, False, u.record_id, failed.get(
                    u.record_id, f"{kind} {u.record_id}: HubSpot did not confirm the update; it will be retried"))
                for u in batch]

    def delete_tasks(self, tasks: Sequence[TaskDeletion]) -> list[WriteResult]:
        """Archive tasks 100 per call; HubSpot answers 204 for the batch, archived already or not."""
        results: list[WriteResult] = []
        for start in range(0, len(tasks), BATCH):
            batch = list(tasks[start : start + BATCH])
            request = {"inputs": [{"id": t.task_id} for t in batch]}
            try:
                self.http.call("write", f"batch archive of {len(batch)} tasks",
                               lambda c, body=request: c.crm.objects.batch_api.archive(  # type: ignore[misc]
                                   "tasks", body, _preload_content=False))
            except RecordError as exc:
                results.extend(WriteResult(t.key, False, t.task_id, f"task {t.task_id}: {exc}") for t in batch)
                continue
            results.extend(WriteResult(t.key, True, t.task_id) for t in batch)
        return results

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        """Create tasks 100 per call, never a second task for a key HubSpot already holds."""
        by_key: dict[str, WriteResult] = {}
        for chunk in chunked(tasks, BATCH):
            by_key.update(self._create_chunk(chunk))
        return [by_key[t.key] for t in tasks]

    def _create_chunk(self, chunk: list[NewTask]) -> dict[str, WriteResult]:
        for _ in range(self.attempts - 1):
            try:
                return self._lookup_then_create(chunk)
            except RetriableConnectorError:
                continue  # the lost answer may hide created tasks: look the keys up again
        return self._lookup_then_create(chunk)

    def _lookup_then_create(self, chunk: list[NewTask]) -> dict[str, WriteResult]:
        existing = self._existing_keys([t.key for t in chunk])
        missing = [t for t in chunk if t.key not in existing]
        created = self._create(missing) if missing else {}
        return {t.key: WriteResult(t.key, True, existing[t.key]) if t.key in existing else created[t.key]
                for t in chunk}

    def _existing_keys(self, keys: list[str]) -> dict[str, str]:
        prop = self.task_key_property
        request = {"filterGroups": [{"filters": [{"propertyName": prop, "operator": "IN", "values": keys}]}],
                   "properties": [prop], "limit": 200}
        body = self.http.call("read", "search of tasks by key", lambda c: c.crm.objects.search_api.do_search(
            "tasks", request, _preload_content=False), search=True).body
        return {r["properties"][prop]: str(r["id"]) for r in body["results"]}

    def _create(self, tasks: list[NewTask]) -> dict[str, WriteResult]:
        deals = self._deal_ids([t.what_id for t in tasks if t.what_id])
        request = {"inputs": [self._task_input(t, deals) for t in tasks]}
        try:
            body = self.http.call("write", f"batch create of {len(tasks)} tasks",
                                  lambda c: c.crm.objects.batch_api.create("tasks", request, _preload_content=False),
                                  repeatable=False).body
        except RecordError as exc:
            if len(tasks) > 1 and "PROPERTY_DOESNT_EXIST" not in str(exc):
                half = len(tasks) // 2
                return self._create(tasks[:half]) | self._create(tasks[half:])
            hint = ""
            if "PROPERTY_DOESNT_EXIST" in str(exc) and self.task_key_property in str(exc):
                hint = (f" (create the task property {self.task_key_property!r} in HubSpot as single-line text, "
                        "or name an existing one as the task key property)")
            return {t.key: WriteResult(t.key, False, None, f"task {t.key}: {exc}{hint}") for t in tasks}
        made = {r["properties"].get(self.task_key_property): str(r["id"]) for r in body.get("results", [])}
        failed = _errors_by_trace(body)
        return {t.key: WriteResult(t.key, True, made[t.key]) if t.key in made else WriteResult(
            t.key, False, None, failed.get(t.key, f"task {t.key}: HubSpot did not confirm the create"))
            for t in tasks}

    def _deal_ids(self, ids: list[str]) -> set[str]:
        """Which of the tasks' ``what_id`` are deals (the rest are companies)."""
        if not ids:
            return set()
        request = {"inputs": [{"id": i} for i in dict.fromkeys(ids)], "properties": [],
                   "propertiesWithHistory": []}
        body = self.http.call("read", "batch read of deals", lambda c: c.crm.objects.batch_api.read(
            "deals", request, archived=False, _preload_content=False)).body
        return {str(r["id"]) for r in body.get("results", [])}

    def _task_input(self, task: NewTask, deals: set[str]) -> JsonObject:
        props = {"hs_task_subject": task.subject, "hs_task_body": task.description,
                 "hs_timestamp": format_date(task.due_date), "hs_task_status": "NOT_STARTED",
                 "hs_task_priority": PRIORITIES[task.priority], "hs_task_type": task.task_type.value.upper(),
                 "hubspot_owner_id": task.owner_id, self.task_key_property: task.key}
        links = []
        if task.what_id:
            links.append(("deals" if task.what_id in deals else "companies", task.what_id))
        if task.who_id:
            links.append(("contacts", task.who_id))
        return {"properties": props, "objectWriteTraceId": task.key, "associations": [
            {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                              "associationTypeId": TASK_LINK_TYPES[kind]}]}
            for kind, to_id in links]}


class ContactLeadWriter:
    """Leads as contacts in the lifecycle stage ``lead``, never a second contact for an email.

    HubSpot keeps one contact per email: one it already holds is found first (and on a 409 that names it).
    """

    def __init__(self, http: HubSpotHttp, attempts: int = 3) -> None:
        self.http, self.attempts = http, attempts

    def create_leads(self, leads: Sequence[NewLead]) -> list[WriteResult]:
        by_key: dict[str, WriteResult] = {}
        for chunk in chunked(list({lead.key: lead for lead in leads}.values()), BATCH):
            for _ in range(self.attempts - 1):
                try:
                    by_key.update(self._find_then_create(chunk))
                    break
                except RetriableConnectorError:
                    continue  # the lost answer may hide created contacts: look the emails up again
            else:
                by_key.update(self._find_then_create(chunk))
        return [by_key[lead.key] for lead in leads]

    def _find_then_create(self, chunk: list[NewLead]) -> dict[str, WriteResult]:
        existing = self._contacts_by_email([lead.email for lead in chunk])
        missing = [lead for lead in chunk if lead.email.lower() not in existing]
        created = self._create(missing) if missing else {}
        return {lead.key: created[lead.key] if lead.key in created
                else WriteResult(lead.key, True, existing[lead.email.lower()]) for lead in chunk}

    def _contacts_by_email(self, emails: list[str]) -> dict[str, str]:
        """Lower-cased email -> contact id (the search's IN takes lower-case values)."""
        request = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "IN",
                                                  "values": sorted({e.lower() for e in emails})}]}],
                   "properties": ["email"], "limit": 200}
        body = self.http.call("read", "search of contacts by email", lambda c: c.crm.objects.search_api.do_search(
            "contacts", request, _preload_content=False), search=True).body
        return {str(r["properties"]["email"]).lower(): str(r["id"]) for r in body["results"]
                if r["properties"].get("email")}

    def _create(self, leads: list[NewLead]) -> dict[str, WriteResult]:
        request = {"inputs": [{"properties": _contact_properties(lead), "objectWriteTraceId": lead.key}
                              for lead in leads]}
        try:
            body = self.http.call("write", f"batch create of {len(leads)} contacts", lambda c: c.crm.objects.batch_api
                                  .create("contacts", request, _preload_content=False), repeatable=False).body
        except RecordError as exc:
            if len(leads) > 1:
                half = len(leads) // 2
                return self._create(leads[:half]) | self._create(leads[half:])
            existing = str(exc).split("Existing ID: ", 1)
            if len(existing) == 2:  # created meanwhile (a retry whose first answer was lost, another process)
                return {leads[0].key: WriteResult(leads[0].key, True, existing[1].split()[0].strip(".\"'"))}
            return {leads[0].key: WriteResult(leads[0].key, False, None, f"new lead {leads[0].email}: {exc}")}
        made = {str(r["properties"].get("email") or "").lower(): str(r["id"]) for r in body.get("results", [])}
        return {lead.key: WriteResult(lead.key, True, made[lead.email.lower()]) if lead.email.lower() in made
                else WriteResult(lead.key, False, None, f"new lead {lead.email}: HubSpot did not confirm the create")
                for lead in leads}


def _contact_properties(lead: NewLead) -> dict[str, str]:
    first, _, last = lead.name.strip().rpartition(" ")
    props = {"email": lead.email, "firstname": first, "lastname": last or lead.name, "company": lead.company,
             "lifecyclestage": "lead", "hs_lead_status": lead.status, "hubspot_owner_id": lead.owner_id}
    return {name: value for name, value in props.items() if value}


def _errors_by_id(body: JsonObject) -> dict[str, str]:
    return {str(i): f"{e.get('category', 'ERROR')} on {i}: {e.get('message', '')}"
            for e in body.get("errors", []) for i in e.get("context", {}).get("ids", [])}


def _errors_by_trace(body: JsonObject) -> dict[str, str]:
    return {str(k): f"{e.get('category', 'ERROR')} on task {k}: {e.get('message', '')}"
            for e in body.get("errors", []) for k in e.get("context", {}).get("objectWriteTraceId", [])}
