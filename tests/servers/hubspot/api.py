"""The endpoints of the local HubSpot server: request JSON in, HubSpot's response JSON out.

Shapes follow API-FACTS.md: list paging by ``paging.next.after`` (100 per page, no ``paging`` on
the last page), search with ``filterGroups``/``sorts``/offset ``after`` (200 per page, 400 past
10,000 results), batch calls of at most 100 inputs answering 207 with per-record errors, v4
associations with numeric ``toObjectId``, merges of companies and contacts, and the v1 call that takes a
secondary email off a contact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from tests.servers.hubspot.portal import (
    ASSOCIATION_TYPES,
    SECONDARY_EMAILS,
    HubObject,
    Portal,
    PortalError,
    Query,
    Reply,
    iso,
)
from tests.servers.hubspot.search import search


def _props(query: Query) -> list[str]:
    return [p for value in query.get("properties", []) for p in value.split(",") if p]


def _inline_associations(portal: Portal, kind: str, object_id: str, query: Query) -> dict[str, Any]:
    """The v3 list's ``associations`` block: only the kinds asked for that have links."""
    wanted = [k for value in query.get("associations", []) for k in value.split(",") if k]
    block = {}
    for to_kind in wanted:
        links = portal.associations(kind, object_id, to_kind)
        if links:
            label = f"{kind.rstrip('s')}_to_{to_kind.rstrip('s')}".replace("companie", "company")
            block[to_kind] = {"results": [{"id": i, "type": label} for i in sorted(links)]}
    return {"associations": block} if block else {}


def list_objects(portal: Portal, query: Query, body: Any, kind: str) -> Reply:
    limit = int(query.get("limit", ["10"])[0])
    if limit > 100:
        raise PortalError(400, "VALIDATION_ERROR", "limit must be at most 100")
    archived = query.get("archived", ["false"])[0].lower() == "true"
    rows: list[HubObject] = []
    with portal.lock:
        ids, objects = portal.order[kind], portal.objects[kind]
        index = portal.position[kind].get(query.get("after", [""])[0], 0)
        while index < len(ids) and len(rows) <= limit:
            obj = objects.get(str(ids[index]))
            if obj is not None and (obj.archived_ms is not None) == archived:
                rows.append(obj)
            index += 1
        results = [o.as_json(_props(query), kind) | _inline_associations(portal, kind, o.id, query)
                   for o in rows[:limit]]
    reply: dict[str, Any] = {"results": results}
    if len(rows) > limit:
        nxt = rows[limit].id
        reply["paging"] = {"next": {"after": nxt, "link": f"/crm/v3/objects/{kind}?after={nxt}"}}
    return Reply(200, reply)


def get_object(portal: Portal, query: Query, body: Any, kind: str, object_id: str) -> Reply:
    obj = portal.resolve(kind, object_id)
    if obj is None:
        raise PortalError(404, "OBJECT_NOT_FOUND", f"resource not found: {kind} {object_id}")
    return Reply(200, obj.as_json(_props(query), kind))


def update_object(portal: Portal, query: Query, body: Any, kind: str, object_id: str) -> Reply:
    portal.check_owner(body.get("properties", {}))
    obj = portal.update(kind, object_id, body.get("properties", {}))
    if obj is None:
        raise PortalError(404, "OBJECT_NOT_FOUND", f"resource not found: {kind} {object_id}")
    return Reply(200, obj.as_json(list(obj.properties), kind))


def create_object(portal: Portal, query: Query, body: Any, kind: str) -> Reply:
    portal.check_owner(body.get("properties", {}))
    obj = portal.create(kind, body.get("properties", {}))
    _associate_inputs(portal, kind, obj.id, body.get("associations", []))
    return Reply(201, obj.as_json(list(obj.properties), kind))


def _associate_inputs(portal: Portal, kind: str, object_id: str, associations: list[dict[str, Any]]) -> None:
    by_type = {v: b for (a, b), v in ASSOCIATION_TYPES.items() if a == kind}
    for link in associations:
        for spec in link["types"]:
            to_kind = by_type[int(spec["associationTypeId"])]
            portal.associate(kind, object_id, to_kind, str(link["to"]["id"]), {int(spec["associationTypeId"])})


