"""Reading HubSpot: list paging, windowed search, v4 associations, owners and pipelines.

First syncs page through the list endpoints (100 per page, cursor ``paging.next.after``).
Incremental syncs use the search API (200 per page) filtered and sorted by the modification date;
one search query cannot page past 10,000 results, so when a query nears that cap the reader starts
a new one from the last modification time it saw, skipping the ids already yielded at that instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from connectors.hubspot._http import HubSpotHttp
from connectors.hubspot._mapping import epoch_ms, parse_datetime
from domain.errors import FatalConnectorError

LIST_PAGE = 100
SEARCH_PAGE = 200
SEARCH_CAP = 10_000
LINKS_PER_CALL = 1000
JsonObject = dict[str, Any]


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _next_after(body: JsonObject) -> str | None:
    after = body.get("paging", {}).get("next", {}).get("after")
    return None if after is None else str(after)


def inline_links(obj: JsonObject, kinds: Sequence[str]) -> dict[str, list[str]]:
    """The associated ids a list response carried inline, by object type, each id once."""
    found = obj.get("associations", {})
    return {k: list(dict.fromkeys(str(r["id"]) for r in found.get(k, {}).get("results", []))) for k in kinds}


def _epoch_ms(obj: JsonObject, prop: str) -> int:
    when = parse_datetime(obj["properties"].get(prop)) or parse_datetime(obj["updatedAt"])
    assert when is not None
    return epoch_ms(when)


class HubSpotReader:
    def __init__(self, http: HubSpotHttp) -> None:
        self.http = http

    def list_all(self, kind: str, properties: Sequence[str], *, archived: bool = False,
                 associations: Sequence[str] = ()) -> Iterator[JsonObject]:
        """Every object of ``kind`` (or every archived one), 100 per call, with inline associations.

        The list endpoint returns the associations it is asked for with each object, so a first sync
        spends no calls on them (the search API cannot, see :meth:`links`).
        """
        after: str | None = None
        while True:
            def send(c: Any, after: str | None = after) -> Any:
                return c.crm.objects.basic_api.get_page(
                    kind, limit=LIST_PAGE, after=after, archived=archived, properties=list(properties),
                    associations=list(associations) or None, _preload_content=False)

            body = self.http.call("read", f"list of {kind}", send).body
            yield from body["results"]
            after = _next_after(body)
            if after is None:
                return

    def search_since(self, kind: str, modified: str, since_ms: int, properties: Sequence[str]) -> Iterator[JsonObject]:
        """Objects modified at or after ``since_ms``, oldest first, however many there are."""
        lower, skip = since_ms, set[str]()
        while True:
            last_ms, at_last, capped = lower, set(skip), False
            for results, following in self._search_pages(kind, modified, lower, properties):
                for obj in results:
                    if obj["id"] in skip:
                        continue
                    ms = _epoch_ms(obj, modified)
                    if ms != last_ms:
                        last_ms, at_last = ms, set()
                    at_last.add(obj["id"])
                    yield obj
                capped = following is not None and following >= SEARCH_CAP
            if not capped:
                return
            if last_ms == lower and at_last == skip:
                raise FatalConnectorError(f"more than {SEARCH_CAP} {kind} share the modification time "
                                          f"{last_ms}; run a first (full) sync instead of an incremental one")
            lower, skip = last_ms, at_last

    def _search_pages(self, kind: str, modified: str, lower: int,
                      properties: Sequence[str]) -> Iterator[tuple[list[JsonObject], int | None]]:
        """The pages of one query with the offset of the next, up to the cap."""
        after = 0
        while True:
            request = {
                "filterGroups": [{"filters": [{"propertyName": modified, "operator": "GTE", "value": str(lower)}]}],
                "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                "properties": list(properties), "limit": SEARCH_PAGE, "after": str(after)}

            def send(c: Any, request: JsonObject = request) -> Any:
                return c.crm.objects.search_api.do_search(kind, request, _preload_content=False)

            body = self.http.call("read", f"search of {kind}", send, search=True).body
            following = _next_after(body)
            yield body["results"], None if following is None else int(following)
            if following is None or int(following) >= SEARCH_CAP:
                return
            after = int(following)

    def links(self, kind: str, ids: Sequence[str], to_kind: str) -> dict[str, list[str]]:
        """Associated ``to_kind`` ids of each object, by v4 batch read (1000 objects per call)."""
        found: dict[str, list[str]] = {}
        for chunk in chunked(ids, LINKS_PER_CALL):
            request = {"inputs": [{"id": i} for i in chunk]}

            def send(c: Any, request: JsonObject = request) -> Any:
                return c.crm.associations.v4.batch_api.get_page(kind, to_kind, request, _preload_content=False)

            body = self.http.call("read", f"{kind} to {to_kind} associations", send).body
            for result in body.get("results", []):
                found[str(result["from"]["id"])] = [str(t["toObjectId"]) for t in result["to"]]
        return found

    def associations(self, kind: str, object_id: str, to_kind: str) -> list[JsonObject]:
        """Every v4 association of one object to ``to_kind``, with its type ids (500 per call)."""
        links: list[JsonObject] = []
        after: str | None = None
        while True:
            def send(c: Any, after: str | None = after) -> Any:
                return c.crm.associations.v4.basic_api.get_page(kind, object_id, to_kind, after=after, limit=500,
                                                                _preload_content=False)

            body = self.http.call("read", f"{to_kind} of {kind} {object_id}", send).body
            links.extend(body["results"])
            after = _next_after(body)
            if after is None:
                return links

    def read_many(self, kind: str, ids: Sequence[str], properties: Sequence[str]) -> list[JsonObject]:
        """The objects with these ids (100 per call); ids HubSpot does not know are left out."""
        found: list[JsonObject] = []
        for chunk in chunked(ids, LIST_PAGE):
            request = {"inputs": [{"id": i} for i in chunk], "properties": list(properties),
                       "propertiesWithHistory": []}

            def send(c: Any, request: JsonObject = request) -> Any:
                return c.crm.objects.batch_api.read(kind, request, archived=False, _preload_content=False)

            found.extend(self.http.call("read", f"batch read of {kind}", send).body["results"])
        return found

    def owners(self, *, archived: bool) -> Iterator[JsonObject]:
        """The active owners, or the archived ones (100 per call)."""
        after: str | None = None
        while True:
            def send(c: Any, after: str | None = after) -> Any:
                return c.crm.owners.owners_api.get_page(limit=LIST_PAGE, after=after, archived=archived,
                                                        _preload_content=False)

            body = self.http.call("read", "list of owners", send).body
            yield from body["results"]
            after = _next_after(body)
            if after is None:
                return

    def deal_pipelines(self) -> JsonObject:
        def send(c: Any) -> Any:
            return c.crm.pipelines.pipelines_api.get_all("deals", _preload_content=False)

        body: JsonObject = self.http.call("read", "deal pipelines", send).body
        return body

    def properties(self, kind: str) -> list[JsonObject]:
        """Every property definition of ``kind`` (name, type, options, group...)."""
        def send(c: Any) -> Any:
            return c.crm.properties.core_api.get_all(kind, archived=False, _preload_content=False)

        results: list[JsonObject] = self.http.call("read", f"properties of {kind}", send).body["results"]
        return results

    def property_names(self, kind: str) -> dict[str, bool]:
        """Every property of ``kind``, with whether a write may set it."""
        return {p["name"]: not p.get("modificationMetadata", {}).get("readOnlyValue", False)
                for p in self.properties(kind)}
