"""Load normalized records into the local HubSpot portal as HubSpot objects, ids kept.

Opportunity stages become one pipeline whose stage ids are slugs of the labels; ``extra`` keys become
custom properties of the same name (the mapping to pass as ``custom_properties`` is returned);
leads become contacts in the ``lead`` lifecycle stage. HubSpot has no queues, so queue owners are
left out of the owners list (records they own keep the id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from connectors.hubspot._mapping import epoch_ms, format_date
from domain.records import Account, Contact, Lead, Note, ObjectType, Opportunity, Owner, Record, Task
from tests.servers.hubspot.portal import Portal, iso

KIND = {Account: "companies", Contact: "contacts", Lead: "contacts", Opportunity: "deals", Task: "tasks",
        Note: "notes"}
OBJECT = {Account: ObjectType.ACCOUNT, Lead: ObjectType.LEAD, Opportunity: ObjectType.OPPORTUNITY}
TASK_STATUS = {"open": "NOT_STARTED", "completed": "COMPLETED"}
PRIORITY = {"low": "LOW", "normal": "MEDIUM", "high": "HIGH"}
CustomProperties = dict[ObjectType, dict[str, str]]


def ms(when: datetime) -> int:
    return epoch_ms(when)


def stage_id(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", label.lower())


def _names(name: str) -> dict[str, str]:
    first, _, last = name.partition(" ")
    return {"firstname": first, "lastname": last}


def _when(value: datetime | None) -> str | None:
    return iso(ms(value)) if value else None


def _properties(record: Record) -> dict[str, Any]:
    owner = {"hubspot_owner_id": getattr(record, "owner_id", None), **getattr(record, "extra", {})}
    if isinstance(record, Account):
        return {**owner, "name": record.name, "domain": record.website, "phone": record.phone,
                "city": record.billing_city, "zip": record.billing_postcode, "country": record.billing_country,
                "type": record.account_type}
    if isinstance(record, Contact):
        return {**owner, **_names(record.name), "email": record.email, "phone": record.phone,
                "lifecyclestage": "customer"}
    if isinstance(record, Lead):
        return {**owner, **_names(record.name), "company": record.company, "lifecyclestage": "lead",
                "hs_lead_status": record.status, "email": record.email, "phone": record.phone}
    if isinstance(record, Opportunity):
        stage = stage_id(record.stage or "")
        return {**owner, "dealname": record.name, "dealstage": stage, "pipeline": record.pipeline,
                "amount": record.amount, "closedate": format_date(record.close_date) if record.close_date else None,
                "hs_deal_stage_probability": None if record.probability is None else record.probability / 100,
                f"hs_date_entered_{stage}": _when(record.stage_changed_at)}
    if isinstance(record, Task):
        return {**owner, "hs_task_subject": record.subject, "hs_task_status": TASK_STATUS[record.status],
                "hs_task_type": record.task_type.upper(), "hs_task_priority": PRIORITY[record.priority],
                "hs_timestamp": format_date(record.due_date) if record.due_date else None,
                "hs_task_completion_date": _when(record.completed_at), "hs_task_body": record.description}
    assert isinstance(record, Note)
    return {"hs_note_body": record.body}


def _links(record: Record) -> list[tuple[str, str]]:
    kind_by_prefix = {"acc": "companies", "opp": "deals", "con": "contacts", "led": "contacts", "lea": "contacts"}
    if isinstance(record, Contact | Opportunity) and record.account_id:
        return [("companies", record.account_id)]
    if isinstance(record, Task):
        return [(kind_by_prefix[i[:3]], i) for i in (record.what_id, record.who_id) if i]
    if isinstance(record, Note):
        return [("companies", record.parent_id)]
    return []


def _pipeline(records: list[Record]) -> list[dict[str, Any]]:
    stages = {r.stage: r for r in records if isinstance(r, Opportunity) and r.stage}
    return [{"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "archived": False, "stages": [
        {"id": stage_id(label), "label": label, "displayOrder": n, "archived": False,
         "metadata": {"isClosed": str(deal.is_closed).lower(), "probability": "1.0" if deal.is_won else "0.5"}}
        for n, (label, deal) in enumerate(stages.items())]}]


def load(portal: Portal, records: Iterable[Record]) -> CustomProperties:
    """Put ``records`` in the portal; the custom property mapping a connector needs to read them back."""
    records = [r for r in records if not r.deleted]
    portal.pipelines = _pipeline(records)
    portal.owners = [{"id": o.id, "email": o.email, "firstName": _names(o.name)["firstname"],
                      "lastName": _names(o.name)["lastname"], "userId": n, "archived": not o.active, "teams": [],
                      "updatedAt": _when(o.updated_at)}
                     for n, o in enumerate(records) if isinstance(o, Owner) and not o.is_queue]
    custom: CustomProperties = {}
    for record in records:
        if isinstance(record, Owner):
            continue
        kind = KIND[type(record)]
        for key in getattr(record, "extra", {}):
            portal.custom[kind].add(key)
            custom.setdefault(OBJECT[type(record)], {})[key] = key
        props = {k: v for k, v in _properties(record).items() if v is not None}
        obj = portal.create(kind, props, ms(record.created_at), record.id)
        obj.updated_ms = ms(record.updated_at)
        obj.properties["lastmodifieddate" if kind == "contacts" else "hs_lastmodifieddate"] = iso(obj.updated_ms)
    for record in records:
        for to_kind, to_id in _links(record):
            portal.associate(KIND[type(record)], record.id, to_kind, to_id)
    return custom


def _ms(when: datetime | None) -> datetime | None:
    return None if when is None else when.replace(microsecond=when.microsecond // 1000 * 1000)


def hubspot_view(record: Record) -> Record:
    """What HubSpot can hold of a record: millisecond times, set custom values only and as strings, no
    owner time zone, no deal partner (and a stage date falling back to the last change), no lead-status
    date, no note title. Queues, which HubSpot lacks, are for the caller to leave out."""
    times = {name: _ms(getattr(record, name)) for name in ("created_at", "updated_at", "stage_changed_at",
                                                            "completed_at") if hasattr(record, name)}
    record = replace(record, **times)  # type: ignore[arg-type]
    if hasattr(record, "extra"):
        record = replace(record, extra={k: str(v) for k, v in record.extra.items() if v is not None})  # type: ignore[call-arg]
    if isinstance(record, Owner):
        return replace(record, time_zone=None, manager_id=None)
    if isinstance(record, Lead):
        return replace(record, status_changed_at=None)
    if isinstance(record, Opportunity):
        return replace(record, partner_account_id=None, stage_changed_at=record.stage_changed_at or record.updated_at)
    if isinstance(record, Note):
        return replace(record, title=(record.body or "").splitlines()[0][:80])
    return record