def _batch_reply(kind: str, verb: str, results: list[dict[str, Any]], missing: list[str],
                 refused: dict[str, str], status: int = 200) -> Reply:
    now = iso(int(time.time() * 1000))
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    errors = [{"status": "error", "category": "VALIDATION_ERROR", "message": msg, "context": {"ids": [i]}}
              for i, msg in refused.items()]
    if missing:
        errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": missing},
                       "message": f"Could not {verb} some {kind} objects, they may be deleted or not exist."})
    if errors:
        body |= {"numErrors": len(errors), "errors": errors}
    return Reply(207 if errors else status, body)


def _check_batch(inputs: list[dict[str, Any]], key: str | None = "id") -> None:
    if len(inputs) > 100:
        raise PortalError(400, "VALIDATION_ERROR", f"Batch of {len(inputs)} inputs; at most 100 allowed.")
    ids = [str(i[key]) for i in inputs] if key else []
    if len(set(ids)) != len(ids):
        raise PortalError(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input.")


def batch(portal: Portal, query: Query, body: Any, kind: str, verb: str) -> Reply:
    inputs = body.get("inputs", [])
    _check_batch(inputs, None if verb == "create" else "id")
    for item in inputs:
        portal.check_owner(item.get("properties", {}))
    results: list[dict[str, Any]] = []
    missing: list[str] = []
    refused = {str(i["id"]): portal.refused[str(i["id"])] for i in inputs
               if verb == "update" and str(i.get("id")) in portal.refused}
    for item in inputs:
        if verb == "create":
            obj: HubObject | None = portal.create(kind, item.get("properties", {}))
            assert obj is not None
            _associate_inputs(portal, kind, obj.id, item.get("associations", []))
        elif verb == "update":
            portal.check_properties(kind, item.get("properties", {}))
            if str(item["id"]) in refused:
                continue
            obj = portal.update(kind, str(item["id"]), item.get("properties", {}))
        else:
            obj = portal.resolve(kind, str(item["id"]))
        if obj is None:
            missing.append(str(item["id"]))
        else:
            results.append(obj.as_json(body.get("properties") or list(obj.properties), kind))
    if verb == "create":
        results.reverse()  # HubSpot does not promise input order; neither do we.
    return _batch_reply(kind, verb, results, missing, refused, 201 if verb == "create" else 200)


def batch_archive(portal: Portal, query: Query, body: Any, kind: str) -> Reply:
    """``POST .../batch/archive``: 204 without a body, whether or not each id was live."""
    inputs = body.get("inputs", [])
    _check_batch(inputs, "id")
    for item in inputs:
        obj = portal.objects[kind].get(str(item["id"]))
        if obj is not None and obj.archived_ms is None:
            portal.archive(kind, obj.id)
    return Reply(204, None)


def merge(portal: Portal, query: Query, body: Any, kind: str) -> Reply:
    merged = portal.merge(kind, str(body["primaryObjectId"]), str(body["objectIdToMerge"]))
    return Reply(200, merged.as_json(list(merged.properties), kind))


def remove_secondary_email(portal: Portal, query: Query, body: Any, vid: str, email: str) -> Reply:
    """The v1 contacts API: take one secondary email off a contact (v3 cannot)."""
    contact = portal.remove_secondary_email(vid, unquote(email))
    emails = [e for e in (contact.properties.get(SECONDARY_EMAILS) or "").split(";") if e]
    return Reply(200, {"portalId": 62515, "vid": int(contact.id), "secondaryEmails": emails})


def _links(portal: Portal, kind: str, object_id: str, to_kind: str) -> list[dict[str, Any]]:
    return [{"toObjectId": int(to_id) if to_id.isdigit() else to_id, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None} for t in sorted(types)]}
            for to_id, types in sorted(portal.associations(kind, object_id, to_kind).items())]


def list_associations(portal: Portal, query: Query, body: Any, kind: str, object_id: str, to_kind: str) -> Reply:
    links = _links(portal, kind, object_id, to_kind)
    after, limit = int(query.get("after", ["0"])[0]), int(query.get("limit", ["500"])[0])
    reply: dict[str, Any] = {"results": links[after: after + limit]}
    if after + limit < len(links):
        reply["paging"] = {"next": {"after": str(after + limit)}}
    return Reply(200, reply)


