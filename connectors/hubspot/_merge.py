"""Merging HubSpot companies and contacts, and undoing it, which HubSpot itself cannot do.

``POST /crm/v3/objects/{companies|contacts}/merge`` takes one pair per call, so a cluster is merged as
a chain into whatever the survivor is called after each step: HubSpot may hand the survivor back
under a new id. Leads merge as the contacts they are (``leads="contacts"``); HubSpot's Leads object
has no merge. Before merging, the caller takes :meth:`HubSpotMerger.snapshot` of every record with
every property and every association to its children (a company's contacts, deals, tasks and
notes; a contact's companies, deals, tasks and notes). :meth:`HubSpotMerger.restore` resets the
survivor (found through the loser's old id, which HubSpot keeps resolving), re-creates each
merged-away record with its properties, and moves its children back. A merged contact's email
lives on as a secondary email of the survivor, and HubSpot refuses a second contact with it, so
restore first takes it off the survivor (the v1 secondary-email call: v3 cannot). Snapshots are
expected survivor first, the order dedupe takes them in; a snapshot whose id is still the live id wins.
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
MERGED_KINDS = {ObjectType.ACCOUNT: "companies", ObjectType.CONTACT: "contacts", ObjectType.LEAD: "contacts"}
CHILD_KINDS: dict[str, dict[str, ObjectType]] = {
    "companies": {"contacts": ObjectType.CONTACT, "deals": ObjectType.OPPORTUNITY, "tasks": ObjectType.TASK,
                  "notes": ObjectType.NOTE},
    "contacts": {"companies": ObjectType.ACCOUNT, "deals": ObjectType.OPPORTUNITY, "tasks": ObjectType.TASK,
                 "notes": ObjectType.NOTE},
}
"""For each merged HubSpot type: the HubSpot type of each child -> the snapshot's ``children`` key."""
SINGULAR = {"companies": "company", "contacts": "contact"}
SECONDARY_EMAILS = "hs_additional_emails"
JsonObject = dict[str, Any]


def _links(snapshot: Snapshot, kind: str, child: str) -> dict[str, list[JsonObject]]:
    return {link["id"]: link["types"] for link in snapshot.children.get(CHILD_KINDS[kind][child].value, [])}


