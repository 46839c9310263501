from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.policy import BusinessHours, CalendarPolicy, Duration
from enforcement.calendar import BusinessCalendar

US = BusinessCalendar(CalendarPolicy())
ENGLAND = BusinessCalendar(
    CalendarPolicy(
        time_zone="Europe/London",
        country="GB",
        subdivision="ENG",
        business_hours=BusinessHours(start=time(8, 30), end=time(17, 30)),
    )
)
ISRAEL = BusinessCalendar(
    CalendarPolicy(
        time_zone="Asia/Jerusalem", country="IL", working_days=("sun", "mon", "tue", "wed", "thu")
    )
)
US_WITH_COMPANY_DAY_OFF = BusinessCalendar(CalendarPolicy(extra_holidays=(date(2026, 3, 9),)))

CASES = [
    (US, "America/New_York"),
    (US, "America/Los_Angeles"),
    (US, "Australia/Sydney"),
    (US, "Asia/Kolkata"),
    (ENGLAND, "Europe/London"),
    (ISRAEL, "Asia/Jerusalem"),
]
INPUT_ZONES = [UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")]

cases = st.sampled_from(CASES)
DST_CHANGES = [  # New York, London and Sydney, 2026
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 4, 4, 16, tzinfo=UTC),
    datetime(2026, 10, 3, 16, tzinfo=UTC),
]

any_moments = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 6, 30),
    timezones=st.sampled_from(INPUT_ZONES),
    allow_imaginary=False,
)
near_dst_changes = st.builds(
    lambda change, seconds: change + timedelta(seconds=seconds),
    st.sampled_from(DST_CHANGES),
    st.integers(min_value=-4 * 86400, max_value=4 * 86400),
)
moments = st.one_of(any_moments, near_dst_changes)
hour_counts = st.floats(min_value=0.01, max_value=300, allow_nan=False, allow_infinity=False)
business_durations = st.one_of(
    hour_counts.map(lambda hours: Duration(business_hours=hours)),
    st.integers(min_value=1, max_value=40).map(lambda days: Duration(business_days=days)),
)
durations = st.one_of(
    business_durations, st.integers(min_value=1, max_value=120).map(lambda days: Duration(days=days))
)
fast = settings(max_examples=200, deadline=None)


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def inside_business_hours(calendar: BusinessCalendar, moment: datetime, zone: str) -> bool:
    local = moment.astimezone(ZoneInfo(zone))
    hours = calendar.policy.business_hours
    return calendar.is_working_day(local.date()) and hours.start <= local.time() <= hours.end


@fast
@given(cases, moments, durations)
def test_deadline_is_never_before_the_start_and_is_in_utc(
    case: tuple[BusinessCalendar, str], start: datetime, duration: Duration
) -> None:
    """A deadline never precedes its start, and comes back as a UTC datetime."""
    calendar, zone = case
    due = calendar.deadline(start, duration, zone)
    assert due >= start
    assert due.tzinfo is UTC


@fast
@given(cases, moments, business_durations)
def test_business_deadlines_fall_inside_business_hours_on_a_working_day(
    case: tuple[BusinessCalendar, str], start: datetime, duration: Duration
) -> None:
    """Business-hour and business-day deadlines land within opening hours of a working day, local time."""
    calendar, zone = case
    assert inside_business_hours(calendar, calendar.deadline(start, duration, zone), zone)


@fast
@given(cases, moments, hour_counts)
def test_measuring_added_business_hours_gives_them_back(
    case: tuple[BusinessCalendar, str], start: datetime, hours: float
) -> None:
    """Adding N business hours and then measuring the business hours in between gives N (within a second)."""
    calendar, zone = case
    due = calendar.add_business_hours(start, hours, zone)
    assert calendar.business_hours_between(start, due, zone) == pytest.approx(hours, abs=1 / 3600)


@fast
@given(cases, moments, moments, business_durations)
def test_a_later_start_never_gives_an_earlier_deadline(
    case: tuple[BusinessCalendar, str], first: datetime, second: datetime, duration: Duration
) -> None:
    """Deadlines are monotonic in the start time."""
    calendar, zone = case
    earlier, later = sorted((first, second))
    assert calendar.deadline(earlier, duration, zone) <= calendar.deadline(later, duration, zone)


