"""Merge through the SOAP API, and the snapshot and restore that make a merge reversible.

Salesforce moves a loser's children to the master and deletes the loser (recycle bin, 15 days);
undeleting does not move the children back, so the snapshot records each child's parent pointer
and restore writes them back after the undelete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simple_salesforce.format import format_soql

from connectors.salesforce._client import SalesforceClient
from connectors.salesforce._errors import record_error
from connectors.salesforce._mapping import SOBJECTS, is_writable
from connectors.salesforce._soap import merge_body, results, undelete_body
from connectors.salesforce._writes import CollectionWriter, Pending, chunks
from domain.connector import MergeResult, Snapshot
from domain.errors import RecordError, RetriableConnectorError
from domain.records import ObjectType

CONTACT_ROLES = "opportunity_contact_role"
CHILD_SOBJECTS = {**{t.value: name for t, name in SOBJECTS.items()}, CONTACT_ROLES: "OpportunityContactRole"}
"""A snapshot's ``children`` key -> the child's sObject (record types, and objects we never sync)."""
CHILDREN: dict[ObjectType, tuple[tuple[str, str], ...]] = {
    ObjectType.ACCOUNT: (
        (ObjectType.CONTACT.value, "AccountId"),
        (ObjectType.OPPORTUNITY.value, "AccountId"),
        (ObjectType.OPPORTUNITY.value, "PartnerAccountId"),
        (ObjectType.TASK.value, "WhatId"),
        (ObjectType.NOTE.value, "ParentId"),
    ),
    ObjectType.CONTACT: (
        (ObjectType.TASK.value, "WhoId"), (ObjectType.NOTE.value, "ParentId"), (CONTACT_ROLES, "ContactId"),
    ),
    ObjectType.LEAD: ((ObjectType.TASK.value, "WhoId"), (ObjectType.NOTE.value, "ParentId")),
}
"""What a merge moves: for each mergeable type, the children (by snapshot key) and the lookup pointing at the parent."""


class SoapMerger:
    def __init__(self, client: SalesforceClient, maps: Mapping[ObjectType, Mapping[str, str]], max_rounds: int = 5):
        self._client = client
        self._maps = maps
        self._max_rounds = max_rounds

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        """Each record's mapped fields plus the parent pointer of every child a merge would move."""
        sobject = SOBJECTS[object_type]
        fields = ", ".join(dict.fromkeys(["Id", *self._maps[object_type].values()]))
        rows: dict[str, dict[str, Any]] = {}
        for ids in chunks(list(record_ids)):
            soql = format_soql("SELECT {f:literal} FROM {o:literal} WHERE Id IN {ids}", f=fields, o=sobject, ids=ids)
            rows.update({row["Id"]: _plain(row) for row in self._client.query_rows(soql)})
        children: dict[str, dict[str, list[dict[str, Any]]]] = {rid: {} for rid in rows}
        for child_key, parent_field in CHILDREN.get(object_type, ()):
            for ids in chunks(list(rows)):
                soql = format_soql(
                    "SELECT Id, {p:literal} FROM {o:literal} WHERE {p:literal} IN {ids} ORDER BY Id",
                    p=parent_field, o=CHILD_SOBJECTS[child_key], ids=ids,
                )
                for row in self._client.query_rows(soql):
                    children[row[parent_field]].setdefault(child_key, []).append(_plain(row))
        missing = [rid for rid in record_ids if rid not in rows]
        if missing:
            raise RecordError(missing[0], f"cannot snapshot {sobject} {', '.join(missing)}: no such live record")
        return [Snapshot(object_type, rid, rows[rid], children[rid]) for rid in record_ids]

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        """Merge losers into the master, two per request, all requests in one call.

        A call that fails without an answer is not repeated blindly: the next round first asks which
        losers already point at the master and merges only the rest.
        """
        if object_type not in CHILDREN:
            reason = f"Salesforce merges only accounts, contacts and leads, not {object_type}"
            return MergeResult(master_id, (), False, f"INVALID_TYPE_FOR_OPERATION on {master_id}: {reason}")
        left, merged, errors = list(loser_ids), [], []
        for attempt in range(self._max_rounds):
            if not left:
                break
            if attempt:
                self._client.sleep(min(10.0, 0.5 * 2**attempt))
            try:
                request = merge_body(SOBJECTS[object_type], master_id, left)
                body = self._client.soap("merge", "merge", request, retry=False)
            except RetriableConnectorError as exc:
                done = self._already_merged(object_type, master_id, left)
                merged += done
                left = [rid for rid in left if rid not in done]
                errors = [str(exc)] if left else []
                continue
            errors = [record_error(r.id or master_id, [{"statusCode": c, "message": m} for c, m in r.errors])
                      for r in results(body) if not r.success]
            merged += [rid for r in results(body) if r.success for rid in r.merged_ids]
            left = []
        ok = not left and not errors
        return MergeResult(master_id, tuple(merged), ok, None if ok else "; ".join(errors))

    def restore(self, snapshots: Sequence[Snapshot], writer: CollectionWriter) -> None:
        """Undelete the snapshotted records, write their fields back, and point their children at them."""
        for object_type in dict.fromkeys(s.object_type for s in snapshots):
            ids = [s.record_id for s in snapshots if s.object_type is object_type]
            self._undelete(object_type, ids)
        rows = {key: row for s in snapshots for key, row in _restore_rows(s).items()}
        failed = [r for r in writer.patch_records(rows).values() if not r.ok]
        if failed:
            raise RecordError(failed[0].record_id or failed[0].key, "; ".join(str(r.error) for r in failed))

    def _undelete(self, object_type: ObjectType, ids: list[str]) -> None:
        sobject = SOBJECTS[object_type]
        for batch in chunks(ids):
            deleted = self._deleted_ids(sobject, list(batch))
            if not deleted:
                continue
            body = self._client.soap("write", "undelete", undelete_body(deleted), retry=True)
            failed = [(rid, r) for rid, r in zip(deleted, results(body), strict=True) if not r.success]
            if failed and self._deleted_ids(sobject, [rid for rid, _ in failed]):
                rid, result = failed[0]
                raise RecordError(rid, record_error(rid, [{"statusCode": c, "message": m} for c, m in result.errors]))

    def _deleted_ids(self, sobject: str, ids: list[str]) -> list[str]:
        soql = format_soql("SELECT Id FROM {o:literal} WHERE Id IN {ids} AND IsDeleted = true", o=sobject, ids=ids)
        return [row["Id"] for row in self._client.query_rows(soql, include_deleted=True)]

    def _already_merged(self, object_type: ObjectType, master_id: str, ids: list[str]) -> list[str]:
        soql = format_soql(
            "SELECT Id, MasterRecordId FROM {o:literal} WHERE Id IN {ids}", o=SOBJECTS[object_type], ids=ids
        )
        rows = self._client.query_rows(soql, include_deleted=True)
        return [row["Id"] for row in rows if row.get("MasterRecordId") == master_id]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "attributes"}


def _restore_rows(snapshot: Snapshot) -> Pending:
    """The records to write back, in Salesforce field names, keyed by record id."""
    sobject = SOBJECTS[snapshot.object_type]
    own = {k: v for k, v in snapshot.data.items() if is_writable(sobject, k)}
    rows: Pending = {snapshot.record_id: {"attributes": {"type": sobject}, "Id": snapshot.record_id, **own}}
    for child_key, children in snapshot.children.items():
        child_sobject = CHILD_SOBJECTS[child_key]
        for child in children:
            rows.setdefault(child["Id"], {"attributes": {"type": child_sobject}}).update(child)
    return rows