class HubSpotMerger:
    def __init__(self, http: HubSpotHttp, reader: HubSpotReader, contact_leads: bool = True) -> None:
        self.http, self.reader = http, reader
        self.contact_leads = contact_leads
        """Whether leads are contacts in a lead stage (mergeable) or HubSpot's Leads object (not)."""
        self._writable: dict[str, dict[str, bool]] = {}

    def kind_of(self, object_type: ObjectType) -> str:
        """The HubSpot type that a merge of ``object_type`` records goes through."""
        kind = MERGED_KINDS.get(object_type)
        if kind is None or (object_type is ObjectType.LEAD and not self.contact_leads):
            of_leads = " of its Leads object" if object_type is ObjectType.LEAD else ""
            raise RecordError(object_type.value, f"INVALID_TYPE_FOR_OPERATION: HubSpot cannot merge "
                              f"{object_type.value} records{of_leads}; it merges companies and contacts only "
                              "(leads kept as contacts too)")
        return kind

    def writable(self, kind: str = "companies") -> dict[str, bool]:
        """Every property of ``kind``, with whether it may be written (fetched once)."""
        if kind not in self._writable:
            self._writable[kind] = self.reader.property_names(kind)
        return self._writable[kind]

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        """Each record with all its properties and every association to its children."""
        kind = self.kind_of(object_type)
        found = {o["id"]: o for o in self.reader.read_many(kind, record_ids, list(self.writable(kind)))}
        missing = [i for i in record_ids if i not in found]
        if missing:
            raise RecordError(missing[0], f"no HubSpot {SINGULAR[kind]} with this id to snapshot; check the id")
        return [Snapshot(object_type, i, dict(found[i]["properties"]), {
            child.value: [{"id": str(link["toObjectId"]), "types": link["associationTypes"]}
                          for link in self.reader.associations(kind, i, child_kind)]
            for child_kind, child in CHILD_KINDS[kind].items()}) for i in record_ids]

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        """Merge the losers into the master one pair per call; the result names the final survivor id."""
        try:
            kind = self.kind_of(object_type)
        except RecordError as exc:
            return MergeResult(master_id, (), False, f"{exc}; merge {master_id} by hand in HubSpot")
        survivor, merged = master_id, list[str]()
        for loser in loser_ids:
            request = {"primaryObjectId": survivor, "objectIdToMerge": loser}

            def send(c: Any, request: JsonObject = request) -> Any:
                api = c.crm.companies if kind == "companies" else c.crm.contacts
                return api.basic_api.merge(request, _preload_content=False)

            try:
                body = self.http.call("merge", f"merge of {SINGULAR[kind]} {loser} into {survivor}", send,
                                      repeatable=False).body
            except RetriableConnectorError as exc:
                body = self._merged_already(kind, loser)
                if body is None:
                    return MergeResult(survivor, tuple(merged), False, str(exc))
            except RecordError as exc:
                return MergeResult(survivor, tuple(merged), False, _refusal(kind, loser, survivor, str(exc)))
            survivor = str(body["id"])
            merged.append(loser)
        return MergeResult(survivor, tuple(merged))

    def _merged_already(self, kind: str, loser: str) -> JsonObject | None:
        """The survivor when a lost answer hid a merge that did happen."""
        try:
            body: JsonObject = self._get(kind, loser, ["hs_merged_object_ids"])
        except (RecordError, RetriableConnectorError):
            return None
        merged = (body["properties"].get("hs_merged_object_ids") or "").split(";")
        return body if body["id"] != loser and loser in merged else None

    def _get(self, kind: str, record_id: str, properties: list[str]) -> JsonObject:
        body: JsonObject = self.http.call("read", f"read of {SINGULAR[kind]} {record_id}", lambda c: (
            c.crm.objects.basic_api.get_by_id(kind, record_id, properties=properties,
                                              archived=False, _preload_content=False))).body
        return body

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        """Put the snapshotted records and their associations back as they were before the merge."""
        groups: dict[tuple[str, str | None], list[Snapshot]] = {}
        for snap in snapshots:
            kind = self.kind_of(snap.object_type)
            try:
                live: str | None = str(self._get(kind, snap.record_id, [])["id"])
            except RecordError:
                live = None
            groups.setdefault((kind, live), []).append(snap)
        for (kind, live), group in groups.items():
            keeper = next((s for s in group if s.record_id == live), group[0]) if live else None
            if live and keeper:
                self._reset(kind, live, keeper)
            for snap in group:
                if snap is not keeper:
                    if live and kind == "contacts":
                        self._release_email(live, snap.data.get("email"))
                    self._recreate(kind, snap, live, keeper)

    def _release_email(self, survivor: str, email: str | None) -> None:
        """Take a merged contact's email off the survivor's secondary emails, so the contact can be re-created."""
        held = (self._get("contacts", survivor, [SECONDARY_EMAILS])["properties"].get(SECONDARY_EMAILS) or "")
        if not email or email.lower() not in (e.lower() for e in held.split(";")):
            return
        path = "/contacts/v1/secondary-email/{vid}/email/{email}"
        self.http.call("write", f"removal of secondary email {email} from contact {survivor}", lambda c: (
            c.crm.contacts.basic_api.api_client.call_api(
                path, "DELETE", {"vid": survivor, "email": email}, [], {"Accept": "application/json"},
                response_types_map={}, auth_settings=["oauth2"], _preload_content=False)))

    def _reset(self, kind: str, live: str, snap: Snapshot) -> None:
        props = {k: v or "" for k, v in snap.data.items() if self.writable(kind).get(k)}
        self.http.call("write", f"restore of {SINGULAR[kind]} {live}", lambda c: c.crm.objects.basic_api.update(
            kind, live, {"properties": props}, _preload_content=False))
        for child in CHILD_KINDS[kind]:
            wanted = _links(snap, kind, child)
            now = {str(link["toObjectId"]) for link in self.reader.associations(kind, live, child)}
            self._unlink(kind, live, child, sorted(now - set(wanted)))
            self._link(kind, live, child, {i: t for i, t in wanted.items() if i not in now})

    def _recreate(self, kind: str, snap: Snapshot, survivor: str | None, keeper: Snapshot | None) -> None:
        props = {k: v for k, v in snap.data.items() if v is not None and self.writable(kind).get(k)}
        body = self.http.call("write", f"re-creation of {SINGULAR[kind]} {snap.record_id}", lambda c: (
            c.crm.objects.basic_api.create(kind, {"properties": props, "associations": []},
                                           _preload_content=False)), repeatable=False).body
        new_id = str(body["id"])
        log.info("hubspot.record_restored", kind=kind, old_id=snap.record_id, new_id=new_id)
        for child in CHILD_KINDS[kind]:
            links = _links(snap, kind, child)
            if survivor and keeper:
                self._unlink(kind, survivor, child, sorted(set(links) - set(_links(keeper, kind, child))))
            self._link(kind, new_id, child, links)

    def _link(self, kind: str, record: str, child: str, links: dict[str, list[JsonObject]]) -> None:
        if not links:
            return
        request = {"inputs": [{"from": {"id": record}, "to": {"id": to_id}, "types": [
            {"associationCategory": t["category"], "associationTypeId": t["typeId"]} for t in types]}
            for to_id, types in links.items()]}
        self.http.call("write", f"association of {SINGULAR[kind]} {record} to {child}", lambda c: (
            c.crm.associations.v4.batch_api.create(kind, child, request, _preload_content=False)))

    def _unlink(self, kind: str, record: str, child: str, ids: list[str]) -> None:
        if not ids:
            return
        request = {"inputs": [{"from": {"id": record}, "to": [{"id": i} for i in ids]}]}
        self.http.call("write", f"dissociation of {child} from {SINGULAR[kind]} {record}", lambda c: (
            c.crm.associations.v4.batch_api.archive(kind, child, request, _preload_content=False)))


def _refusal(kind: str, loser: str, survivor: str, message: str) -> str:
    if kind == "contacts":
        return f"HubSpot refused to merge contact {loser} into {survivor}: {message}"
    if "salesforce" in message.lower():
        return (f"HubSpot refused to merge company {loser} into {survivor}: the portal's Salesforce "
                "integration is on and blocks company merges; merge these accounts in Salesforce instead, "
                f"where both are connected ({message})")
    return f"HubSpot refused to merge company {loser} into {survivor}: {message}"