def batch_associations(portal: Portal, query: Query, body: Any, kind: str, to_kind: str, verb: str) -> Reply:
    inputs = body.get("inputs", [])
    if len(inputs) > 1000:
        raise PortalError(400, "VALIDATION_ERROR", "at most 1000 inputs per association batch")
    if verb == "archive":
        for item in inputs:
            for to in item["to"]:
                portal.dissociate(kind, str(item["from"]["id"]), to_kind, str(to["id"]))
        return Reply(204, None)
    if verb == "create":
        for item in inputs:
            types = {int(t["associationTypeId"]) for t in item["types"]}
            portal.associate(kind, str(item["from"]["id"]), to_kind, str(item["to"]["id"]), types)
        return _batch_reply(kind, verb, [], [], {}, 201)
    results, missing = [], []
    for item in inputs:
        links = _links(portal, kind, str(item["id"]), to_kind)
        if links:
            results.append({"from": {"id": str(item["id"])}, "to": links})
        else:
            missing.append(str(item["id"]))
    return _batch_reply(kind, verb, results, missing, {})


def owners(portal: Portal, query: Query, body: Any) -> Reply:
    after, limit = int(query.get("after", ["0"])[0]), int(query.get("limit", ["100"])[0])
    archived = query.get("archived", ["false"])[0].lower() == "true"
    chosen = [o for o in portal.owners if o["archived"] == archived]
    reply: dict[str, Any] = {"results": chosen[after: after + limit]}
    if after + limit < len(chosen):
        reply["paging"] = {"next": {"after": str(after + limit)}}
    return Reply(200, reply)


def pipelines(portal: Portal, query: Query, body: Any, kind: str) -> Reply:
    return Reply(200, {"results": portal.pipelines})


def properties(portal: Portal, query: Query, body: Any, kind: str) -> Reply:
    return Reply(200, {"results": [portal.property_definition(kind, name) for name in portal.property_names(kind)]})


def create_property(portal: Portal, query: Query, body: Any, kind: str) -> Reply:
    return Reply(201, portal.create_property(kind, body))


def account_details(portal: Portal, query: Query, body: Any) -> Reply:
    """``GET /account-info/v3/details``: the portal's id, time zone and currency."""
    return Reply(200, {"portalId": 62515, "accountType": "STANDARD", "timeZone": portal.time_zone,
                       "companyCurrency": "USD", "additionalCurrencies": [], "utcOffset": "-05:00",
                       "utcOffsetMilliseconds": -18000000, "uiDomain": "app.hubspot.com",
                       "dataHostingLocation": "na1"})


_KIND = "([a-z_]+)"
_ID = "([^/]+)"
ROUTES: list[tuple[str, str, Callable[..., Reply]]] = [
    ("GET", f"/crm/v3/objects/{_KIND}", list_objects),
    ("GET", f"/crm/v3/objects/{_KIND}/{_ID}", get_object),
    ("POST", f"/crm/v3/objects/{_KIND}", create_object),
    ("PATCH", f"/crm/v3/objects/{_KIND}/{_ID}", update_object),
    ("POST", f"/crm/v3/objects/{_KIND}/search", search),
    ("POST", f"/crm/v3/objects/{_KIND}/merge", merge),
    ("POST", f"/crm/v3/objects/{_KIND}/batch/(read|create|update)", batch),
    ("POST", f"/crm/v3/objects/{_KIND}/batch/archive", batch_archive),
    ("GET", f"/crm/v4/objects/{_KIND}/{_ID}/associations/{_KIND}", list_associations),
    ("POST", f"/crm/v4/associations/{_KIND}/{_KIND}/batch/(read|create|archive)", batch_associations),
    ("GET", "/crm/v3/owners/?", owners),
    ("GET", f"/crm/v3/pipelines/{_KIND}", pipelines),
    ("GET", f"/crm/v3/properties/{_KIND}", properties),
    ("POST", f"/crm/v3/properties/{_KIND}", create_property),
    ("GET", "/account-info/v3/details", account_details),
    ("DELETE", f"/contacts/v1/secondary-email/{_ID}/email/{_ID}", remove_secondary_email),
]
