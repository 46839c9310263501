"""Merging HubSpot companies, and undoing it, which HubSpot itself cannot do.

``POST /crm/v3/objects/companies/merge`` takes one pair per call, so a cluster is merged as a chain
into whatever the survivor is called after each step: HubSpot may hand the survivor back under a
new id. Before merging, the caller takes :meth:`HubSpotMerger.snapshot` of every company with every
property and every association to contacts, deals, tasks and notes. :meth:`HubSpotMerger.restore`
resets the survivor (found through the loser's old id, which HubSpot keeps resolving), re-creates
each merged-away company with its properties, and moves its children back. Snapshots are expected
survivor first, the order dedupe takes them in; a snapshot whose id is still the live id wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from connectors.hubspot._http import HubSpotHttp
from connectors.hubspot._read import HubSpotReader
from domain.connector import MergeResult, Snapshot
from domain.errors import RecordError, RetriableConnectorError
from domain.records import ObjectType

log = structlog.get_logger(__name__)
CHILD_KINDS = {"contacts": ObjectType.CONTACT, "deals": ObjectType.OPPORTUNITY, "tasks": ObjectType.TASK,
               "notes": ObjectType.NOTE}
"""HubSpot object type of each child -> the snapshot's ``children`` key."""
JsonObject = dict[str, Any]


def _links(snapshot: Snapshot, kind: str) -> dict[str, list[JsonObject]]:
    return {link["id"]: link["types"] for link in snapshot.children.get(CHILD_KINDS[kind].value, [])}


