"""HubSpot activities the ``activity_score`` rule scores: logged emails and meetings, with their contact.

An email's direction names it (``INCOMING_EMAIL`` is a reply), a meeting is a meeting unless nobody came.
Both are searched by modification time, oldest first, and merged into one stream in that order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from connectors.hubspot._mapping import EPOCH, parse_datetime
from connectors.hubspot._read import LINKS_PER_CALL, HubSpotReader, JsonObject, chunked
from domain.activities import Activity

DIRECTIONS = {"INCOMING_EMAIL": "email reply", "EMAIL": "email sent", "FORWARDED_EMAIL": "email forwarded"}
MISSED = {"NO_SHOW": "meeting no show", "CANCELED": "meeting canceled", "RESCHEDULED": "meeting rescheduled"}
MODIFIED = "hs_lastmodifieddate"


@dataclass(frozen=True)
class Engagement:
    kind: str
    subject: str
    properties: tuple[str, ...]

    def activity_type(self, props: Mapping[str, str | None]) -> str:
        if self.kind == "emails":
            direction = props.get("hs_email_direction") or "EMAIL"
            return DIRECTIONS.get(direction, direction.lower().replace("_", " "))
        return MISSED.get(props.get("hs_meeting_outcome") or "", "meeting")


ENGAGEMENTS = (
    Engagement("emails", "hs_email_subject", ("hs_email_subject", "hs_email_direction", "hs_timestamp")),
    Engagement("meetings", "hs_meeting_title", ("hs_meeting_title", "hs_meeting_outcome", "hs_timestamp")),
)


def read_activities(reader: HubSpotReader, since_ms: int) -> Iterator[Activity]:
    """Emails and meetings modified at or after ``since_ms``, oldest first, each with its first contact."""
    return heapq.merge(*(_engagements(reader, e, since_ms) for e in ENGAGEMENTS),
                       key=lambda a: (a.updated_at, a.id))


def _engagements(reader: HubSpotReader, engagement: Engagement, since_ms: int) -> Iterator[Activity]:
    found = reader.search_since(engagement.kind, MODIFIED, since_ms, [*engagement.properties, MODIFIED])
    for chunk in chunked(found, LINKS_PER_CALL):
        contacts = reader.links(engagement.kind, [o["id"] for o in chunk], "contacts")
        for obj in chunk:
            yield _activity(engagement, obj, contacts.get(obj["id"], []))


def _activity(engagement: Engagement, obj: JsonObject, contacts: Sequence[str]) -> Activity:
    props = obj["properties"]
    updated = parse_datetime(props.get(MODIFIED)) or parse_datetime(obj.get("updatedAt")) or EPOCH
    occurred = parse_datetime(props.get("hs_timestamp")) or parse_datetime(obj.get("createdAt")) or updated
    return Activity(f"{engagement.kind}:{obj['id']}", engagement.activity_type(props), occurred, updated,
                    person_id=min(contacts, key=int) if contacts else None, detail=props.get(engagement.subject))
