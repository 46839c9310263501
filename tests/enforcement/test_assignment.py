"""Round-robin: load over the ledger's window, dated out of office, and working hours for first contact."""

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from config.policy import RoundRobin
from config.policy_file import parse_policy
from domain.org import History
from domain.records import Owner
from enforcement.assignment import Rotation
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext

NY = ZoneInfo("America/New_York")
POLICY = """\
calendar: {time_zone: America/New_York}
owners:
  - {email: a@x.com, weight: 2}
  - {email: b@x.com, out_of_office: [{from: 2026-12-21, to: 2027-01-04}]}
  - {email: c@x.com, time_zone: Europe/Berlin}
teams:
  - {name: East, manager: boss@x.com, members: [a@x.com, b@x.com, c@x.com]}
"""
OWNERS = [Owner("u-a", "Ann", "a@x.com"), Owner("u-b", "Bob", "b@x.com"), Owner("u-c", "Cat", "c@x.com"),
          Owner("u-x", "Xavier", "x@x.com"), Owner("u-boss", "Boss", "boss@x.com")]
EAST = RoundRobin(kind="round_robin", team="East")


def rotation(now: datetime, history: History | None = None) -> Rotation:
    policy = parse_policy(POLICY)
    owners = {o.id: o for o in OWNERS}
    return Rotation(RuleContext(policy, BusinessCalendar(policy.calendar), now, owners, history or History()))


def chosen(rot: Rotation, n: int = 1, target: RoundRobin = EAST) -> Counter[str]:
    picks = (rot.choose(target, OWNERS[3], f"r{i}") for i in range(n))
    return Counter(p.owner.id for p in picks if p is not None)


def test_load_counts_what_the_window_already_gave() -> None:
    """Ann (weight 2) received 10 this week, Bob and Cat 2 each: the next ones go to Bob and Cat."""
    now = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    history = History(assigned_recently={"u-a": 10, "u-b": 2, "u-c": 2})
    assert chosen(rotation(now, history), 4) == {"u-b": 2, "u-c": 2}


def test_dated_absence_skips_the_owner_only_on_those_days() -> None:
    """Bob is away 21 December to 4 January (both included): no work then, his share before and after."""
    for day, month, year, away in ((20, 12, 2026, False), (21, 12, 2026, True), (4, 1, 2027, True),
                                   (5, 1, 2027, False)):
        now = datetime(year, month, day, 15, 0, tzinfo=UTC)
        assert ("u-b" in chosen(rotation(now), 8)) is not away, (day, month)


def test_first_contact_skips_members_outside_their_working_hours() -> None:
    """At 13:00 in New York it is 19:00 in Berlin: Cat is skipped while her teammates are working."""
    now = datetime(2026, 11, 10, 13, 0, tzinfo=NY)
    hours = RoundRobin(kind="round_robin", team="East", working_hours_only=True)
    assert "u-c" not in chosen(rotation(now), 6, hours)
    assert "u-c" in chosen(rotation(now), 6)


def test_when_nobody_is_working_the_rotation_goes_on_as_usual() -> None:
    """At 23:00 in New York nobody is in business hours: the work is still shared, not sent to the manager."""
    now = datetime(2026, 11, 10, 23, 0, tzinfo=NY)
    hours = RoundRobin(kind="round_robin", team="East", working_hours_only=True)
    assert set(chosen(rotation(now), 6, hours)) == {"u-a", "u-b", "u-c"}