class HubSpotMerger:
    def __init__(self, http: HubSpotHttp, reader: HubSpotReader) -> None:
        self.http, self.reader = http, reader
        self._writable: dict[str, bool] | None = None

    def writable(self) -> dict[str, bool]:
        """Every company property, with whether it may be written (fetched once)."""
        if self._writable is None:
            self._writable = self.reader.property_names("companies")
        return self._writable

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        """Each company with all its properties and every association to its children."""
        _companies_only(object_type)
        found = {o["id"]: o for o in self.reader.read_many("companies", record_ids, list(self.writable()))}
        missing = [i for i in record_ids if i not in found]
        if missing:
            raise RecordError(missing[0], "no HubSpot company with this id to snapshot; check the id")
        return [Snapshot(ObjectType.ACCOUNT, i, dict(found[i]["properties"]), {
            child.value: [{"id": str(link["toObjectId"]), "types": link["associationTypes"]}
                          for link in self.reader.associations("companies", i, kind)]
            for kind, child in CHILD_KINDS.items()}) for i in record_ids]

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        """Merge the losers into the master one pair per call; the result names the final survivor id."""
        if object_type is not ObjectType.ACCOUNT:
            return MergeResult(master_id, (), False, f"HubSpot merges are done here for companies only, not "
                               f"{object_type.value} records; merge {master_id} by hand in HubSpot")
        survivor, merged = master_id, list[str]()
        for loser in loser_ids:
            request = {"primaryObjectId": survivor, "objectIdToMerge": loser}

            def send(c: Any, request: JsonObject = request) -> Any:
                return c.crm.companies.basic_api.merge(request, _preload_content=False)

            try:
                body = self.http.call("merge", f"merge of company {loser} into {survivor}", send,
                                      repeatable=False).body
            except RetriableConnectorError as exc:
                body = self._merged_already(loser)
                if body is None:
                    return MergeResult(survivor, tuple(merged), False, str(exc))
            except RecordError as exc:
                return MergeResult(survivor, tuple(merged), False, _refusal(loser, survivor, str(exc)))
            survivor = str(body["id"])
            merged.append(loser)
        return MergeResult(survivor, tuple(merged))

    def _merged_already(self, loser: str) -> JsonObject | None:
        """The survivor when a lost answer hid a merge that did happen."""
        try:
            body: JsonObject = self._get(loser, ["hs_merged_object_ids"])
        except (RecordError, RetriableConnectorError):
            return None
        merged = (body["properties"].get("hs_merged_object_ids") or "").split(";")
        return body if body["id"] != loser and loser in merged else None

    def _get(self, company_id: str, properties: list[str]) -> JsonObject:
        body: JsonObject = self.http.call("read", f"read of company {company_id}", lambda c: (
            c.crm.objects.basic_api.get_by_id("companies", company_id, properties=properties,
                                              archived=False, _preload_content=False))).body
        return body

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        """Put the snapshotted companies and their associations back as they were before the merge."""
        groups: dict[str | None, list[Snapshot]] = {}
        for snap in snapshots:
            _companies_only(snap.object_type)
            try:
                live: str | None = str(self._get(snap.record_id, [])["id"])
            except RecordError:
                live = None
            groups.setdefault(live, []).append(snap)
        for live, group in groups.items():
            keeper = next((s for s in group if s.record_id == live), group[0]) if live else None
            if live and keeper:
                self._reset(live, keeper)
            for snap in group:
                if snap is not keeper:
                    self._recreate(snap, live, keeper)

    def _reset(self, live: str, snap: Snapshot) -> None:
        props = {k: v or "" for k, v in snap.data.items() if self.writable().get(k)}
        self.http.call("write", f"restore of company {live}", lambda c: c.crm.objects.basic_api.update(
            "companies", live, {"properties": props}, _preload_content=False))
        for kind in CHILD_KINDS:
            wanted = _links(snap, kind)
            now = {str(link["toObjectId"]) for link in self.reader.associations("companies", live, kind)}
            self._unlink(live, kind, sorted(now - set(wanted)))
            self._link(live, kind, {i: t for i, t in wanted.items() if i not in now})

    def _recreate(self, snap: Snapshot, survivor: str | None, keeper: Snapshot | None) -> None:
        props = {k: v for k, v in snap.data.items() if v is not None and self.writable().get(k)}
        body = self.http.call("write", f"re-creation of company {snap.record_id}", lambda c: (
            c.crm.objects.basic_api.create("companies", {"properties": props, "associations": []},
                                           _preload_content=False)), repeatable=False).body
        new_id = str(body["id"])
        log.info("hubspot.company_restored", old_id=snap.record_id, new_id=new_id)
        for kind in CHILD_KINDS:
            links = _links(snap, kind)
            if survivor and keeper:
                self._unlink(survivor, kind, sorted(set(links) - set(_links(keeper, kind))))
            self._link(new_id, kind, links)

    def _link(self, company: str, kind: str, links: dict[str, list[JsonObject]]) -> None:
        if not links:
            return
        request = {"inputs": [{"from": {"id": company}, "to": {"id": to_id}, "types": [
            {"associationCategory": t["category"], "associationTypeId": t["typeId"]} for t in types]}
            for to_id, types in links.items()]}
        self.http.call("write", f"association of company {company} to {kind}", lambda c: (
            c.crm.associations.v4.batch_api.create("companies", kind, request, _preload_content=False)))

    def _unlink(self, company: str, kind: str, ids: list[str]) -> None:
        if not ids:
            return
        request = {"inputs": [{"from": {"id": company}, "to": [{"id": i} for i in ids]}]}
        self.http.call("write", f"dissociation of {kind} from company {company}", lambda c: (
            c.crm.associations.v4.batch_api.archive("companies", kind, request, _preload_content=False)))


def _companies_only(object_type: ObjectType) -> None:
    if object_type is not ObjectType.ACCOUNT:
        raise RecordError(object_type.value, "the HubSpot connector merges companies (accounts) only")


def _refusal(loser: str, survivor: str, message: str) -> str:
    if "salesforce" in message.lower():
        return (f"HubSpot refused to merge company {loser} into {survivor}: the portal's Salesforce "
                "integration is on and blocks company merges; merge these accounts in Salesforce instead, "
                f"where both are connected ({message})")
    return f"HubSpot refused to merge company {loser} into {survivor}: {message}"
