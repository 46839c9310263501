"""HubSpot objects <-> normalized records: which properties to read and what they mean.

Deals: the date a deal entered its current stage is HubSpot's ``hs_date_entered_<stage id>``; when
the portal has no such value (stages created before HubSpot tracked it, imported deals) the deal's
``hs_lastmodifieddate`` stands in, which can only make a deal look fresher, never staler. Stage
ids become their labels (the policy names stages by label) and back on write; probabilities are
fractions in HubSpot and percents in records. Owners carry no manager: the policy's teams do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain.records import (
    Account,
    Contact,
    Lead,
    Note,
    ObjectType,
    Opportunity,
    Owner,
    Record,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)

Links = Mapping[str, list[str]]
"""Associated ids of one object, by HubSpot object type (``companies``, ``deals``...)."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEAD_STAGES = ("lead", "marketingqualifiedlead", "salesqualifiedlead")
PRIORITY = {"LOW": TaskPriority.LOW, "MEDIUM": TaskPriority.NORMAL, "HIGH": TaskPriority.HIGH}
TYPE = {"CALL": TaskType.CALL, "EMAIL": TaskType.EMAIL, "TODO": TaskType.TODO}


@dataclass(frozen=True)
class ObjectSpec:
    """How one record type is stored in HubSpot."""

    hubspot_type: str
    properties: tuple[str, ...]
    writable: Mapping[str, str]
    """Normalized field -> HubSpot property, for updates."""
    links: tuple[str, ...] = ()
    modified: str = "hs_lastmodifieddate"


SPECS: dict[ObjectType, ObjectSpec] = {
    ObjectType.ACCOUNT: ObjectSpec(
        "companies", ("name", "domain", "phone", "city", "zip", "country", "type", "lifecyclestage",
                      "hubspot_owner_id", "createdate", "hs_merged_object_ids"),
        {"name": "name", "owner_id": "hubspot_owner_id", "website": "domain", "phone": "phone",
         "billing_city": "city", "billing_postcode": "zip", "billing_country": "country",
         "account_type": "type", "lifecycle_stage": "lifecyclestage"}),
    ObjectType.CONTACT: ObjectSpec(
        "contacts", ("firstname", "lastname", "email", "phone", "hubspot_owner_id", "createdate"),
        {"owner_id": "hubspot_owner_id", "email": "email", "phone": "phone"}, ("companies",),
        "lastmodifieddate"),
    ObjectType.OPPORTUNITY: ObjectSpec(
        "deals", ("dealname", "pipeline", "dealstage", "amount", "closedate", "hs_deal_stage_probability",
                  "hubspot_owner_id", "createdate"),
        {"name": "dealname", "owner_id": "hubspot_owner_id", "stage": "dealstage", "amount": "amount",
         "close_date": "closedate", "probability": "hs_deal_stage_probability", "pipeline": "pipeline"},
        ("companies",)),
    ObjectType.TASK: ObjectSpec(
        "tasks", ("hs_task_subject", "hs_task_body", "hs_timestamp", "hs_task_status", "hs_task_priority",
                  "hs_task_type", "hs_task_completion_date", "hubspot_owner_id", "createdate"),
        {"subject": "hs_task_subject", "owner_id": "hubspot_owner_id", "status": "hs_task_status",
         "priority": "hs_task_priority", "task_type": "hs_task_type", "due_date": "hs_timestamp",
         "description": "hs_task_body"},
        ("deals", "companies", "contacts")),
    ObjectType.NOTE: ObjectSpec("notes", ("hs_note_body", "hs_timestamp", "createdate"), {}, ("companies",)),
}
CONTACT_LEADS = ObjectSpec(
    "contacts", ("firstname", "lastname", "email", "phone", "company", "hs_lead_status", "lifecyclestage",
                 "hubspot_owner_id", "createdate"),
    {"owner_id": "hubspot_owner_id", "status": "hs_lead_status", "email": "email", "phone": "phone"},
    (), "lastmodifieddate")
CALLS = ObjectSpec(
    "calls", ("hs_call_title", "hs_call_body", "hs_timestamp", "hs_call_status", "hubspot_owner_id", "createdate"),
    {}, ("deals", "companies", "contacts"))
"""Logged calls: read as completed call tasks, never written."""
LEADS_OBJECT = ObjectSpec(
    "leads", ("hs_lead_name", "hs_pipeline_stage", "hubspot_owner_id", "createdate"),
    {"owner_id": "hubspot_owner_id", "status": "hs_pipeline_stage", "name": "hs_lead_name"})


def parse_datetime(value: str | None) -> datetime | None:
    """An ISO datetime (``Z`` or offset), a plain date, or epoch milliseconds, as aware UTC."""
    if not value:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def epoch_ms(when: datetime) -> int:
    """Whole epoch milliseconds, exactly (float timestamps can land a millisecond short)."""
    return (when - EPOCH) // timedelta(milliseconds=1)


