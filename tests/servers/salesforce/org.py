"""An in-memory Salesforce org: the data and the operations the fake server exposes.

Rows are kept in Salesforce's JSON form (field names, ``2026-05-01T07:25:37.000+0000`` datetimes).
Writes stamp ``SystemModstamp`` from a clock that advances one millisecond per write, so runs are
deterministic and cassettes recorded from it match on replay.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.servers.salesforce import soql as sf_soql

STAMPS = ["Id", "IsDeleted", "CreatedDate", "SystemModstamp", "LastModifiedDate"]
SCHEMA: dict[str, list[str]] = {
    "User": ["Name", "Email", "IsActive", "ManagerId", "TimeZoneSidKey"],
    "Group": ["Name", "Email", "Type"],
    "Account": ["Name", "OwnerId", "Website", "Phone", "BillingCity", "BillingPostalCode", "BillingCountry",
                "Type", "MasterRecordId"],
    "Contact": ["Name", "FirstName", "LastName", "AccountId", "OwnerId", "Email", "Phone", "MasterRecordId"],
    "Lead": ["Name", "FirstName", "LastName", "Company", "OwnerId", "Status", "Email", "Phone", "LeadSource",
             "Description", "MasterRecordId"],
    "Opportunity": ["Name", "AccountId", "OwnerId", "StageName", "LastStageChangeDate", "Amount", "Probability",
                    "CloseDate", "IsClosed", "IsWon", "PartnerAccountId"],
    "Task": ["Subject", "OwnerId", "Status", "IsClosed", "TaskSubtype", "Type", "Priority", "ActivityDate",
             "CompletedDateTime", "WhatId", "WhoId", "Description", "Warden_Key__c"],
    "Event": ["Subject", "OwnerId", "Type", "EventSubtype", "ActivityDateTime", "WhatId", "WhoId", "Description"],
    "Note": ["ParentId", "Title", "Body"],
    "OpportunityHistory": ["OpportunityId", "StageName", "Amount", "CloseDate", "Probability"],
    "OpportunityContactRole": ["OpportunityId", "ContactId", "Role", "IsPrimary"],
    "OpportunityStage": ["ApiName", "MasterLabel", "DefaultProbability", "IsActive", "IsClosed", "IsWon", "SortOrder"],
    "LeadStatus": ["ApiName", "MasterLabel", "IsConverted", "IsDefault", "SortOrder"],
    "Organization": ["Name", "TimeZoneSidKey", "DefaultLocaleSidKey", "Country"],
    "RecordType": ["Name", "DeveloperName", "SobjectType", "IsActive", "BusinessProcessId"],
}
STAGES = [("Prospecting", 10, False, False), ("Qualification", 10, False, False), ("Needs Analysis", 20, False, False),
          ("Value Proposition", 50, False, False), ("Id. Decision Makers", 60, False, False),
          ("Perception Analysis", 70, False, False), ("Proposal/Price Quote", 75, False, False),
          ("Negotiation/Review", 90, False, False), ("Closed Won", 100, True, True), ("Closed Lost", 0, True, False)]
"""A new Developer Edition org's opportunity stages: API name, default probability, closed, won."""
LEAD_STATUSES = [("Open - Not Contacted", False), ("Working - Contacted", False), ("Closed - Converted", True),
                 ("Closed - Not Converted", False)]
ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
                 "Installation Partner", "Technology Partner", "Other")
PREFIXES = {"User": "005", "Group": "00G", "Account": "001", "Contact": "003", "Lead": "00Q",
            "Opportunity": "006", "Task": "00T", "Event": "00U", "Note": "002", "OpportunityContactRole": "00K",
            "OpportunityStage": "01J", "LeadStatus": "01J",
            "Organization": "00D", "RecordType": "012"}
HISTORY_FIELDS = ("StageName", "Amount", "CloseDate", "Probability")
"""An opportunity change to one of these adds an OpportunityHistory row, as Salesforce does."""
READ_ONLY = {"Id", "IsDeleted", "CreatedDate", "SystemModstamp", "LastModifiedDate", "MasterRecordId", "IsClosed",
             "IsWon", "LastStageChangeDate", "CompletedDateTime"}
