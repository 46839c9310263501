"""Salesforce field names <-> normalized records, both ways.

The default map covers the standard objects; a caller passes overrides (normalized name -> SF
field) for custom fields, and any mapped name that is not a record attribute lands in ``extra``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from domain.records import RECORD_CLASSES, ObjectType, Record, TaskPriority, TaskStatus, TaskType

FieldMap = Mapping[ObjectType, Mapping[str, str]]

SOBJECTS: dict[ObjectType, str] = {
    ObjectType.OWNER: "User",
    ObjectType.ACCOUNT: "Account",
    ObjectType.CONTACT: "Contact",
    ObjectType.LEAD: "Lead",
    ObjectType.OPPORTUNITY: "Opportunity",
    ObjectType.TASK: "Task",
    ObjectType.NOTE: "Note",
}

_STAMPS = {"id": "Id", "created_at": "CreatedDate", "updated_at": "SystemModstamp"}

DEFAULT_FIELDS: dict[ObjectType, dict[str, str]] = {
    ObjectType.OWNER: {
        "id": "Id", "name": "Name", "email": "Email", "active": "IsActive", "manager_id": "ManagerId",
        "time_zone": "TimeZoneSidKey", "updated_at": "SystemModstamp",
    },
    ObjectType.ACCOUNT: {
        **_STAMPS, "name": "Name", "owner_id": "OwnerId", "website": "Website", "phone": "Phone",
        "billing_city": "BillingCity", "billing_postcode": "BillingPostalCode",
        "billing_country": "BillingCountry", "account_type": "Type",
    },
    ObjectType.CONTACT: {
        **_STAMPS, "name": "Name", "account_id": "AccountId", "owner_id": "OwnerId", "email": "Email",
        "phone": "Phone",
    },
    ObjectType.LEAD: {
        **_STAMPS, "name": "Name", "company": "Company", "owner_id": "OwnerId", "status": "Status",
        "email": "Email", "phone": "Phone",
    },
    ObjectType.OPPORTUNITY: {
        **_STAMPS, "name": "Name", "account_id": "AccountId", "owner_id": "OwnerId", "stage": "StageName",
        "stage_changed_at": "LastStageChangeDate", "amount": "Amount", "probability": "Probability",
        "close_date": "CloseDate", "is_closed": "IsClosed", "is_won": "IsWon",
        "partner_account_id": "PartnerAccountId",
    },
    ObjectType.TASK: {
        **_STAMPS, "subject": "Subject", "owner_id": "OwnerId", "status": "IsClosed", "task_type": "TaskSubtype",
        "priority": "Priority", "due_date": "ActivityDate", "completed_at": "CompletedDateTime",
        "what_id": "WhatId", "who_id": "WhoId", "description": "Description",
    },
    ObjectType.NOTE: {**_STAMPS, "parent_id": "ParentId", "title": "Title", "body": "Body"},
}

QUEUE_FIELDS = {"id": "Id", "name": "Name", "email": "Email", "updated_at": "SystemModstamp"}

READ_ONLY = frozenset({
    "Id", "CreatedDate", "SystemModstamp", "LastModifiedDate", "IsDeleted", "MasterRecordId", "IsClosed",
    "IsWon", "LastStageChangeDate", "CompletedDateTime", "Name:Contact", "Name:Lead",
})
"""Fields Salesforce computes; ``Name`` is only read-only on persons (it joins first and last names)."""

DERIVED = {(ObjectType.OPPORTUNITY, "is_closed"): "stage", (ObjectType.OPPORTUNITY, "is_won"): "stage",
           (ObjectType.OPPORTUNITY, "pipeline"): "stage"}
"""Fields written alongside another one that Salesforce keeps itself: the flags follow the stage, and a
stage written with its deal's pipeline (its record type, named) stays in that record type."""

_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
_SUBTYPES = {TaskType.CALL: "Call", TaskType.EMAIL: "Email", TaskType.TODO: "Task"}
_PRIORITIES = {TaskPriority.HIGH: "High", TaskPriority.NORMAL: "Normal", TaskPriority.LOW: "Low"}


_FIELD_NAMES = {obj: frozenset(f.name for f in dataclass_fields(cls)) for obj, cls in RECORD_CLASSES.items()}


class UnmappedField(ValueError):
    """A normalized field has no Salesforce field to write it to."""


def field_map(object_type: ObjectType, overrides: FieldMap | None = None) -> dict[str, str]:
    """The default map for ``object_type`` with the caller's overrides laid over it.

    Raises:
        UnmappedField: an override names something that is not a Salesforce field name.
    """
    merged = {**DEFAULT_FIELDS[object_type], **((overrides or {}).get(object_type, {}))}
    for name, sf_field in merged.items():
        if not _FIELD_NAME.fullmatch(sf_field):
            raise UnmappedField(f"field map for {object_type}.{name}: {sf_field!r} is not a Salesforce field name")
    return merged