@fast
@given(cases, moments, moments, moments)
def test_business_hours_between_adds_up_over_consecutive_spans(
    case: tuple[BusinessCalendar, str], first: datetime, second: datetime, third: datetime
) -> None:
    """Business hours from a to c equal those from a to b plus those from b to c."""
    calendar, zone = case
    a, b, c = sorted((first, second, third))
    whole = calendar.business_hours_between(a, c, zone)
    parts = calendar.business_hours_between(a, b, zone) + calendar.business_hours_between(b, c, zone)
    assert whole == pytest.approx(parts, abs=1e-6)


@fast
@given(st.sampled_from([US, ENGLAND, ISRAEL]), st.dates(date(2025, 1, 1), date(2028, 6, 30)),
       st.integers(min_value=0, max_value=30))
def test_adding_working_days_to_a_date_counts_only_working_days(
    calendar: BusinessCalendar, day: date, n: int
) -> None:
    """The due date is a working day with exactly n working days after the start date up to it."""
    due = calendar.add_working_days_to_date(day, n)
    assert calendar.is_working_day(due)
    counted = sum(calendar.is_working_day(day + timedelta(days=i)) for i in range(1, (due - day).days + 1))
    rolled_forward = 0 if calendar.is_working_day(day) else 1
    assert counted == (n if n > 0 else rolled_forward)


@pytest.mark.parametrize(
    ("calendar", "zone", "start", "hours", "expected"),
    [
        (US, "America/New_York", at("America/New_York", 2026, 3, 6, 16), 2,
         at("America/New_York", 2026, 3, 9, 10)),  # over the weekend and the spring-forward change
        (US, "America/New_York", at("America/New_York", 2026, 10, 30, 16), 2,
         at("America/New_York", 2026, 11, 2, 10)),  # over the fall-back change
        (US, "America/New_York", at("America/New_York", 2026, 11, 25, 16), 2,
         at("America/New_York", 2026, 11, 27, 10)),  # Thanksgiving
        (US, "America/New_York", at("America/New_York", 2026, 12, 24, 16), 2,
         at("America/New_York", 2026, 12, 28, 10)),  # Christmas on a Friday
        (US, "America/New_York", at("America/New_York", 2026, 3, 10, 7), 1,
         at("America/New_York", 2026, 3, 10, 10)),  # before opening: the clock starts at 9
        (US, "America/New_York", at("America/New_York", 2026, 3, 9, 15), 2,
         at("America/New_York", 2026, 3, 9, 17)),  # filling the day exactly ends at closing
        (US_WITH_COMPANY_DAY_OFF, "America/New_York", at("America/New_York", 2026, 3, 6, 16), 2,
         at("America/New_York", 2026, 3, 10, 10)),  # the company's extra holiday
        (ENGLAND, "Europe/London", at("Europe/London", 2026, 3, 27, 16), 2,
         at("Europe/London", 2026, 3, 30, 9)),  # British Summer Time starts on the 29th
        (ENGLAND, "Europe/London", at("Europe/London", 2026, 4, 2, 17, 30), 1,
         at("Europe/London", 2026, 4, 7, 9, 30)),  # Good Friday and Easter Monday
        (ISRAEL, "Asia/Jerusalem", at("Asia/Jerusalem", 2026, 3, 5, 16), 2,
         at("Asia/Jerusalem", 2026, 3, 8, 10)),  # Sunday-Thursday week
    ],
)
def test_add_business_hours_worked_examples(
    calendar: BusinessCalendar, zone: str, start: datetime, hours: float, expected: datetime
) -> None:
    """Real dates: weekends, DST changes, public and company holidays and other weeks are skipped."""
    assert calendar.add_business_hours(start, hours, zone) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (at("America/New_York", 2026, 3, 7, 12), 4, at("America/New_York", 2026, 3, 13, 9)),  # Saturday
        (at("America/New_York", 2026, 3, 6, 10), 1, at("America/New_York", 2026, 3, 9, 10)),  # over DST
        (at("America/New_York", 2026, 3, 9, 18), 1, at("America/New_York", 2026, 3, 11, 9)),  # after closing
        (at("America/New_York", 2026, 3, 9, 17), 1, at("America/New_York", 2026, 3, 10, 17)),  # at closing
        (at("America/New_York", 2026, 11, 24, 11), 2, at("America/New_York", 2026, 11, 27, 11)),  # Thanksgiving
    ],
)
def test_add_business_days_worked_examples(start: datetime, days: int, expected: datetime) -> None:
    """Business days keep the local time of day, and a start out of hours begins at the next opening."""
    assert US.add_business_days(start, days, "America/New_York") == expected


