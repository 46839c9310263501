"""Digest periods: one digest per recipient per day or week, starting at the policy's local send hour.

A period starts at ``send_hour`` in the recipient's time zone (each day, or each Monday) and lasts
until the next one starts. Its key names it in the ledger, so a period's digest is sent once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Cadence = Literal["daily", "weekly"]


@dataclass(frozen=True)
class Period:
    cadence: Cadence
    day: date
    """The local date the period starts on (a Monday for weekly periods)."""
    zone: str
    send_hour: int

    @property
    def starts(self) -> datetime:
        """The UTC moment the period starts (its local send hour; DST gaps resolve forward)."""
        local = datetime.combine(self.day, time(self.send_hour), ZoneInfo(self.zone))
        return local.astimezone(UTC)

    @property
    def key(self) -> str:
        """``2026-11-20`` for a day, ``2026-W47`` for a week."""
        if self.cadence == "daily":
            return self.day.isoformat()
        year, week, _ = self.day.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def label(self) -> str:
        """How a person names the period: ``Fri 20 Nov`` or ``week of 16 Nov``."""
        return f"{self.day:%a %d %b}" if self.cadence == "daily" else f"week of {self.day:%d %b}"

    def previous(self) -> Period:
        return Period(self.cadence, self.day - self._length, self.zone, self.send_hour)

    def following(self) -> Period:
        return Period(self.cadence, self.day + self._length, self.zone, self.send_hour)

    def history(self, count: int) -> list[Period]:
        """The ``count`` periods up to and including this one, oldest first."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]

    @property
    def _length(self) -> timedelta:
        return timedelta(days=1 if self.cadence == "daily" else 7)


def period_at(now: datetime, cadence: Cadence, zone: str, send_hour: int) -> Period:
    """The period ``now`` falls in, for a recipient in ``zone``."""
    if now.tzinfo is None:
        raise ValueError(f"now={now.isoformat()} has no time zone: pass an aware datetime")
    local_day = now.astimezone(ZoneInfo(zone)).date()
    if cadence == "weekly":
        local_day -= timedelta(days=local_day.weekday())
    period = Period(cadence, local_day, zone, send_hour)
    while period.starts > now:
        period = period.previous()
    return period