REFERENCES = {"OwnerId": ("User", "Group"), "AccountId": ("Account",), "ManagerId": ("User",),
              "PartnerAccountId": ("Account",), "WhatId": ("Account", "Opportunity"), "WhoId": ("Contact", "Lead"),
              "ParentId": ("Account", "Contact", "Lead", "Opportunity"), "ContactId": ("Contact",)}
CLOSED_STAGES = {"Closed Won", "Closed Lost", "No Decision"}
"""Closed opportunity stages of an org without ``OpportunityStage`` rows: Salesforce derives IsClosed and IsWon."""


def sf_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class Refused(Exception):
    """A request-level error: HTTP status, errorCode, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Org:
    schema: dict[str, list[str]] = field(default_factory=lambda: copy.deepcopy(SCHEMA))
    """Fields per object; add custom fields (``Tier__c``) to an org's own copy."""
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {name: {} for name in SCHEMA})
    now: datetime = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    clock: Callable[[], datetime] | None = None
    """When set, writes are stamped with its time instead of the one-millisecond ticks."""
    max_page: int = 2000
    locked: dict[str, int] = field(default_factory=dict)
    """Record id -> how many more writes to refuse with UNABLE_TO_LOCK_ROW."""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _history_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    cursors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    field_options: dict[tuple[str, str], dict[str, bool]] = field(
        default_factory=lambda: {("Task", "Warden_Key__c"): {"externalId": True, "unique": True}})
    """(object, field) -> ``externalId``/``unique`` flags of custom fields."""
    field_types: dict[str, dict[str, str]] = field(default_factory=dict)
    """Object -> field -> describe type, where the guess from its name is wrong (a key field made a number)."""
    picklists: dict[tuple[str, str], tuple[str, ...]] = field(
        default_factory=lambda: {("Account", "Type"): ACCOUNT_TYPES})
    permissions: dict[str, set[str]] = field(default_factory=dict)
    """Object -> what the integration user may do with it (read, create, update, merge); absent: everything."""
    user_permissions: set[str] = field(default_factory=lambda: {"customize"})
    """``customize``: the user may create fields through the Metadata API (Customize Application)."""
    record_type_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Opportunity record type id -> the stages its sales process allows."""

    def may(self, sobject: str, what: str) -> bool:
        return what in self.permissions.get(sobject, {"read", "create", "update", "merge"})

    def unique_fields(self, sobject: str) -> list[str]:
        return [name for (obj, name), flags in self.field_options.items() if obj == sobject and flags.get("unique")]

    def closed_stages(self) -> tuple[set[str], set[str]]:
        """The closed stages and the won ones, from ``OpportunityStage`` (or the demo's names without it)."""
        rows = list(self.tables["OpportunityStage"].values())
        if not rows:
            return CLOSED_STAGES, {"Closed Won"}
        return {r["ApiName"] for r in rows if r["IsClosed"]}, {r["ApiName"] for r in rows if r["IsWon"]}

    def seed_setup(self, stages: list[tuple[str, float, bool, bool]] | None = None,
                   statuses: list[tuple[str, bool]] | None = None, *, time_zone: str = "America/Los_Angeles",
                   locale: str = "en_US") -> None:
        """The setup a new org comes with: stages, lead statuses and the organization row."""
        for n, (name, probability, closed, won) in enumerate(stages or STAGES, start=1):
            self.add("OpportunityStage", ApiName=name, MasterLabel=name, DefaultProbability=float(probability),
                     IsActive=True, IsClosed=closed, IsWon=won, SortOrder=n)
        for n, (name, converted) in enumerate(statuses or LEAD_STATUSES, start=1):
            self.add("LeadStatus", ApiName=name, MasterLabel=name, IsConverted=converted, IsDefault=n == 1,
                     SortOrder=n)
        self.add("Organization", Name="Org", TimeZoneSidKey=time_zone, DefaultLocaleSidKey=locale, Country=None)

    def tick(self) -> str:
        self.now = self.clock() if self.clock else self.now + timedelta(milliseconds=1)
        return sf_datetime(self.now)

    def new_id(self, sobject: str) -> str:
        return f"{PREFIXES[sobject]}{next(self._ids):012d}AAA"

    def add(self, sobject: str, **values: Any) -> str:
        """Seed one record directly (no API call); returns its id."""
        stamp = self.tick()
        record_id = str(values.pop("Id", None) or self.new_id(sobject))
        row: dict[str, Any] = dict.fromkeys(self.schema[sobject])
        row |= {"Id": record_id, "IsDeleted": False, "CreatedDate": stamp, "SystemModstamp": stamp,
                "LastModifiedDate": stamp, **values}
        self.tables[sobject][record_id] = row
        if sobject == "Opportunity":
            self._history(row, stamp)
        return record_id

    def touch(self, sobject: str, record_id: str, **values: Any) -> None:
        """Change a record as a user would, stamping it."""
        row = self.tables[sobject][record_id]
        stamp = self.tick()
        tracked = sobject == "Opportunity" and any(k in values and values[k] != row.get(k) for k in HISTORY_FIELDS)
        if "StageName" in values and values["StageName"] != row.get("StageName"):
            row["LastStageChangeDate"] = stamp
            closed, won = self.closed_stages()
            row["IsClosed"], row["IsWon"] = values["StageName"] in closed, values["StageName"] in won
        row.update(values)
        row["SystemModstamp"] = row["LastModifiedDate"] = stamp
        if sobject == "Task":
            row["IsClosed"] = row.get("Status") == "Completed"
        if tracked:
            self._history(row, stamp)

    def _history(self, opportunity: dict[str, Any], stamp: str) -> None:
        """One OpportunityHistory row: the stage and forecast the opportunity has from ``stamp`` on."""
        history_id = f"008{next(self._history_ids):012d}AAA"
        self.tables["OpportunityHistory"][history_id] = {
            "Id": history_id, "IsDeleted": False, "CreatedDate": stamp, "SystemModstamp": stamp,
            "LastModifiedDate": stamp, "OpportunityId": opportunity["Id"],
            **{name: opportunity.get(name) for name in HISTORY_FIELDS},
        }

    def find(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        for sobject, table in self.tables.items():
            if record_id in table:
                return sobject, table[record_id]
        return None

    def query(self, soql: str, include_deleted: bool) -> list[dict[str, Any]]:
        """Every matching row, projected to the selected fields with Salesforce's ``attributes``."""
        try:
            q = sf_soql.parse(soql)
        except (sf_soql.MalformedQuery, IndexError, ValueError) as exc:
            raise Refused(400, "MALFORMED_QUERY", str(exc)) from None
        if q.sobject not in self.schema or not self.may(q.sobject, "read"):
            raise Refused(400, "INVALID_TYPE", f"sObject type '{q.sobject}' is not supported.")
        known = set(STAMPS) | set(self.schema[q.sobject])
        for name in [*q.fields, *(c.field for c in q.conditions)]:
            if name not in known:
                raise Refused(400, "INVALID_FIELD", f"No such column '{name}' on entity '{q.sobject}'.")
        rows = [r for r in self.tables[q.sobject].values() if include_deleted or not r["IsDeleted"]]
        rows = [r for r in rows if all(sf_soql.matches(r, c) for c in q.conditions)]
        rows.sort(key=lambda r: sf_soql.sort_key(r, q.order))
        return [self._project(q.sobject, r, q.fields) for r in rows[: q.limit]]

    @staticmethod
    def _project(sobject: str, row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        url = f"/services/data/v59.0/sobjects/{sobject}/{row['Id']}"
        return {"attributes": {"type": sobject, "url": url}, **{f: row.get(f) for f in fields}}

    def write(self, method: str, record: dict[str, Any]) -> dict[str, Any]:
        """One record of an sObject Collections call; returns its per-record answer."""
        sobject = record.get("attributes", {}).get("type", "")
        values = {k: v for k, v in record.items() if k not in ("attributes", "Id")}
        try:
            self._check(sobject, values)
            if not self.may(sobject, "create" if method == "POST" else "update"):
                raise Refused(400, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id")
            if method == "POST":
                return {"id": self._create(sobject, values), "success": True, "errors": []}
            return {"id": self._update(sobject, str(record.get("Id")), values), "success": True, "errors": []}
        except Refused as exc:
            return {"success": False, "errors": [{"statusCode": exc.code, "message": exc.message, "fields": []}]}

    def _check(self, sobject: str, values: dict[str, Any]) -> None:
        if sobject not in self.schema:
            raise Refused(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        for name, value in values.items():
            computed = name in READ_ONLY or (name == "Name" and sobject in ("Contact", "Lead"))
            if name not in self.schema[sobject] or computed:
                raise Refused(400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {name}.")
            targets = REFERENCES.get(name)
            if value is not None and targets and not self._live(str(value), targets):
                raise Refused(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            if name == "OwnerId" and value is not None and self.tables["User"].get(value, {}).get("IsActive") is False:
                raise Refused(400, "INACTIVE_OWNER_OR_USER", "operation performed with inactive user")
        for unique in self.unique_fields(sobject):
            if values.get(unique) is None:
                continue
            clash = [r for r in self.tables[sobject].values() if r.get(unique) == values[unique] and not r["IsDeleted"]]
            if clash:
                raise Refused(400, "DUPLICATE_VALUE", f"duplicate value found: {unique} duplicates value on record "
                                                      f"with id: {clash[0]['Id']}")

    def delete(self, record_id: str) -> dict[str, Any]:
        """One id of an sObject Collections DELETE: into the recycle bin (``IsDeleted``), or why not."""
        found = self.find(record_id)
        if found is None or found[1]["IsDeleted"]:
            return {"id": record_id, "success": False,
                    "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]}
        self.touch(found[0], record_id, IsDeleted=True)
        return {"id": record_id, "success": True, "errors": []}

    def _live(self, record_id: str, sobjects: tuple[str, ...]) -> bool:
        found = self.find(record_id)
        return found is not None and found[0] in sobjects and not found[1]["IsDeleted"]

    def _create(self, sobject: str, values: dict[str, Any]) -> str:
        if sobject in ("Contact", "Lead"):
            values["Name"] = " ".join(filter(None, (values.get("FirstName"), values.get("LastName"))))
        record_id = self.add(sobject, **values)
        if sobject == "Task":
            self.tables["Task"][record_id]["IsClosed"] = values.get("Status") == "Completed"
        return record_id

    def _update(self, sobject: str, record_id: str, values: dict[str, Any]) -> str:
        row = self.tables[sobject].get(record_id)
        if row is None or row["IsDeleted"]:
            raise Refused(404, "ENTITY_IS_DELETED", "entity is deleted")
        if self.locked.get(record_id, 0) > 0:
            self.locked[record_id] -= 1
            raise Refused(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
        self.touch(sobject, record_id, **values)
        return record_id

    def merge(self, sobject: str, master_id: str, loser_ids: list[str]) -> dict[str, Any]:
        """One merge request: every lookup to a loser moves to the master, losers go to the recycle bin."""
        if not self._live(master_id, (sobject,)) or not all(self._live(i, (sobject,)) for i in loser_ids):
            bad = next(i for i in [master_id, *loser_ids] if not self._live(i, (sobject,)))
            return {"success": False, "errors": [("ENTITY_IS_DELETED", f"entity is deleted or not a {sobject}: {bad}")]}
        moved = []
        for child, table in self.tables.items():
            for row in table.values():
                pointers = {f: master_id for f in REFERENCES if f in row and row[f] in loser_ids}
                if pointers and not row["IsDeleted"] and row["Id"] not in loser_ids:
                    self.touch(child, row["Id"], **pointers)
                    moved.append(row["Id"])
        for loser in loser_ids:
            self.touch(sobject, loser, IsDeleted=True, MasterRecordId=master_id)
        self.touch(sobject, master_id)
        return {"success": True, "id": master_id, "merged": loser_ids, "related": moved}

    def undelete(self, record_id: str) -> tuple[bool, str]:
        found = self.find(record_id)
        if found is None or not found[1]["IsDeleted"]:
            return False, "UNDELETE_FAILED"
        self.touch(found[0], record_id, IsDeleted=False, MasterRecordId=None)
        return True, ""
