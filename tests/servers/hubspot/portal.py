"""An in-memory HubSpot portal: the state and semantics behind the local test server.

It behaves as API-FACTS.md records the real portal: string ids and property values, ISO datetimes
with ``Z``, a modification date per object type, merges that keep the loser's id reachable through
the survivor's ``hs_merged_object_ids``, and v4 associations with their type ids in both directions.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

LIFECYCLE_STAGES = (
    ("subscriber", "Subscriber"), ("lead", "Lead"), ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"), ("opportunity", "Opportunity"), ("customer", "Customer"),
    ("evangelist", "Evangelist"), ("other", "Other"))
OBJECT_TYPES = ("companies", "contacts", "deals", "tasks", "notes", "leads", "calls", "emails", "meetings")
MODIFIED = {t: "lastmodifieddate" if t == "contacts" else "hs_lastmodifieddate" for t in OBJECT_TYPES}
CREATED = {t: "createdate" for t in OBJECT_TYPES}
READ_ONLY = {"hs_object_id", "createdate", "hs_lastmodifieddate", "lastmodifieddate", "hs_merged_object_ids"}
SECONDARY_EMAILS = "hs_additional_emails"
"""A contact's secondary emails (``;``-separated): read-only in v3, removed one by one through the v1 API."""
STANDARD: dict[str, tuple[str, ...]] = {
    "companies": ("name", "domain", "phone", "city", "zip", "country", "type", "lifecyclestage", "hubspot_owner_id"),
    "contacts": ("firstname", "lastname", "email", "phone", "company", "lifecyclestage",
                 "hs_lead_status", "hubspot_owner_id"),
    "deals": ("dealname", "pipeline", "dealstage", "amount", "closedate", "hs_deal_stage_probability",
              "hubspot_owner_id"),
    "tasks": ("hs_task_subject", "hs_task_body", "hs_timestamp", "hs_task_status", "hs_task_priority",
              "hs_task_type", "hs_task_completion_date", "hubspot_owner_id"),
    "notes": ("hs_note_body", "hs_timestamp", "hubspot_owner_id"),
    "leads": ("hs_lead_name", "hs_pipeline_stage", "hubspot_owner_id"),
    "calls": ("hs_call_title", "hs_call_body", "hs_timestamp", "hs_call_status", "hubspot_owner_id"),
    "emails": ("hs_email_subject", "hs_email_text", "hs_email_direction", "hs_timestamp", "hubspot_owner_id"),
    "meetings": ("hs_meeting_title", "hs_meeting_body", "hs_meeting_outcome", "hs_meeting_start_time",
                 "hs_timestamp", "hubspot_owner_id"),
}
OPTIONS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("companies", "type"): (("PROSPECT", "Prospect"), ("PARTNER", "Partner"), ("RESELLER", "Reseller"),
                            ("VENDOR", "Vendor"), ("OTHER", "Other")),
    ("companies", "lifecyclestage"): LIFECYCLE_STAGES,
    ("contacts", "lifecyclestage"): LIFECYCLE_STAGES,
    ("contacts", "hs_lead_status"): (("NEW", "New"), ("OPEN", "Open"), ("IN_PROGRESS", "In Progress"),
                                     ("OPEN_DEAL", "Open Deal"), ("UNQUALIFIED", "Unqualified"),
                                     ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"), ("CONNECTED", "Connected"),
                                     ("BAD_TIMING", "Bad Timing")),
    ("tasks", "hs_task_status"): (("NOT_STARTED", "Not started"), ("COMPLETED", "Completed")),
}
"""A new portal's enumeration properties: (internal value, label), in display order."""
GROUPS = {"companies": "companyinformation", "contacts": "contactinformation", "deals": "dealinformation",
          "tasks": "taskinformation", "notes": "noteinformation", "leads": "leadinformation",
          "calls": "callinformation", "emails": "emailinformation", "meetings": "meetinginformation"}
ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279, ("companies", "contacts"): 280,
    ("deals", "companies"): 341, ("companies", "deals"): 342,
    ("tasks", "companies"): 192, ("companies", "tasks"): 191,
    ("tasks", "deals"): 216, ("deals", "tasks"): 215,
    ("tasks", "contacts"): 204, ("contacts", "tasks"): 203,
    ("notes", "companies"): 190, ("companies", "notes"): 189,
    ("contacts", "deals"): 4, ("deals", "contacts"): 3,
    ("notes", "contacts"): 202, ("contacts", "notes"): 201,
    ("calls", "companies"): 182, ("companies", "calls"): 181,
    ("calls", "deals"): 206, ("deals", "calls"): 205,
    ("calls", "contacts"): 194, ("contacts", "calls"): 193,
    ("emails", "contacts"): 198, ("contacts", "emails"): 197,
    ("meetings", "contacts"): 200, ("contacts", "meetings"): 199,
}
PRIMARY = {5: 6, 6: 5, 1: 2, 2: 1}
INVERSE = {v: ASSOCIATION_TYPES[(b, a)] for (a, b), v in ASSOCIATION_TYPES.items()} | PRIMARY