def select_fields(object_type: ObjectType, mapping: Mapping[str, str], include_deleted: bool) -> list[str]:
    """The SOQL select list: the mapped fields, ``Type`` beside a task's subtype, ``IsDeleted`` for queryAll."""
    wanted = list(dict.fromkeys(mapping.values()))
    if object_type is ObjectType.TASK:
        wanted.append("Type")
    if include_deleted:
        wanted.append("IsDeleted")
    return list(dict.fromkeys(wanted))


def is_writable(sobject: str, sf_field: str) -> bool:
    return sf_field not in READ_ONLY and f"{sf_field}:{sobject}" not in READ_ONLY


def parse_datetime(value: str | None) -> datetime | None:
    """Parse ``2026-05-01T07:25:37.000+0000`` (Salesforce's form, no colon in the offset) into UTC."""
    if value is None:
        return None
    if value[-5] in "+-" and value[-3] != ":":
        value = f"{value[:-2]}:{value[-2:]}"
    return datetime.fromisoformat(value).astimezone(UTC)


def format_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _task_value(name: str, value: Any, raw: dict[str, Any]) -> Any:
    if name == "status":
        return TaskStatus.COMPLETED if value else TaskStatus.OPEN
    if name == "task_type":
        subtype = value or raw.get("Type")
        return {"Call": TaskType.CALL, "Email": TaskType.EMAIL}.get(subtype or "", TaskType.TODO)
    if name == "priority":
        return {"High": TaskPriority.HIGH, "Low": TaskPriority.LOW}.get(value or "", TaskPriority.NORMAL)
    return value


def _convert(record_field: str, value: Any) -> Any:
    if value is None:
        return None
    if record_field.endswith("_at"):
        return parse_datetime(value)
    if record_field in ("due_date", "close_date"):
        return date.fromisoformat(value)
    return value


def to_record(object_type: ObjectType, raw: dict[str, Any], mapping: Mapping[str, str]) -> Record:
    """Build the normalized record from one SOQL row (``raw`` in Salesforce field names)."""
    cls = RECORD_CLASSES[object_type]
    names = _FIELD_NAMES[object_type]
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for record_field, sf_field in mapping.items():
        value = raw.get(sf_field)
        if object_type is ObjectType.TASK:
            value = _task_value(record_field, value, raw)
        value = _convert(record_field, value)
        (values if record_field in names else extra)[record_field] = value
    if "extra" in names:
        values["extra"] = extra
    values["deleted"] = bool(raw.get("IsDeleted"))
    if object_type is ObjectType.OWNER:
        values["active"] = bool(values.get("active", True))
        values["is_queue"] = raw.get("attributes", {}).get("type") == "Group"
    return cls(**values)


_CSV_BOOLEANS = frozenset({"active", "is_closed", "is_won"})
_CSV_NUMBERS = frozenset({"amount", "probability"})


def from_csv(object_type: ObjectType, row: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, Any]:
    """A Bulk API CSV row with standard fields back in their JSON types; empty text is null."""
    values: dict[str, Any] = {name: (text if text != "" else None) for name, text in row.items()}
    booleans = {mapping[n] for n in _CSV_BOOLEANS if n in mapping} | {"IsDeleted"}
    if object_type is ObjectType.TASK and "status" in mapping:
        booleans.add(mapping["status"])
    for sf_field in booleans & values.keys():
        values[sf_field] = values[sf_field] == "true"
    for sf_field in {mapping[n] for n in _CSV_NUMBERS if n in mapping} & values.keys():
        values[sf_field] = None if values[sf_field] is None else float(values[sf_field])
    return values


def to_sf_value(value: Any) -> Any:
    """JSON value for a write: dates and datetimes in Salesforce's formats, enums by their SF label."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, TaskType):
        return _SUBTYPES[value]
    if isinstance(value, TaskPriority):
        return _PRIORITIES[value]
    if isinstance(value, TaskStatus):
        return "Completed" if value is TaskStatus.COMPLETED else "Not Started"
    if isinstance(value, StrEnum):
        return str(value)
    return value


def to_sf_fields(object_type: ObjectType, fields: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Translate normalized field values into writable Salesforce fields, or raise ``UnmappedField``."""
    sobject = SOBJECTS[object_type]
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if DERIVED.get((object_type, name)) in fields:
            continue
        sf_field = "Status" if object_type is ObjectType.TASK and name == "status" else mapping.get(name)
        if sf_field is None:
            raise UnmappedField(f"no Salesforce field is mapped for {name!r} on {object_type}: add it to the field map")
        if not is_writable(sobject, sf_field):
            raise UnmappedField(f"{sobject}.{sf_field} (for {name!r}) is computed by Salesforce and cannot be written")
        out[sf_field] = to_sf_value(value)
    return out
