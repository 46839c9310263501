"""Digest periods: every moment falls in exactly one period, which starts at the local send hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.periods import Cadence, period_at

ZONES = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "UTC", "America/Havana"]
"""Lord Howe shifts by half an hour; Havana changes clocks at midnight, so a send hour can fall in a gap."""
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))


@given(moments, st.sampled_from(["daily", "weekly"]), st.sampled_from(ZONES), st.integers(0, 23))
def test_moment_falls_between_its_period_start_and_the_next(
    now: datetime, cadence: Cadence, zone: str, hour: int
) -> None:
    """A period starts at or before the moment, and the following one starts after it."""
    period = period_at(now, cadence, zone, hour)
    assert period.starts <= now < period.following().starts
    assert period.previous().following() == period


@given(moments, st.sampled_from(ZONES), st.integers(0, 23))
def test_weekly_periods_start_on_monday_at_the_send_hour(now: datetime, zone: str, hour: int) -> None:
    """A weekly period is keyed by its ISO week and starts on a Monday, local time."""
    period = period_at(now, "weekly", zone, hour)
    local = period.starts.astimezone(ZoneInfo(zone))
    assert period.day.weekday() == 0
    assert local.date() == period.day
    assert period.key == f"{period.day.isocalendar()[0]}-W{period.day.isocalendar()[1]:02d}"


@given(moments, st.sampled_from(ZONES))
def test_same_period_for_every_moment_until_the_next_send_hour(now: datetime, zone: str) -> None:
    """Two runs an hour apart inside one day's period share its key, so the digest goes once."""
    period = period_at(now, "daily", zone, 8)
    later = min(now + timedelta(hours=1), period.following().starts - timedelta(microseconds=1))
    assert period_at(later, "daily", zone, 8).key == period.key


def test_before_the_send_hour_the_previous_day_is_current() -> None:
    """At 07:30 in New York the daily digest due is still yesterday's."""
    period = period_at(datetime(2026, 11, 20, 12, 30, tzinfo=UTC), "daily", "America/New_York", 8)
    assert period.key == "2026-11-19"
    assert period.label == "Thu 19 Nov"


def test_naive_moment_is_refused() -> None:
    """A clock without a time zone is an error that says how to fix it."""
    with pytest.raises(ValueError, match="pass an aware datetime"):
        period_at(datetime(2026, 11, 20, 12), "daily", "UTC", 8)


def test_send_hour_in_a_dst_gap_still_starts_each_day_once() -> None:
    """Havana skips from 00:00 to 01:00 on 8 March 2026: every hour that day still has exactly one period."""
    start = datetime(2026, 3, 7, 0, 0, tzinfo=UTC)
    keys = []
    for hour in range(72):
        now = start + timedelta(hours=hour)
        period = period_at(now, "daily", "America/Havana", 0)
        assert period.starts <= now < period.following().starts
        keys.append(period.key)
    assert sorted(set(keys)) == ["2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"]
