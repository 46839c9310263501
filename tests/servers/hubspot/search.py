"""The search endpoint of the local HubSpot server: ``filterGroups`` (OR of ANDs), ``sorts``, an
offset ``after``, at most 200 per page, and a 400 past the portal's result cap (10,000 on HubSpot).
Date filters take epoch milliseconds as strings, as HubSpot's do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.servers.hubspot.portal import MODIFIED, HubObject, Portal, PortalError, Query, Reply, to_ms


def _value(text: str | None) -> float | str | None:
    if text is None or text == "":
        return None
    try:
        return float(to_ms(text)) if ("T" in text and text.endswith("Z")) else float(text)
    except ValueError:
        return text.lower()


def _prop(obj: HubObject, name: str, kind: str) -> float | str | None:
    """A property's comparable value; the modification date straight from the object, for speed."""
    return float(obj.updated_ms) if name == MODIFIED[kind] else _value(obj.properties.get(name))


def _matches(obj: HubObject, flt: dict[str, Any], kind: str) -> bool:
    have, op = _prop(obj, flt["propertyName"], kind), flt["operator"]
    if op == "HAS_PROPERTY":
        return have is not None
    if op == "NOT_HAS_PROPERTY":
        return have is None
    if op in ("IN", "NOT_IN"):
        inside = have in {_value(str(v)) for v in flt["values"]}
        return inside if op == "IN" else not inside
    want = _value(str(flt["value"]))
    if op == "EQ":
        return have == want
    if op == "NEQ":
        return have != want
    if have is None or want is None or type(have) is not type(want):
        return False
    tests: dict[str, Callable[[Any, Any], bool]] = {
        "GT": lambda a, b: a > b, "GTE": lambda a, b: a >= b, "LT": lambda a, b: a < b, "LTE": lambda a, b: a <= b}
    return tests[op](have, want)


def _modified_floor(groups: list[dict[str, Any]], kind: str) -> float:
    """The lowest modification time any group admits (a cheap first cut over large portals)."""
    floors = []
    for group in groups:
        bounds = [float(to_ms(str(f["value"]))) for f in group.get("filters", [])
                  if f["propertyName"] == MODIFIED[kind] and f["operator"] in ("GTE", "GT")]
        floors.append(max(bounds, default=float("-inf")))
    return min(floors, default=float("-inf"))


def search(portal: Portal, query: Query, body: Any, kind: str) -> Reply:
    limit, after = int(body.get("limit", 10)), int(body.get("after") or 0)
    groups = body.get("filterGroups", [])
    if limit > 200:
        raise PortalError(400, "VALIDATION_ERROR", "limit must be at most 200")
    if len(groups) > 5 or any(len(g.get("filters", [])) > 6 for g in groups):
        raise PortalError(400, "VALIDATION_ERROR", "at most 5 filterGroups of at most 6 filters")
    if after >= portal.search_cap:
        raise PortalError(400, "VALIDATION_ERROR", f"Cannot page beyond {portal.search_cap} results; narrow the query.")
    floor = _modified_floor(groups, kind)
    with portal.lock:
        candidates = [o for o in portal.objects[kind].values() if o.updated_ms >= floor and o.archived_ms is None]
        found = [o for o in candidates
                 if not groups or any(all(_matches(o, f, kind) for f in g["filters"]) for g in groups)]
    for sort in reversed(body.get("sorts") or []):
        name, reverse = sort["propertyName"], sort.get("direction") == "DESCENDING"
        found.sort(key=lambda o, n=name: (_prop(o, n, kind) is None, _prop(o, n, kind) or 0), reverse=reverse)
    page = found[after: after + limit]
    reply: dict[str, Any] = {"total": len(found),
                             "results": [o.as_json(body.get("properties"), kind) for o in page]}
    if after + limit < len(found):
        reply["paging"] = {"next": {"after": str(after + limit)}}
    return Reply(200, reply)
