"""The business calendar: when the clock runs for business-hour and business-day deadlines.

Time is counted in the local wall-clock time of a zone (the record owner's), so a 09:00-17:00 day
stays 09:00-17:00 across DST changes, and days are never assumed to last 24 hours. Every datetime
taken must be timezone-aware; every datetime returned is in UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from config.policy import WEEKDAYS, CalendarPolicy, Duration
from enforcement.business_year import NO_TIME, ONE_DAY, BusinessYear, local_to_utc


@cache
def zone_named(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ValueError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'America/Chicago'"
        ) from None


def _require_aware(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} {moment.isoformat()} has no time zone: pass an aware datetime, "
            "e.g. datetime(..., tzinfo=UTC)"
        )
    return moment.astimezone(UTC)


class BusinessCalendar:
    """Working days, public and company holidays, and business hours, from the policy's calendar.

    Holidays are looked up once per year and each zone's business hours indexed once per year, so
    a deadline costs a lookup and a bisection, however far apart its ends are.
    """

    def __init__(self, policy: CalendarPolicy) -> None:
        self.policy = policy
        self._working_weekdays = frozenset(WEEKDAYS.index(day) for day in policy.working_days)
        self._days_off: dict[int, frozenset[date]] = {}
        self._years: dict[tuple[str, int], BusinessYear] = {}
        self._later_working_days: dict[tuple[date, int], date] = {}
        """(day, n) -> the n-th working day after it: rules ask the same few thousand questions per run."""

    def is_working_day(self, day: date) -> bool:
        """A working weekday that is neither a public holiday nor one of the company's extra ones."""
        return day.weekday() in self._working_weekdays and day not in self._holidays(day.year)

    def is_business_time(self, moment: datetime, tz: str | None) -> bool:
        """Whether ``moment`` falls within business hours of a working day in ``tz``."""
        zone = self._zone(tz)
        day = _require_aware("moment", moment).astimezone(zone).date()
        if not self.is_working_day(day):
            return False
        year = self._year(zone, day.year)
        return year.opening(day) <= moment < year.closing(day)

    def local_date(self, moment: datetime, tz: str | None) -> date:
        """The date ``moment`` falls on in ``tz`` (None: the policy's zone)."""
        return _require_aware("moment", moment).astimezone(self._zone(tz)).date()

    def start_of_local_date(self, day: date, tz: str | None) -> datetime:
        """The first instant of ``day`` in ``tz`` (None: the policy's zone), as an aware UTC datetime."""
        return datetime.combine(day, time(), self._zone(tz)).astimezone(UTC)

    def start_of_day(self, moment: datetime) -> datetime:
        """The company's midnight before ``moment``, in the company's zone."""
        return datetime.combine(self.local_date(moment, None), time(), self._zone(None))

    def add_working_days_to_date(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day``; for n = 0, ``day`` itself or the next working day.

        Days are counted strictly after ``day``, so one working day after a Saturday is Monday.
        """
        if n < 0:
            raise ValueError(f"cannot add {n} working days: n must be 0 or more")
        key = (day, n)
        found = self._later_working_days.get(key)
        if found is None:
            found = self._later_working_days[key] = self._count_working_days(day, n)
        return found

    def _count_working_days(self, day: date, n: int) -> date:
        if n == 0:
            while not self.is_working_day(day):
                day += ONE_DAY
            return day
        while n > 0:
            day += ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def add_business_hours(self, start: datetime, hours: float, tz: str | None) -> datetime:
        """The moment ``hours`` of business time after ``start``, counted in ``tz``'s business hours.

        A start outside business hours begins at the next opening; a result that fills a day
        exactly is that day's closing (Mon 15:00 + 2 h is Mon 17:00 in a 9-17 day).
        """
        begin = _require_aware("start", start)
        if not math.isfinite(hours) or hours < 0:
            raise ValueError(f"cannot add {hours} business hours: give a finite number, 0 or more")
        zone = self._zone(tz)
        if hours == 0:
            return self._next_opening(begin, zone)
        day = begin.astimezone(zone).date()
        year = self._year(zone, day.year)
        offset = year.elapsed(begin, day) + timedelta(hours=hours)
        while offset > year.total:
            offset -= year.total
            year = self._year(zone, year.year + 1)
        return year.moment_at(offset)

    def add_business_days(self, start: datetime, days: int, tz: str | None) -> datetime:
        """The same local time of day as ``start``, ``days`` working days later, in ``tz``.

        A start outside business hours (before opening, after closing, or on a day off) first
        moves to the next opening, and that opening counts as the start: Sat 12:00 + 4 business
        days is the next Fri 09:00 when Mon-Fri are working days, as is Mon 09:00 + 4.
        """
        if days < 0:
            raise ValueError(f"cannot add {days} business days: give 0 or more")
        zone = self._zone(tz)
        begin = self._next_opening(_require_aware("start", start), zone).astimezone(zone)
        target = self.add_working_days_to_date(begin.date(), days)
        year = self._year(zone, target.year)
        moment = local_to_utc(target, begin.time(), zone)
        return min(max(moment, year.opening(target)), year.closing(target))

    def deadline(self, start: datetime, duration: Duration, tz: str | None) -> datetime:
        """When ``duration`` counted from ``start`` runs out; calendar days ignore business hours."""
        if duration.business_minutes is not None:
            return self.add_business_hours(start, duration.business_minutes / 60, tz)
        if duration.business_hours is not None:
            return self.add_business_hours(start, duration.business_hours, tz)
        if duration.business_days is not None:
            return self.add_business_days(start, duration.business_days, tz)
        assert duration.days is not None  # Duration validates that exactly one is set
        return _require_aware("start", start) + timedelta(days=duration.days)

    def business_hours_between(self, start: datetime, end: datetime, tz: str | None) -> float:
        """Business hours from ``start`` to ``end`` in ``tz``; 0 when ``end`` is not after ``start``."""
        begin, finish = _require_aware("start", start), _require_aware("end", end)
        if finish <= begin:
            return 0.0
        zone = self._zone(tz)
        first, last = begin.astimezone(zone).date(), finish.astimezone(zone).date()
        counted = NO_TIME
        for year in range(first.year, last.year):
            counted += self._year(zone, year).total
        counted += self._year(zone, last.year).elapsed(finish, last)
        counted -= self._year(zone, first.year).elapsed(begin, first)
        return counted / timedelta(hours=1)

    def _next_opening(self, moment: datetime, zone: ZoneInfo) -> datetime:
        day = moment.astimezone(zone).date()
        while True:
            if self.is_working_day(day):
                year = self._year(zone, day.year)
                if moment <= year.closing(day):
                    return max(moment, year.opening(day))
            day += ONE_DAY

    def _zone(self, tz: str | None) -> ZoneInfo:
        return zone_named(tz if tz is not None else self.policy.time_zone)

    def _holidays(self, year: int) -> frozenset[date]:
        days_off = self._days_off.get(year)
        if days_off is None:
            public = holidays.country_holidays(
                self.policy.country, subdiv=self.policy.subdivision, years=year
            )
            extra = (day for day in self.policy.extra_holidays if day.year == year)
            days_off = self._days_off[year] = frozenset((*public.keys(), *extra))
        return days_off

    def _year(self, zone: ZoneInfo, year: int) -> BusinessYear:
        key = (zone.key, year)
        indexed = self._years.get(key)
        if indexed is None:
            hours = self.policy.business_hours
            indexed = BusinessYear.build(year, zone, hours.start, hours.end, self.is_working_day)
            if indexed.total == NO_TIME:
                raise ValueError(
                    f"the calendar has no business hours in {year}: check working_days and extra_holidays"
                )
            self._years[key] = indexed
        return indexed
