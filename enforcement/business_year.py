"""One local year of business hours in one time zone, indexed so time can be counted without loops.

The calendar builds one ``BusinessYear`` per (zone, year) and keeps it: every day's opening as a UTC
instant, how much business time that day holds, and how much the year held before it. Counting
business time from a moment is then a lookup, and finding the moment N hours later is a bisection.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

NO_TIME = timedelta(0)
ONE_DAY = timedelta(days=1)


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    A time skipped by a spring-forward change resolves like ``datetime`` does (fold=0: moved
    forward by the gap); an ambiguous fall-back time resolves to its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class BusinessYear:
    """Business windows of every local day of one year; non-working days hold no time."""

    year: int
    opens: tuple[datetime, ...]
    lengths: tuple[timedelta, ...]
    before: tuple[timedelta, ...]
    ends: tuple[timedelta, ...]

    @classmethod
    def build(
        cls, year: int, zone: ZoneInfo, start: time, end: time, is_working_day: Callable[[date], bool]
    ) -> BusinessYear:
        """Index ``year`` in ``zone`` for business hours ``start``-``end`` on working days."""
        first, last = date(year, 1, 1), date(year, 12, 31)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        opens = tuple(local_to_utc(day, start, zone) for day in days)
        lengths = tuple(
            max(local_to_utc(day, end, zone) - opened, NO_TIME) if is_working_day(day) else NO_TIME
            for day, opened in zip(days, opens, strict=True)
        )
        ends = tuple(accumulate(lengths))
        before = (NO_TIME, *ends[:-1])
        return cls(year, opens, lengths, before, ends)

    @property
    def total(self) -> timedelta:
        """All business time in the year."""
        return self.ends[-1]

    def opening(self, day: date) -> datetime:
        """When business hours begin on ``day`` (UTC), whether or not it is a working day."""
        return self.opens[self._index(day)]

    def closing(self, day: date) -> datetime:
        """When business hours end on ``day`` (UTC); equals the opening on a non-working day."""
        index = self._index(day)
        return self.opens[index] + self.lengths[index]

    def elapsed(self, moment: datetime, day: date) -> timedelta:
        """Business time in the year before ``moment``, whose local date is ``day``."""
        index = self._index(day)
        inside = min(max(moment - self.opens[index], NO_TIME), self.lengths[index])
        return self.before[index] + inside

    def moment_at(self, offset: timedelta) -> datetime:
        """The UTC instant when the year's business time reaches ``offset`` (0 < offset <= total).

        The first day whose cumulative time reaches the offset always holds business time, so a
        result that lands exactly on a day's end is that day's closing, not the next opening.
        """
        index = bisect_left(self.ends, offset)
        return self.opens[index] + (offset - self.before[index])

    def _index(self, day: date) -> int:
        return (day - date(self.year, 1, 1)).days