def test_opening_hours_hold_in_local_time_across_the_spring_forward_change() -> None:
    """One business day after Friday 10:00 EST is Monday 10:00 EDT, 23 elapsed hours less than 72."""
    due = US.add_business_days(datetime(2026, 3, 6, 15, tzinfo=UTC), 1, "America/New_York")
    assert due == datetime(2026, 3, 9, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at("America/New_York", 2026, 3, 6, 16), at("America/New_York", 2026, 3, 9, 10), 2.0),
        (at("America/New_York", 2026, 11, 23, 9), at("America/New_York", 2026, 11, 30, 9), 32.0),
        (at("America/New_York", 2026, 12, 31, 9), at("America/New_York", 2027, 1, 4, 9), 8.0),
        (at("America/New_York", 2026, 3, 9, 12), at("America/New_York", 2026, 3, 9, 11), 0.0),
    ],
)
def test_business_hours_between_worked_examples(start: datetime, end: datetime, hours: float) -> None:
    """Measured hours skip nights, weekends, Thanksgiving and New Year's Day; a reversed span is zero."""
    assert US.business_hours_between(start, end, "America/New_York") == hours


def test_calendar_days_are_plain_elapsed_time() -> None:
    """A calendar-day duration adds whole 24-hour days regardless of weekends, holidays or DST."""
    start = datetime(2026, 3, 7, 12, tzinfo=UTC)
    assert US.deadline(start, Duration(days=3), "America/New_York") == datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_no_zone_means_the_policy_default_zone() -> None:
    """Without a zone the calendar counts in the policy's time zone."""
    start = datetime(2026, 6, 5, 15, tzinfo=UTC)
    assert ENGLAND.add_business_hours(start, 3, None) == ENGLAND.add_business_hours(start, 3, "Europe/London")
    assert ENGLAND.local_date(datetime(2026, 6, 5, 23, 30, tzinfo=UTC), None) == date(2026, 6, 6)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 3, 6), 0, date(2026, 3, 6)),
        (date(2026, 3, 7), 0, date(2026, 3, 9)),
        (date(2026, 3, 7), 1, date(2026, 3, 9)),
        (date(2026, 11, 25), 1, date(2026, 11, 27)),
    ],
)
def test_add_working_days_to_date_examples(day: date, n: int, expected: date) -> None:
    """Task due dates skip weekends and holidays; zero days means today or the next working day."""
    assert US.add_working_days_to_date(day, n) == expected


def test_local_date_is_the_date_in_the_owners_zone() -> None:
    """An evening in New York is already the next day in UTC, but counts as the New York date."""
    assert US.local_date(datetime(2026, 3, 7, 3, tzinfo=UTC), "America/New_York") == date(2026, 3, 6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: US.add_business_hours(datetime(2026, 3, 6, 16), 2, None), "start .* has no time zone"),
        (lambda: US.business_hours_between(datetime(2026, 3, 6, 16, tzinfo=UTC), datetime(2026, 3, 7), None),
         "end .* has no time zone"),
        (lambda: US.add_business_hours(datetime(2026, 3, 6, tzinfo=UTC), 2, "Mars/Base"),
         "unknown time zone 'Mars/Base'"),
        (lambda: US.add_business_hours(datetime(2026, 3, 6, tzinfo=UTC), -1, None), "cannot add -1 business hours"),
        (lambda: US.add_working_days_to_date(date(2026, 3, 6), -2), "cannot add -2 working days"),
    ],
)
def test_bad_input_is_refused_with_a_message_that_names_it(call: Callable[[], object], message: str) -> None:
    """Naive datetimes, unknown zones and negative amounts raise ValueError saying what was wrong."""
    with pytest.raises(ValueError, match=message):
        call()
