"""An org's metadata as the fake serves it: describe, the stage and status setup objects, the Metadata API.

``describe`` answers ``GET /sobjects/{name}/describe`` from the org's schema (every field the
integration user can see, with its type, external-id and unique flags and picklist values) and
the user's object permissions. ``OpportunityStage``, ``LeadStatus``, ``Organization`` and
``RecordType`` are ordinary queryable tables of the org. ``create_metadata`` answers the Metadata
API's ``createMetadata`` for custom fields (``Activity.X__c`` lands on Task, as on Salesforce).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from tests.servers.salesforce.org import Org

METADATA = "{http://soap.sforce.com/2006/04/metadata}"
SOAPENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
PICKLISTS = {("Opportunity", "StageName"): "OpportunityStage", ("Lead", "Status"): "LeadStatus"}
MERGEABLE = ("Account", "Contact", "Lead")
TEXT_TYPES = {"Name", "Email", "Website", "Phone", "Subject", "Description", "Title", "Body", "Company",
              "FirstName", "LastName", "BillingCity", "BillingPostalCode", "BillingCountry", "TimeZoneSidKey"}


def _field_type(org: Org, sobject: str, name: str) -> str:
    if name in org.field_types.get(sobject, {}):
        return org.field_types[sobject][name]
    if name == "Id":
        return "id"
    if name.endswith("Id"):
        return "reference"
    if name.startswith("Is"):
        return "boolean"
    if (sobject, name) in PICKLISTS or name in ("Type", "Priority", "TaskSubtype", "Status"):
        return "picklist"
    if name.endswith("Date") and name != "CreatedDate":
        return "date"
    if name in ("CreatedDate", "SystemModstamp", "LastModifiedDate", "CompletedDateTime"):
        return "datetime"
    return "double" if name in ("Amount", "Probability") else "string"


def _picklist(org: Org, sobject: str, name: str) -> list[dict[str, Any]]:
    table = PICKLISTS.get((sobject, name))
    if table is not None:
        rows = sorted(org.tables[table].values(), key=lambda r: r.get("SortOrder") or 0)
        return [{"active": True, "defaultValue": False, "label": r["MasterLabel"], "validFor": None,
                 "value": r["ApiName"]} for r in rows if r.get("IsActive", True)]
    return [{"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in org.picklists.get((sobject, name), ())]


def describe(org: Org, sobject: str) -> dict[str, Any]:
    """``describeSObject`` for one object, as the integration user sees it."""
    allowed = org.permissions.get(sobject, {"read", "create", "update", "merge"})
    fields = []
    for name in ["Id", "IsDeleted", "CreatedDate", "SystemModstamp", "LastModifiedDate", *org.schema[sobject]]:
        options = org.field_options.get((sobject, name), {})
        kind = _field_type(org, sobject, name)
        fields.append({
            "name": name, "label": name, "type": kind, "custom": name.endswith("__c"),
            "externalId": bool(options.get("externalId")), "unique": bool(options.get("unique")),
            "length": 255 if kind == "string" else 0, "nillable": name != "Id",
            "createable": name not in ("Id", "IsDeleted", "CreatedDate", "SystemModstamp", "LastModifiedDate"),
            "updateable": name not in ("Id", "IsDeleted", "CreatedDate", "SystemModstamp", "LastModifiedDate"),
            "picklistValues": _picklist(org, sobject, name) if kind == "picklist" else []})
    return {"name": sobject, "label": sobject, "custom": False, "queryable": "read" in allowed,
            "createable": "create" in allowed, "updateable": "update" in allowed,
            "deletable": "update" in allowed, "mergeable": sobject in MERGEABLE and "merge" in allowed,
            "fields": fields, "recordTypeInfos": []}


def picklist_values(org: Org, record_type_id: str, field: str) -> dict[str, Any]:
    """UI API ``/ui-api/object-info/Opportunity/picklist-values/{recordTypeId}/{field}``."""
    allowed = org.record_type_values.get(record_type_id)
    values = [v for v in _picklist(org, "Opportunity", field) if allowed is None or v["value"] in allowed]
    return {"controllerValues": {}, "defaultValue": None, "eTag": "0", "url": (
        f"/services/data/v59.0/ui-api/object-info/Opportunity/picklist-values/{record_type_id}/{field}"),
        "values": [{"attributes": None, "label": v["label"], "validFor": [], "value": v["value"]} for v in values]}


def _result(full_name: str, errors: list[tuple[str, str]]) -> str:
    errs = "".join(f"<errors><message>{escape(m)}</message><statusCode>{c}</statusCode></errors>" for c, m in errors)
    return f"<result>{errs}<fullName>{escape(full_name)}</fullName><success>{'false' if errors else 'true'}" \
           "</success></result>"


def create_metadata(org: Org, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """``createMetadata`` of ``CustomField`` components; a user without Customize Application gets a fault."""
    root = ElementTree.fromstring(body)
    call = root.find(f"{SOAPENV}Body/{METADATA}createMetadata")
    if "customize" not in org.user_permissions:
        return _fault("INSUFFICIENT_ACCESS", "insufficient access rights on cross-reference id")
    if call is None:
        return _fault("INVALID_OPERATION", "only createMetadata is supported here")
    results = []
    for item in call.findall(f"{METADATA}metadata"):
        full_name = item.findtext(f"{METADATA}fullName", "")
        sobject, _, name = full_name.partition(".")
        sobject = "Task" if sobject == "Activity" else sobject
        if sobject not in org.schema or not name.endswith("__c"):
            results.append(_result(full_name, [("INVALID_CROSS_REFERENCE_KEY", f"no such object: {sobject}")]))
        elif name in org.schema[sobject]:
            results.append(_result(full_name, [("DUPLICATE_DEVELOPER_NAME", f"There is already a field named {name}")]))
        else:
            org.schema[sobject].append(name)
            for row in org.tables[sobject].values():
                row.setdefault(name, None)
            org.field_options[(sobject, name)] = {
                flag: item.findtext(f"{METADATA}{flag}") == "true" for flag in ("externalId", "unique")}
            results.append(_result(full_name, []))
    inner = f"<createMetadataResponse>{''.join(results)}</createMetadataResponse>"
    return 200, {"Content-Type": "text/xml;charset=UTF-8"}, _envelope(inner)


def _envelope(inner: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/'
            'soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{inner}</soapenv:Body>'
            "</soapenv:Envelope>").encode()


def _fault(code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    inner = (f'<soapenv:Fault><faultcode xmlns:sf="http://soap.sforce.com/2006/04/metadata">sf:{code}</faultcode>'
             f"<faultstring>{escape(code)}: {escape(message)}</faultstring></soapenv:Fault>")
    return 500, {"Content-Type": "text/xml;charset=UTF-8"}, _envelope(inner)
