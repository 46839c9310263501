"""What a person did that marketing and sales score: a web visit, a download, an event attended, a reply.

Activities come from the CRM (Salesforce tasks and events, HubSpot emails and meetings, the embedded
CRM's activity records) or from a CSV import. The policy's ``activity_score`` rule adds up the
points a sales manager gave each type, per person, in a window of days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Activity:
    """One thing one person did, as its source names it."""

    id: str
    """Unique within a connection: the CRM's id, or ``csv:`` and a digest of the imported row."""
    activity_type: str
    """As the source names it (``Web Visit``, ``download``, ``email reply``): the policy's points match it
    ignoring case, spaces, hyphens and underscores."""
    occurred_at: datetime
    updated_at: datetime
    email: str | None = None
    name: str | None = None
    company: str | None = None
    person_id: str | None = None
    """The lead or contact the CRM links the activity to (Salesforce ``WhoId``, a HubSpot association)."""
    detail: str | None = None
    """What it was about: a subject, a page, an asset, an event's name."""
    source: str = "crm"
    """``crm``, or the CSV file the activity was imported from."""


@runtime_checkable
class ActivityReader(Protocol):
    """A CRM whose activity records the ``activity_score`` rule scores."""

    def iter_activities(self, since: datetime | None) -> Iterator[Activity]:
        """Activities created or changed at or after ``since`` (all when None), oldest change first."""
        ...
