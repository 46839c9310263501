"""Salesforce activities the ``activity_score`` rule scores: Tasks and Events about a lead or contact.

Their ``Type`` picklist (``Email``, ``Meeting``, an org's own ``Web Visit``...) names the activity, else
their subtype; ``WhoId`` is the person. The two objects are read from one watermark, merged in
``SystemModstamp`` order so a read that stops half-way resumes without skipping either.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from connectors.salesforce._mapping import parse_datetime
from domain.activities import Activity

FIELDS = {
    "Task": ("Id", "Subject", "Type", "TaskSubtype", "WhoId", "ActivityDate", "CompletedDateTime", "CreatedDate",
             "SystemModstamp"),
    "Event": ("Id", "Subject", "Type", "EventSubtype", "WhoId", "ActivityDateTime", "CreatedDate", "SystemModstamp"),
}
WHERE = "WhoId != null"


def merged(streams: list[Iterator[Activity]]) -> Iterator[Activity]:
    """Activities of several streams, each oldest change first, as one stream in that order."""
    return heapq.merge(*streams, key=lambda a: (a.updated_at, a.id))


def activity(sobject: str, row: dict[str, Any]) -> Activity:
    """One Task or Event row as an activity."""
    subtype = row.get("TaskSubtype") or row.get("EventSubtype")
    kind = row.get("Type") or subtype or sobject
    stamped = parse_datetime(row["SystemModstamp"])
    created = parse_datetime(row.get("CreatedDate")) or stamped
    assert stamped is not None and created is not None
    occurred = (parse_datetime(row.get("ActivityDateTime")) or parse_datetime(row.get("CompletedDateTime"))
                or _day(row.get("ActivityDate")) or created)
    return Activity(row["Id"], str(kind), occurred, stamped, person_id=row.get("WhoId"), detail=row.get("Subject"))


def _day(value: str | None) -> datetime | None:
    return datetime.combine(date.fromisoformat(value), time(), UTC) if value else None
