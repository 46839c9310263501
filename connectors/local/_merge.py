"""Merge, snapshot and restore for the embedded CRM, with Salesforce's merge semantics.

A merge moves every child that points at a loser (contacts, opportunities, tasks, notes) to the
master, then soft-deletes the loser with ``master_record_id`` set, like Salesforce's recycle bin.
A restore undoes that from snapshots: it resets each record to its snapshotted fields and points
each snapshotted child back at it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from connectors.local._schema import LOOKUPS, SCHEMA
from domain.connector import MergeResult, Snapshot
from domain.errors import RecordError
from domain.records import ObjectType

MERGEABLE = (ObjectType.ACCOUNT, ObjectType.CONTACT, ObjectType.LEAD)
LOSERS_PER_CALL = 2


def snapshot_record(conn: sqlite3.Connection, obj: ObjectType, record_id: str) -> Snapshot:
    """The stored row of one record and of every child that points at it."""
    table = SCHEMA[obj]
    row = conn.execute(
        f"SELECT {table.select_list} FROM {table.name} WHERE id = ?", (record_id,)
    ).fetchone()
    if row is None:
        raise RecordError(record_id, f"no {obj.value} with this id to snapshot; check the id")
    children: dict[str, list[dict[str, Any]]] = {}
    for child, column in LOOKUPS.get(obj, ()):
        child_table = SCHEMA[child]
        rows = conn.execute(
            f"SELECT {child_table.select_list} FROM {child_table.name} WHERE {column} = ? ORDER BY id",
            (record_id,),
        ).fetchall()
        known = {r["id"] for r in children.get(child.value, [])}
        children.setdefault(child.value, []).extend(
            dict(zip(child_table.columns, r, strict=True)) for r in rows if r[0] not in known
        )
    return Snapshot(obj, record_id, dict(zip(table.columns, row, strict=True)), children)


def merge_problem(
    conn: sqlite3.Connection, obj: ObjectType, master_id: str, loser_ids: Sequence[str]
) -> str | None:
    """Why this merge cannot run, in the CRM's words, or None when it can."""
    if obj not in MERGEABLE:
        allowed = ", ".join(o.value for o in MERGEABLE)
        return f"INVALID_TYPE_FOR_OPERATION: cannot merge {obj.value} records; only {allowed} merge"
    if not loser_ids:
        return f"REQUIRED_FIELD_MISSING: merge into {obj.value} {master_id} names no record to merge"
    if master_id in loser_ids or len(set(loser_ids)) != len(loser_ids):
        return f"DUPLICATE_VALUE: merge into {obj.value} {master_id} names a record twice"
    table = SCHEMA[obj]
    for record_id in (master_id, *loser_ids):
        live = conn.execute(
            f"SELECT 1 FROM {table.name} WHERE id = ? AND deleted = 0", (record_id,)
        ).fetchone()
        if live is None:
            return f"ENTITY_IS_DELETED: {obj.value} {record_id} is deleted or does not exist"
    return None


def merge_chunk(
    conn: sqlite3.Connection, obj: ObjectType, master_id: str, loser_ids: Sequence[str], now: str
) -> None:
    """Move the losers' children to the master and soft-delete the losers (one merge call)."""
    for loser_id in loser_ids:
        for child, column in LOOKUPS[obj]:
            conn.execute(
                f"UPDATE {SCHEMA[child].name} SET {column} = ?, updated_at = ? WHERE {column} = ?",
                (master_id, now, loser_id),
            )
        conn.execute(
            f"UPDATE {SCHEMA[obj].name} SET deleted = 1, master_record_id = ?, updated_at = ? WHERE id = ?",
            (master_id, now, loser_id),
        )
    conn.execute(f"UPDATE {SCHEMA[obj].name} SET updated_at = ? WHERE id = ?", (now, master_id))


def merged(master_id: str, loser_ids: Sequence[str], error: str | None = None) -> MergeResult:
    return MergeResult(master_id, tuple(loser_ids), ok=error is None, error=error)


def restore_snapshot(conn: sqlite3.Connection, snapshot: Snapshot, now: str) -> None:
    """Put one record back exactly as snapshotted and point its snapshotted children at it again."""
    table = SCHEMA[snapshot.object_type]
    data = {**snapshot.data, "updated_at": now}
    columns = [c for c in table.columns if c in data]
    placeholders = ", ".join("?" * len(columns))
    conn.execute(
        f"INSERT OR REPLACE INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})",
        [data[c] for c in columns],
    )
    for child, column in LOOKUPS.get(snapshot.object_type, ()):
        for row in snapshot.children.get(child.value, []):
            if row.get(column) == snapshot.record_id:
                conn.execute(
                    f"UPDATE {SCHEMA[child].name} SET {column} = ?, updated_at = ? WHERE id = ?",
                    (snapshot.record_id, now, row["id"]),
                )
