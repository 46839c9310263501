"""Load normalized records into the fake org as Salesforce rows, through the connector's own field map.

Custom data (``extra`` keys, a lead's status-change date, an opportunity's pipeline) become custom
fields (``BantBudget__c``...) added to the org's schema, with the matching field-map overrides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from connectors.salesforce._mapping import DEFAULT_FIELDS, SOBJECTS, FieldMap, field_map, to_sf_value
from domain.records import RECORD_CLASSES, ObjectType, Owner, Record, Task, TaskStatus
from tests.servers.salesforce.org import Org, sf_datetime

OBJECT_OF = {cls: obj for obj, cls in RECORD_CLASSES.items()}


def custom_field(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "__c"


def custom_fields(records: Iterable[Record]) -> dict[ObjectType, dict[str, str]]:
    """Overrides for every record attribute or ``extra`` key the default map leaves out."""
    overrides: dict[ObjectType, dict[str, str]] = {}
    for record in records:
        obj = OBJECT_OF[type(record)]
        names = [f.name for f in dataclass_fields(record) if f.name not in ("extra", "deleted", "is_queue")]
        names += list(getattr(record, "extra", {}))
        for name in names:
            if name not in DEFAULT_FIELDS[obj] and obj not in (ObjectType.OWNER, ObjectType.TASK):
                overrides.setdefault(obj, {})[name] = custom_field(name)
    return overrides


def sf_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return sf_datetime(value)
    if isinstance(value, date | StrEnum):
        return to_sf_value(value)
    return value


def to_row(record: Record, fields: FieldMap) -> tuple[str, dict[str, Any]]:
    """The Salesforce object and row for a normalized record."""
    if isinstance(record, Owner) and record.is_queue:
        return "Group", {"Id": record.id, "Name": record.name, "Email": record.email, "Type": "Queue",
                         "SystemModstamp": sf_value(record.updated_at)}
    obj = OBJECT_OF[type(record)]
    names = {f.name for f in dataclass_fields(record)}
    extra = getattr(record, "extra", {})
    row = {sf: sf_value(getattr(record, name) if name in names else extra.get(name))
           for name, sf in field_map(obj, fields).items()}
    if isinstance(record, Task):
        row["IsClosed"] = record.status is TaskStatus.COMPLETED
        row["Status"] = to_sf_value(record.status)
    row["IsDeleted"] = record.deleted
    if row.get("SystemModstamp") is None:
        row.pop("SystemModstamp")
    return SOBJECTS[obj], row


def load(org: Org, records: list[Record], fields: FieldMap) -> None:
    """Add the custom fields to ``org``'s schema, then every record as a row."""
    for obj, overrides in fields.items():
        org.schema[SOBJECTS[obj]] += [f for f in overrides.values() if f not in org.schema[SOBJECTS[obj]]]
    for record in records:
        sobject, row = to_row(record, fields)
        org.add(sobject, **row)
