"""What the HubSpot connector keeps between syncs, so that an unchanged portal costs a call per object type.

HubSpot has no "changed since" for its deal pipelines, its owners or its archived (deleted)
records: each would cost a full re-read on every sync. So the connector remembers:

- the deal pipelines, read again when a deal names a stage they lack, or once they are a day old;
- the archived owners, read again only when an owner is gone from the active list (HubSpot owners
  are archived from active ones);
- when each record stream's archived list was last read: it is read again after
  ``HUBSPOT_ARCHIVE_SWEEP_MINUTES`` (a record deleted in HubSpot leaves the mirror within that
  time), from the moment of the previous sweep, so no deletion in between is missed;
- which records of each stream it read at the newest instant of the last sync (the watermark):
  a search "at or after the watermark" finds them again, unchanged (a change moves their
  modification date past it), so they are skipped rather than mapped and their links read again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

PIPELINES_FRESH = timedelta(hours=24)
SWEEP_OVERLAP = timedelta(minutes=5)
"""How far before the previous sweep a sweep looks, for clocks that disagree."""


@dataclass
class SyncMemory:
    pipelines: dict[str, Any] | None = None
    pipelines_read_at: datetime | None = None
    active_owners: list[str] = field(default_factory=list)
    archived_owners: list[dict[str, Any]] | None = None
    swept: dict[str, datetime] = field(default_factory=dict)
    """Stream (``record type:hubspot type``) -> when its archived list was last read."""
    boundaries: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    """Stream -> (epoch ms of the newest record read, ids of the records read at that instant)."""

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SyncMemory:
        read_at = state.get("pipelines_read_at")
        return cls(
            pipelines=state.get("pipelines"),
            pipelines_read_at=datetime.fromisoformat(read_at) if read_at else None,
            active_owners=list(state.get("active_owners", [])),
            archived_owners=state.get("archived_owners"),
            swept={stream: datetime.fromisoformat(at) for stream, at in state.get("swept", {}).items()},
            boundaries={stream: (int(ms), list(ids)) for stream, (ms, ids) in state.get("boundaries", {}).items()},
        )

    def as_state(self) -> dict[str, Any]:
        return {
            "pipelines": self.pipelines,
            "pipelines_read_at": self.pipelines_read_at.isoformat() if self.pipelines_read_at else None,
            "active_owners": self.active_owners,
            "archived_owners": self.archived_owners,
            "swept": {stream: at.isoformat() for stream, at in self.swept.items()},
            "boundaries": {stream: [ms, ids] for stream, (ms, ids) in self.boundaries.items()},
        }

    def fresh_pipelines(self, now: datetime) -> dict[str, Any] | None:
        if self.pipelines is None or self.pipelines_read_at is None or now - self.pipelines_read_at >= PIPELINES_FRESH:
            return None
        return self.pipelines

    def sweep_from(self, stream: str, since: datetime, now: datetime, every: timedelta) -> datetime | None:
        """Where this stream's sweep of archived records starts now, or None when it is not due yet."""
        last = self.swept.get(stream)
        if last is not None and now - last < every:
            return None
        return since if last is None else min(since, last - SWEEP_OVERLAP)


@dataclass
class Newest:
    """The newest instant among the records one stream read, and which records were read at it."""

    ms: int = -1
    ids: list[str] = field(default_factory=list)

    def saw(self, record_id: str, ms: int) -> None:
        if ms > self.ms:
            self.ms, self.ids = ms, [record_id]
        elif ms == self.ms:
            self.ids.append(record_id)
