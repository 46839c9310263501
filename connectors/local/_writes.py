"""Single-record writes of the embedded CRM, with the errors a real CRM gives per record.

Each function works inside the caller's transaction and returns a ``WriteResult`` rather than
raising, so one bad record never stops the rest of its batch.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from connectors.local._schema import SCHEMA, Table
from domain.connector import NewLead, NewTask, RecordUpdate, TaskDeletion, WriteResult
from domain.records import ObjectType, TaskStatus

SYSTEM_COLUMNS = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "deleted",
        "master_record_id",
        "external_key",
        "extra",
        "stage_changed_at",
        "status_changed_at",
        "completed_at",
    }
)
"""Columns the CRM maintains itself; an update naming one is refused."""

CHANGE_STAMPS = {
    (ObjectType.OPPORTUNITY, "stage"): "stage_changed_at",
    (ObjectType.LEAD, "status"): "status_changed_at",
}


def owner_is_assignable(conn: sqlite3.Connection, owner_id: Any) -> bool:
    """True when ``owner_id`` names an active, undeleted user or queue."""
    row = conn.execute(
        "SELECT 1 FROM owners WHERE id = ? AND active = 1 AND deleted = 0", (owner_id,)
    ).fetchone()
    return row is not None


def live_row(conn: sqlite3.Connection, table: Table, record_id: str) -> dict[str, Any] | None:
    """The stored row of an undeleted record, or None."""
    row = conn.execute(
        f"SELECT {table.select_list} FROM {table.name} WHERE id = ? AND deleted = 0", (record_id,)
    ).fetchone()
    return None if row is None else dict(zip(table.columns, row, strict=True))


def _refused(key: str, code: str, message: str) -> WriteResult:
    return WriteResult(key=key, ok=False, error=f"{code}: {message}")


def delete_task(conn: sqlite3.Connection, deletion: TaskDeletion, now: str) -> WriteResult:
    """Put one task in the recycle bin; one already there counts as deleted, an unknown id is refused."""
    table = SCHEMA[ObjectType.TASK].name
    row = conn.execute(f"SELECT deleted FROM {table} WHERE id = ?", (deletion.task_id,)).fetchone()
    if row is None:
        return _refused(deletion.key, "INVALID_CROSS_REFERENCE_KEY", f"task {deletion.task_id} does not exist")
    if not row[0]:
        conn.execute(f"UPDATE {table} SET deleted = 1, updated_at = ? WHERE id = ?", (now, deletion.task_id))
    return WriteResult(deletion.key, True, deletion.task_id)


def apply_update(
    conn: sqlite3.Connection, update: RecordUpdate, now: str, custom_fields: set[str]
) -> WriteResult:
    """Set the normalized fields of one record, or say which record and field the CRM refused."""
    table = SCHEMA[update.object_type]
    label = f"{update.object_type.value} {update.record_id}"
    current = live_row(conn, table, update.record_id)
    if current is None:
        return _refused(
            update.key, "ENTITY_IS_DELETED", f"{label} is deleted or does not exist; sync again to drop it"
        )
    sets: dict[str, Any] = {}
    extra = json.loads(current["extra"]) if table.has_extra else {}
    for name, value in update.fields.items():
        if name in table.codecs and name not in SYSTEM_COLUMNS:
            try:
                sets[name] = table.encode(name, value)
            except (TypeError, ValueError) as exc:
                return _refused(
                    update.key, "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{label}: {name}={value!r}: {exc}"
                )
        elif name in custom_fields:
            extra[name] = value
        else:
            allowed = sorted({c for c in table.codecs if c not in SYSTEM_COLUMNS} | custom_fields)
            return _refused(
                update.key, "INVALID_FIELD", f"{label} has no field {name!r}; settable: {', '.join(allowed)}"
            )
    if "owner_id" in sets and not owner_is_assignable(conn, sets["owner_id"]):
        return _refused(
            update.key,
            "INVALID_CROSS_REFERENCE_KEY",
            f"{label}: owner_id {sets['owner_id']!r} is not an active user or queue",
        )
    _stamp_changes(update.object_type, current, sets, now)
    if table.has_extra:
        sets["extra"] = table.encode("extra", extra)
    sets["updated_at"] = now
    assignments = ", ".join(f"{column} = ?" for column in sets)
    conn.execute(
        f"UPDATE {table.name} SET {assignments} WHERE id = ?", (*sets.values(), update.record_id)
    )
    return WriteResult(key=update.key, ok=True, record_id=update.record_id)


def _stamp_changes(obj: ObjectType, current: dict[str, Any], sets: dict[str, Any], now: str) -> None:
    for (stamped_obj, column), stamp in CHANGE_STAMPS.items():
        if obj is stamped_obj and column in sets and sets[column] != current[column]:
            sets[stamp] = now
    completing = sets.get("status") == TaskStatus.COMPLETED.value != current.get("status")
    if obj is ObjectType.TASK and completing:
        sets["completed_at"] = now


def _reference_exists(conn: sqlite3.Connection, record_id: str, candidates: tuple[ObjectType, ...]) -> bool:
    return any(live_row(conn, SCHEMA[obj], record_id) is not None for obj in candidates)


def create_task(conn: sqlite3.Connection, task: NewTask, now: str) -> WriteResult:
    """Insert one task, or return the task already created under the same key."""
    existing = conn.execute("SELECT id FROM tasks WHERE external_key = ?", (task.key,)).fetchone()
    if existing is not None:
        return WriteResult(key=task.key, ok=True, record_id=existing[0])
    label = f"new task {task.key!r}"
    if not owner_is_assignable(conn, task.owner_id):
        return _refused(
            task.key,
            "INVALID_CROSS_REFERENCE_KEY",
            f"{label}: owner_id {task.owner_id!r} is not an active user or queue",
        )
    for column, record_id, candidates in (
        ("what_id", task.what_id, (ObjectType.ACCOUNT, ObjectType.OPPORTUNITY)),
        ("who_id", task.who_id, (ObjectType.LEAD, ObjectType.CONTACT)),
    ):
        if record_id is not None and not _reference_exists(conn, record_id, candidates):
            return _refused(
                task.key, "INVALID_CROSS_REFERENCE_KEY", f"{label}: {column} {record_id!r} does not exist"
            )
    table = SCHEMA[ObjectType.TASK]
    task_id = f"tsk-{uuid.uuid4().hex[:14]}"
    row = table.encode_row(
        {
            "id": task_id,
            "subject": task.subject,
            "owner_id": task.owner_id,
            "status": TaskStatus.OPEN,
            "task_type": task.task_type,
            "priority": task.priority,
            "created_at": now,
            "updated_at": now,
            "due_date": task.due_date,
            "what_id": task.what_id,
            "who_id": task.who_id,
            "description": task.description or None,
            "external_key": task.key,
        }
    )
    placeholders = ", ".join("?" * len(row))
    conn.execute(f"INSERT INTO tasks ({table.select_list}) VALUES ({placeholders})", row)
    return WriteResult(key=task.key, ok=True, record_id=task_id)


def create_lead(conn: sqlite3.Connection, lead: NewLead, now: str) -> WriteResult:
    """Insert one lead, or return the live lead that already has its email (a retried create finds it)."""
    existing = conn.execute("SELECT id FROM leads WHERE lower(email) = lower(?) AND deleted = 0 ORDER BY created_at",
                            (lead.email,)).fetchone()
    if existing is not None:
        return WriteResult(key=lead.key, ok=True, record_id=existing[0])
    if lead.owner_id is not None and not owner_is_assignable(conn, lead.owner_id):
        return _refused(lead.key, "INVALID_CROSS_REFERENCE_KEY",
                        f"new lead {lead.email!r}: owner_id {lead.owner_id!r} is not an active user or queue")
    table = SCHEMA[ObjectType.LEAD]
    lead_id = f"lead-{uuid.uuid4().hex[:14]}"
    extra = {k: v for k, v in (("lead_source", lead.lead_source), ("description", lead.description)) if v}
    row = table.encode_row({"id": lead_id, "name": lead.name, "company": lead.company, "owner_id": lead.owner_id,
                            "status": lead.status, "created_at": now, "updated_at": now,
                            "status_changed_at": now if lead.status else None, "email": lead.email, "extra": extra})
    conn.execute(f"INSERT INTO leads ({table.select_list}) VALUES ({', '.join('?' * len(row))})", row)
    conn.executemany("INSERT OR IGNORE INTO custom_fields (object, name) VALUES (?, ?)",
                     [(ObjectType.LEAD.value, name) for name in sorted(extra)])
    return WriteResult(key=lead.key, ok=True, record_id=lead_id)