def iso(ms: int) -> str:
    """Epoch milliseconds as HubSpot writes datetimes."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_ms(value: str) -> int:
    """An epoch-milliseconds string or an ISO datetime as epoch milliseconds."""
    if value.isdigit():
        return int(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


Query = dict[str, list[str]]


@dataclass
class Reply:
    """What an endpoint answers: a status and a JSON body."""

    status: int
    body: Any


class PortalError(Exception):
    """A request HubSpot would refuse: the server turns it into an error response."""

    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra


@dataclass
class HubObject:
    id: str
    properties: dict[str, str | None]
    created_ms: int
    updated_ms: int
    archived_ms: int | None = None

    def as_json(self, props: list[str] | None, kind: str) -> dict[str, Any]:
        names = set(props or ()) | {"hs_object_id", CREATED[kind], MODIFIED[kind]}
        shown = {k: self.properties.get(k) for k in sorted(names)}
        body = {"id": self.id, "properties": shown, "createdAt": iso(self.created_ms),
                "updatedAt": iso(self.updated_ms), "archived": self.archived_ms is not None}
        if self.archived_ms is not None:
            body["archivedAt"] = iso(self.archived_ms)
        return body


@dataclass
class Portal:
    """Objects, associations, owners and pipelines of one portal, safe to share between threads."""

    clock_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    salesforce_sync_on: bool = False
    merge_gives_new_id: bool = False
    search_cap: int = 10_000
    objects: dict[str, dict[str, HubObject]] = field(default_factory=lambda: {t: {} for t in OBJECT_TYPES})
    custom: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in OBJECT_TYPES})
    order: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in OBJECT_TYPES})
    """Ids of each type in creation order: list paging walks it, its cursor is the next id."""
    position: dict[str, dict[str, int]] = field(default_factory=lambda: {t: {} for t in OBJECT_TYPES})
    edges: dict[tuple[str, str, str], dict[str, set[int]]] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    """Ids that batch updates refuse, with the message HubSpot gives (per-record 207 errors)."""
    owners: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    options: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=lambda: dict(OPTIONS))
    """Enumeration properties' options (value, label); a portal's admins can change them."""
    property_types: dict[tuple[str, str], str] = field(default_factory=dict)
    """(kind, custom property) -> its type when not ``string`` (a key property made as a number, say)."""
    time_zone: str = "US/Eastern"
    """The portal's time zone, as account-info answers it."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5_000_000_001))
    _now: int = 0

    def now(self) -> int:
        """A strictly increasing clock, so two writes never share a modification time."""
        self._now = max(self._now + 1, self.clock_ms())
        return self._now

    def property_names(self, kind: str) -> list[str]:
        extra = {SECONDARY_EMAILS} if kind == "contacts" else set()
        return sorted({*STANDARD[kind], *self.custom[kind], *READ_ONLY, *extra} - {"lastmodifieddate"}
                      | {MODIFIED[kind]})

    def property_definition(self, kind: str, name: str) -> dict[str, Any]:
        """The properties API's view of one property (enumerations with their options)."""
        choices = self.options.get((kind, name))
        kind_of = "enumeration" if choices else self.property_types.get((kind, name), "string")
        definition: dict[str, Any] = {
            "name": name, "label": name, "type": kind_of, "fieldType": "select" if choices else "text",
            "groupName": GROUPS[kind], "calculated": False, "hidden": False,
            "modificationMetadata": {"archivable": True, "readOnlyDefinition": name not in self.custom[kind],
                                     "readOnlyValue": name in READ_ONLY | {SECONDARY_EMAILS}
                                     or name == MODIFIED[kind]}}
        if choices:
            definition["options"] = [{"label": label, "value": value, "displayOrder": n, "hidden": False}
                                     for n, (value, label) in enumerate(choices)]
        return definition

    def create_property(self, kind: str, definition: dict[str, Any]) -> dict[str, Any]:
        """A custom property made through the properties API; a name in use is a 409, as on HubSpot."""
        name = str(definition.get("name", ""))
        if not name or "type" not in definition or "groupName" not in definition:
            raise PortalError(400, "VALIDATION_ERROR", "name, label, type, fieldType and groupName are required")
        with self.lock:
            if name in self.property_names(kind):
                raise PortalError(409, "OBJECT_ALREADY_EXISTS", f"Property named '{name}' already exists.")
            self.custom[kind].add(name)
            if definition["type"] != "string":
                self.property_types[(kind, name)] = str(definition["type"])
        return self.property_definition(kind, name)

    def check_properties(self, kind: str, props: dict[str, Any]) -> None:
        known = set(STANDARD[kind]) | self.custom[kind]
        bad = [name for name in props if name not in known and not name.startswith("hs_date_entered_")]
        if bad:
            detail = [{"isValid": False, "message": f'Property "{n}" does not exist',
                       "error": "PROPERTY_DOESNT_EXIST", "name": n} for n in bad]
            raise PortalError(400, "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(detail)}")

    def check_owner(self, props: dict[str, Any]) -> None:
        """HubSpot refuses an owner id that is not an active owner of the portal."""
        owner = props.get("hubspot_owner_id")
        active = {o["id"] for o in self.owners if not o.get("archived")}
        if owner and owner not in active:
            detail = [{"isValid": False, "message": f"{owner} was not a valid owner ID", "error": "INVALID_OWNER_ID",
                       "name": "hubspot_owner_id"}]
            raise PortalError(400, "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(detail)}")

    def create(self, kind: str, props: dict[str, Any], created_ms: int | None = None,
               object_id: str | None = None) -> HubObject:
        """A new object (with the next id unless given one); values are stored as strings, as HubSpot does."""
        self.check_properties(kind, props)
        with self.lock:
            if kind == "contacts" and props.get("email"):
                self._check_email_free(str(props["email"]))
            now = self.now()
            object_id = object_id or str(next(self._ids))
            values: dict[str, str | None] = {k: None if v is None else str(v) for k, v in props.items()}
            created = created_ms or now
            values.update({"hs_object_id": object_id, CREATED[kind]: iso(created), MODIFIED[kind]: iso(now)})
            obj = HubObject(object_id, values, created, now)
            self.objects[kind][object_id] = obj
            self._remember(kind, object_id)
            return obj

    def _check_email_free(self, email: str) -> None:
        """HubSpot keeps one contact per email, primary or secondary: a second is a 409 naming the first."""
        wanted = email.strip().lower()
        for contact in self.objects["contacts"].values():
            secondary = (contact.properties.get(SECONDARY_EMAILS) or "").split(";")
            emails = [contact.properties.get("email") or "", *secondary]
            if contact.archived_ms is None and wanted in (e.strip().lower() for e in emails if e):
                raise PortalError(409, "CONFLICT", f"Contact already exists. Existing ID: {contact.id}")

    def remove_secondary_email(self, contact_id: str, email: str) -> HubObject:
        """``DELETE /contacts/v1/secondary-email/{vid}/email/{email}``: the only way to take one off a contact."""
        with self.lock:
            contact = self.resolve("contacts", contact_id)
            if contact is None:
                raise PortalError(404, "OBJECT_NOT_FOUND", f"contact {contact_id} does not exist")
            emails = [e for e in (contact.properties.get(SECONDARY_EMAILS) or "").split(";") if e]
            if email.lower() not in (e.lower() for e in emails):
                raise PortalError(404, "OBJECT_NOT_FOUND", f"{email} is not a secondary email of {contact_id}")
            kept = [e for e in emails if e.lower() != email.lower()]
            contact.properties[SECONDARY_EMAILS] = ";".join(kept) or None
            return contact

    def resolve(self, kind: str, object_id: str) -> HubObject | None:
        """The live object behind an id, following merges the way HubSpot's reads do."""
        while object_id in self.merged_into:
            object_id = self.merged_into[object_id]
        obj = self.objects[kind].get(object_id)
        return None if obj is None or obj.archived_ms is not None else obj

    def update(self, kind: str, object_id: str, props: dict[str, Any]) -> HubObject | None:
        self.check_properties(kind, props)
        with self.lock:
            obj = self.objects[kind].get(object_id)
            if obj is None or obj.archived_ms is not None:
                return None
            stage = props.get("dealstage")
            obj.properties.update({k: None if v in (None, "") else str(v) for k, v in props.items()})
            obj.updated_ms = self.now()
            if kind == "deals" and stage:
                obj.properties[f"hs_date_entered_{stage}"] = iso(obj.updated_ms)
            obj.properties[MODIFIED[kind]] = iso(obj.updated_ms)
            return obj

    def archive(self, kind: str, object_id: str) -> None:
        with self.lock:
            obj = self.objects[kind][object_id]
            obj.archived_ms = obj.updated_ms = self.now()
            for other in self.associated_kinds(kind):
                for to_id in list(self.associations(kind, object_id, other)):
                    self.dissociate(kind, object_id, other, to_id)

    def associated_kinds(self, kind: str) -> list[str]:
        return sorted({b for (a, b) in ASSOCIATION_TYPES if a == kind})

    def associations(self, kind: str, object_id: str, to_kind: str) -> dict[str, set[int]]:
        return self.edges.get((kind, object_id, to_kind), {})

    def associate(self, kind: str, object_id: str, to_kind: str, to_id: str, types: set[int] | None = None) -> None:
        """Link two objects with the given type ids (default: the unlabeled type), both ways."""
        types = types or {ASSOCIATION_TYPES[(kind, to_kind)]}
        with self.lock:
            self.edges.setdefault((kind, object_id, to_kind), {}).setdefault(to_id, set()).update(types)
            inverse = {INVERSE.get(t, t) for t in types}
            self.edges.setdefault((to_kind, to_id, kind), {}).setdefault(object_id, set()).update(inverse)

    def dissociate(self, kind: str, object_id: str, to_kind: str, to_id: str) -> None:
        with self.lock:
            self.edges.get((kind, object_id, to_kind), {}).pop(to_id, None)
            self.edges.get((to_kind, to_id, kind), {}).pop(object_id, None)

    def merge(self, kind: str, primary_id: str, loser_id: str) -> HubObject:
        """Fold the loser into the primary: blanks filled, associations moved, loser's id kept.

        A contact's email stays the primary's; the loser's emails become secondary emails.
        """
        if self.salesforce_sync_on and kind == "companies":
            raise PortalError(400, "VALIDATION_ERROR", "Company merges are not allowed while the Salesforce "
                              "integration is syncing companies; merge these records in Salesforce instead.")
        with self.lock:
            primary, loser = self.resolve(kind, primary_id), self.resolve(kind, loser_id)
            if primary is None or loser is None or primary.id == loser.id:
                raise PortalError(400, "VALIDATION_ERROR", f"cannot merge {loser_id} into {primary_id}")
            if kind == "contacts":
                self._take_emails(primary, loser)
            for name, value in loser.properties.items():
                if primary.properties.get(name) is None and name not in READ_ONLY | {"email", SECONDARY_EMAILS}:
                    primary.properties[name] = value
            for to_kind in self.associated_kinds(kind):
                for to_id, types in list(self.associations(kind, loser.id, to_kind).items()):
                    self.dissociate(kind, loser.id, to_kind, to_id)
                    self.associate(kind, primary.id, to_kind, to_id, types)
            del self.objects[kind][loser.id]
            merged = [i for i in (primary.properties.get("hs_merged_object_ids") or "").split(";") if i]
            merged.append(loser.id)
            self.merged_into[loser.id] = primary.id
            if self.merge_gives_new_id:
                primary = self._renumber(kind, primary)
                merged.append(primary_id)
            primary.properties["hs_merged_object_ids"] = ";".join(merged)
            primary.updated_ms = self.now()
            primary.properties[MODIFIED[kind]] = iso(primary.updated_ms)
            return primary

    @staticmethod
    def _take_emails(primary: HubObject, loser: HubObject) -> None:
        emails = [e for e in (primary.properties.get(SECONDARY_EMAILS) or "").split(";") if e]
        if not primary.properties.get("email"):
            primary.properties["email"], loser.properties["email"] = loser.properties.get("email"), None
        emails += [e for e in (loser.properties.get("email"), *(loser.properties.get(SECONDARY_EMAILS) or "")
                               .split(";")) if e and e not in emails]
        primary.properties[SECONDARY_EMAILS] = ";".join(emails) or None

    def _renumber(self, kind: str, obj: HubObject) -> HubObject:
        new_id = str(next(self._ids))
        for to_kind in self.associated_kinds(kind):
            for to_id, types in list(self.associations(kind, obj.id, to_kind).items()):
                self.dissociate(kind, obj.id, to_kind, to_id)
                self.associate(kind, new_id, to_kind, to_id, types)
        del self.objects[kind][obj.id]
        self.merged_into[obj.id] = new_id
        obj.id = obj.properties["hs_object_id"] = new_id
        self.objects[kind][new_id] = obj
        self._remember(kind, new_id)
        return obj

    def _remember(self, kind: str, object_id: str) -> None:
        self.position[kind][object_id] = len(self.order[kind])
        self.order[kind].append(object_id)
