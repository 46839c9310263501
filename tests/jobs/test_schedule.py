from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jobs.schedule import CronSchedule, ScheduleError, decide

NEW_YORK = "America/New_York"
ZONE = ZoneInfo(NEW_YORK)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def schedule(*expressions: str, zone: str = NEW_YORK) -> CronSchedule:
    return CronSchedule.parse(expressions, zone, "rules[0].schedule")


def test_a_daily_job_fires_at_nine_local_on_both_sides_of_spring_forward() -> None:
    """09:00 New York is 14:00 UTC before the March change and 13:00 UTC after it."""
    daily = schedule("0 9 * * *")
    fires = daily.fires_between(at(2026, 3, 6, 15), at(2026, 3, 10, 15))
    assert fires == [at(2026, 3, 7, 14), at(2026, 3, 8, 13), at(2026, 3, 9, 13), at(2026, 3, 10, 13)]
    assert {f.astimezone(ZONE).hour for f in fires} == {9}


def test_a_wall_time_skipped_by_spring_forward_still_fires_that_day() -> None:
    """02:30 does not exist on 8 March 2026 in New York; the job runs at 03:30 EDT instead."""
    nightly = schedule("30 2 * * *")
    assert nightly.next_after(at(2026, 3, 8, 5)) == at(2026, 3, 8, 7, 30)
    assert nightly.next_after(at(2026, 3, 8, 7, 30)) == at(2026, 3, 9, 6, 30)


def test_a_daily_job_in_the_repeated_hour_fires_once_on_fall_back() -> None:
    """01:30 happens twice on 1 November 2026; a daily 01:30 job runs only the first time."""
    nightly = schedule("30 1 * * *")
    assert nightly.fires_between(at(2026, 11, 1, 4), at(2026, 11, 2, 12)) == [
        at(2026, 11, 1, 5, 30),
        at(2026, 11, 2, 6, 30),
    ]


def test_a_frequent_job_keeps_firing_through_the_repeated_hour() -> None:
    """A */30 job fires every 30 real minutes while the clocks fall back, with no idle hour."""
    frequent = schedule("*/30 * * * *")
    fires = frequent.fires_between(at(2026, 11, 1, 4, 45), at(2026, 11, 1, 7, 10))
    assert fires == [at(2026, 11, 1, 5) + timedelta(minutes=30 * i) for i in range(5)]


def test_the_earliest_of_several_expressions_wins() -> None:
    """A job listed by two rules fires on the sooner of their schedules."""
    both = schedule("0 9 * * *", "0 13 * * *")
    assert both.next_after(at(2026, 6, 1, 14)) == at(2026, 6, 1, 17)


def test_a_job_that_never_ran_is_due_at_once() -> None:
    """A fresh worker runs each job right away instead of waiting for its first fire."""
    decision = decide(schedule("0 9 * * *"), None, at(2026, 6, 1, 20))
    assert decision.due and decision.missed == 0
    assert decision.next_fire == at(2026, 6, 2, 13)


def test_missed_runs_after_downtime_collapse_into_one() -> None:
    """Down from Monday 09:00 to Thursday 10:00: one run now stands for the three missed fires."""
    daily = schedule("0 9 * * *")
    monday_run = at(2026, 6, 1, 13, 0, 2)
    thursday = at(2026, 6, 4, 14)
    decision = decide(daily, monday_run, thursday)
    assert decision.due and decision.missed == 3
    assert decision.next_fire == at(2026, 6, 5, 13)
    assert not decide(daily, thursday, thursday + timedelta(hours=2)).due


def test_a_job_is_not_due_before_its_next_fire() -> None:
    """Ten minutes after a */15 run the job waits for the quarter hour."""
    decision = decide(schedule("*/15 * * * *"), at(2026, 6, 1, 12, 0, 1), at(2026, 6, 1, 12, 10))
    assert not decision.due
    assert decision.next_fire == at(2026, 6, 1, 12, 15)


@pytest.mark.parametrize(
    ("expression", "zone"),
    [("every minute", NEW_YORK), ("61 * * * *", NEW_YORK), ("0 9 * * * *", NEW_YORK), ("0 9 * * *", "Mars/Base")],
)
def test_an_unschedulable_policy_entry_is_refused_with_its_place(expression: str, zone: str) -> None:
    """A bad cron expression or zone names where in the policy it came from."""
    with pytest.raises(ScheduleError, match=r"rules\[0\]\.schedule"):
        schedule(expression, zone=zone)


EXPRESSIONS = st.sampled_from(["*/15 * * * *", "0 9 * * 1-5", "30 2 * * *", "30 1 * * *", "0 */6 * * *", "5 8 1 * *"])
MOMENTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))
ZONES = st.sampled_from([NEW_YORK, "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC"])


@settings(max_examples=150, deadline=None)
@given(EXPRESSIONS, ZONES, MOMENTS)
@example("30 2 * * *", "Australia/Sydney", datetime(2028, 9, 30, tzinfo=UTC))
def test_the_next_fire_is_later_and_matches_the_local_wall_clock(expression: str, zone: str, moment: datetime) -> None:
    """Every next fire comes after the moment and reads, on the local clock, as the cron asks.

    A wall time a spring-forward change skips fires as far past the change (02:30 at 03:30).
    """
    fire = schedule(expression, zone=zone).next_after(moment)
    assert fire > moment
    wall = fire.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    skipped = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) != fire
    earlier = wall - timedelta(hours=1)
    in_gap = earlier.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).astimezone(ZoneInfo(zone)).replace(
        tzinfo=None) != earlier
    assert skipped or croniter.match(expression, wall) or (in_gap and croniter.match(expression, earlier))


@settings(max_examples=100, deadline=None)
@given(EXPRESSIONS, ZONES, MOMENTS, st.integers(min_value=1, max_value=200))
def test_no_fire_is_skipped_between_a_moment_and_its_next_fire(
    expression: str, zone: str, moment: datetime, minutes: int
) -> None:
    """Asking again from any point before the next fire gives the same next fire."""
    cron = schedule(expression, zone=zone)
    fire = cron.next_after(moment)
    probe = min(moment + timedelta(minutes=minutes), fire - timedelta(seconds=1))
    assert probe < moment or cron.next_after(probe) == fire