def format_date(day: date) -> str:
    """A date as HubSpot's datetime properties take it: midnight UTC, ISO with ``Z``."""
    return datetime.combine(day, time(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    pipeline: str
    closed: bool
    won: bool


@dataclass
class StageCatalog:
    """Deal stages of every pipeline, from ``GET /crm/v3/pipelines/deals``."""

    stages: dict[str, Stage] = field(default_factory=dict)
    pipelines: dict[str, str] = field(default_factory=dict)
    """Pipeline id -> label."""

    @classmethod
    def from_pipelines(cls, body: Mapping[str, Any]) -> StageCatalog:
        catalog = cls()
        for pipeline in body.get("results", []):
            catalog.pipelines[pipeline["id"]] = pipeline.get("label") or pipeline["id"]
            for raw in pipeline.get("stages", []):
                meta = raw.get("metadata", {})
                closed = str(meta.get("isClosed", "false")).lower() == "true"
                won = closed and _float(meta.get("probability")) == 1.0
                catalog.stages[raw["id"]] = Stage(raw["id"], raw["label"], pipeline["id"], closed, won)
        return catalog

    def entered_properties(self) -> tuple[str, ...]:
        return tuple(f"hs_date_entered_{stage_id}" for stage_id in self.stages)

    def entries(self, props: Mapping[str, Any]) -> list[tuple[str, datetime]]:
        """(stage label, when the deal last entered it) for every stage the deal has been in, oldest first."""
        found = [(stage.label, parse_datetime(props.get(f"hs_date_entered_{stage_id}")))
                 for stage_id, stage in self.stages.items()]
        return sorted(((label, at) for label, at in found if at is not None), key=lambda entry: entry[1])

    def stage_id(self, label_or_id: str, pipeline: str | None = None) -> str:
        """The stage id for a label the policy uses, within ``pipeline`` (label or id) when given; an id passes.

        Stage labels repeat across pipelines ("Closed Lost" in each), so a write names the deal's pipeline.
        """
        if label_or_id in self.stages:
            return label_or_id
        wanted, within = label_or_id.lower(), self.pipeline_id(pipeline) if pipeline else None
        matches = [s for s in self.stages.values() if s.label.lower() == wanted]
        return next((s.id for s in matches if within in (None, s.pipeline)), matches[0].id if matches else label_or_id)

    def pipeline_id(self, label_or_id: str) -> str:
        """The pipeline id for a label the policy uses; an id passes through."""
        if label_or_id in self.pipelines:
            return label_or_id
        wanted = label_or_id.strip().lower()
        return next((i for i, label in self.pipelines.items() if label.lower() == wanted), label_or_id)


@dataclass
class Mapper:
    """Turns HubSpot JSON into records with the portal's stages and the policy's custom properties."""

    catalog: StageCatalog
    custom: Mapping[ObjectType, Mapping[str, str]] = field(default_factory=dict)

    def extra(self, object_type: ObjectType, props: Mapping[str, Any]) -> dict[str, Any]:
        """The custom properties that hold a value (HubSpot does not tell unset from blank)."""
        return {name: props[prop] for name, prop in self.custom.get(object_type, {}).items()
                if props.get(prop) not in (None, "")}

    def _account_extra(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Custom properties, and the lifecycle stage (``customer``...) HubSpot marks customers with."""
        extra = self.extra(ObjectType.ACCOUNT, props)
        if props.get("lifecyclestage"):
            extra.setdefault("lifecycle_stage", props["lifecyclestage"])
        return extra

    def record(self, object_type: ObjectType, obj: Mapping[str, Any], links: Links, spec: ObjectSpec) -> Record:
        """The normalized record of one HubSpot object (from a list, search or batch read)."""
        props = obj["properties"]
        created = parse_datetime(props.get("createdate")) or parse_datetime(obj["createdAt"])
        updated = parse_datetime(props.get(spec.modified)) or parse_datetime(obj["updatedAt"])
        assert created is not None and updated is not None
        common = {"id": obj["id"], "created_at": created, "updated_at": updated}
        owner = props.get("hubspot_owner_id") or None
        if object_type is ObjectType.ACCOUNT:
            return Account(**common, name=props.get("name") or "", owner_id=owner, website=props.get("domain"),
                           phone=props.get("phone"), billing_city=props.get("city"),
                           billing_postcode=props.get("zip"), billing_country=props.get("country"),
                           account_type=props.get("type"), extra=self._account_extra(props))
        if object_type is ObjectType.CONTACT:
            return Contact(**common, name=_full_name(props), account_id=_first(links, "companies"),
                           owner_id=owner, email=props.get("email"), phone=props.get("phone"))
        if object_type is ObjectType.OPPORTUNITY:
            return self._deal(common, props, links)
        if object_type is ObjectType.TASK:
            return _call(common, props, links) if spec is CALLS else _task(common, props, links)
        if object_type is ObjectType.LEAD:
            return self._lead(common, props, spec)
        body = props.get("hs_note_body") or ""
        return Note(**common, parent_id=_first(links, "companies") or "", title=body.splitlines()[0][:80]
                    if body else "", body=body or None)

    def _deal(self, common: dict[str, Any], props: Mapping[str, Any], links: Links) -> Opportunity:
        stage = self.catalog.stages.get(props.get("dealstage") or "")
        entered = parse_datetime(props.get(f"hs_date_entered_{props.get('dealstage')}")) or common["updated_at"]
        probability = _float(props.get("hs_deal_stage_probability"))
        close = parse_datetime(props.get("closedate"))
        return Opportunity(
            **common, name=props.get("dealname") or "", account_id=_first(links, "companies"),
            owner_id=props.get("hubspot_owner_id") or None,
            stage=stage.label if stage else props.get("dealstage"), stage_changed_at=entered,
            amount=_float(props.get("amount")),
            probability=None if probability is None else round(probability * 100, 6),
            close_date=close.date() if close else None, is_closed=bool(stage and stage.closed),
            is_won=bool(stage and stage.won), pipeline=self._pipeline_label(props.get("pipeline")),
            extra=self.extra(ObjectType.OPPORTUNITY, props))

    def _pipeline_label(self, pipeline: str | None) -> str | None:
        """Deals name their pipeline by label, as the policy does; an unknown id stays as it is."""
        return self.catalog.pipelines.get(pipeline, pipeline) if pipeline else None

    def _lead(self, common: dict[str, Any], props: Mapping[str, Any], spec: ObjectSpec) -> Lead:
        if spec.hubspot_type == "leads":
            name, status, company = props.get("hs_lead_name") or "", props.get("hs_pipeline_stage"), None
        else:
            name, status, company = _full_name(props), props.get("hs_lead_status"), props.get("company")
        return Lead(**common, name=name, company=company, owner_id=props.get("hubspot_owner_id") or None,
                    status=status, email=props.get("email"), phone=props.get("phone"),
                    extra=self.extra(ObjectType.LEAD, props))


def _first(links: Links, kind: str) -> str | None:
    found = links.get(kind) or []
    return found[0] if found else None


def _full_name(props: Mapping[str, Any]) -> str:
    return " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p)


def _task(common: dict[str, Any], props: Mapping[str, Any], links: Links) -> Task:
    due = parse_datetime(props.get("hs_timestamp"))
    completed = props.get("hs_task_status") == "COMPLETED"
    return Task(
        **common, subject=props.get("hs_task_subject") or "", owner_id=props.get("hubspot_owner_id") or None,
        status=TaskStatus.COMPLETED if completed else TaskStatus.OPEN,
        task_type=TYPE.get(props.get("hs_task_type") or "", TaskType.TODO),
        priority=PRIORITY.get(props.get("hs_task_priority") or "", TaskPriority.NORMAL),
        due_date=due.date() if due else None, completed_at=parse_datetime(props.get("hs_task_completion_date")),
        what_id=_first(links, "deals") or _first(links, "companies"), who_id=_first(links, "contacts"),
        description=props.get("hs_task_body"))


def _call(common: dict[str, Any], props: Mapping[str, Any], links: Links) -> Task:
    """A logged call as a task: done when it was made (``hs_timestamp``), unless HubSpot says otherwise."""
    made = parse_datetime(props.get("hs_timestamp"))
    done = props.get("hs_call_status") in (None, "", "COMPLETED")
    return Task(
        **common, subject=props.get("hs_call_title") or "Call", owner_id=props.get("hubspot_owner_id") or None,
        status=TaskStatus.COMPLETED if done else TaskStatus.OPEN, task_type=TaskType.CALL,
        priority=TaskPriority.NORMAL, due_date=made.date() if made else None, completed_at=made if done else None,
        what_id=_first(links, "deals") or _first(links, "companies"), who_id=_first(links, "contacts"),
        description=props.get("hs_call_body"))


def owner(obj: Mapping[str, Any]) -> Owner:
    """A HubSpot owner; ``manager_id`` stays None because managers come from the policy's teams."""
    name = " ".join(p for p in (obj.get("firstName"), obj.get("lastName")) if p) or obj.get("email") or obj["id"]
    return Owner(id=str(obj["id"]), name=name, email=obj.get("email"), active=not obj.get("archived", False),
                 updated_at=parse_datetime(obj.get("updatedAt")))


def deleted_stub(object_type: ObjectType, object_id: str, when: datetime) -> Record:
    """A record that only says "gone": the mirror drops it."""
    if object_type is ObjectType.TASK:
        return Task(object_id, "", None, TaskStatus.OPEN, TaskType.TODO, TaskPriority.NORMAL, when, when,
                    deleted=True)
    if object_type is ObjectType.NOTE:
        return Note(object_id, "", "", None, when, when, deleted=True)
    if object_type is ObjectType.OPPORTUNITY:
        return Opportunity(object_id, "", None, None, None, when, when, deleted=True)
    if object_type is ObjectType.CONTACT:
        return Contact(object_id, "", None, None, when, when, deleted=True)
    if object_type is ObjectType.LEAD:
        return Lead(object_id, "", None, None, None, when, when, deleted=True)
    return Account(object_id, "", None, when, when, deleted=True)
