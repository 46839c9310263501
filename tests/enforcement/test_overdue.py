from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.plan import ActionKind
from domain.records import TaskPriority
from tests.enforcement.families import NOW, evaluate, task

TODAY = date(2026, 10, 21)


def recipients(due: date, owner: str = "u-a", now: datetime = NOW, **kw: Any) -> list[tuple[str, str]]:
    actions = evaluate("overdue", [task(owner=owner, due_date=due, **kw)], now=now).actions
    assert all(a.kind is ActionKind.NOTIFY for a in actions)
    return [(a.payload["recipient_id"], a.payload["role"]) for a in actions]


def test_task_due_today_is_not_overdue() -> None:
    """Due today, or with no due date, nothing is flagged."""
    assert not evaluate("overdue", [task(due_date=TODAY), task("t2", due_date=None)]).findings


def test_task_due_yesterday_notifies_the_assignee_only() -> None:
    """One day late: the assignee hears about it, the manager does not yet."""
    assert recipients(TODAY - timedelta(days=1)) == [("u-a", "assignee")]


def test_manager_is_told_after_the_policy_days() -> None:
    """Three days late, the manager is told too and the evidence names them."""
    assert recipients(TODAY - timedelta(days=3)) == [("u-a", "assignee"), ("u-boss", "manager")]
    [finding] = evaluate("overdue", [task(due_date=TODAY - timedelta(days=3))]).findings
    assert finding.evidence["manager"] == "boss@x.com"
    assert finding.evidence["days_overdue"] == 3


def test_high_priority_goes_to_the_manager_at_once() -> None:
    """A high-priority task one day late reaches the manager straight away."""
    assert recipients(TODAY - timedelta(days=1), priority=TaskPriority.HIGH) == [
        ("u-a", "assignee"), ("u-boss", "manager")]


def test_overdue_is_judged_in_the_assignee_time_zone() -> None:
    """At 01:00 New York time on the 22nd, it is still the 21st in Los Angeles: Bob's task is not late yet."""
    late_evening_la = datetime(2026, 10, 22, 1, 0, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    assert recipients(TODAY, owner="u-a", now=late_evening_la) == [("u-a", "assignee")]
    assert recipients(TODAY, owner="u-b", now=late_evening_la) == []


def test_departed_assignee_hands_the_alert_to_the_manager() -> None:
    """An inactive assignee is not notified; their manager is, on the first day."""
    assert recipients(TODAY - timedelta(days=1), owner="u-gone") == [("u-boss", "manager")]
    [finding] = evaluate("overdue", [task(owner="u-gone", due_date=TODAY - timedelta(days=1))]).findings
    assert finding.owner_id == "u-boss" and finding.evidence["assignee"] == "gone@x.com"


def test_tasks_without_a_known_assignee_are_skipped_with_a_reason() -> None:
    """No owner or an unknown owner is a skip; a queue's task is not anyone's overdue work yet."""
    result = evaluate("overdue", [task("t1", owner=None, due_date=TODAY - timedelta(days=5)),
                                  task("t2", owner="u-nobody", due_date=TODAY - timedelta(days=5)),
                                  task("t3", owner="q-mkt", due_date=TODAY - timedelta(days=5))])
    assert not result.findings
    assert [s.record_id for s in result.skips] == ["t1", "t2"]
    assert "u-nobody is unknown" in result.skips[1].reason


def test_overdue_keys_repeat_within_a_day_and_change_the_next_day() -> None:
    """Same data and clock give the same keys; the next day gives new ones (a daily reminder)."""
    records = [task(due_date=TODAY - timedelta(days=1))]
    keys = [a.key for a in evaluate("overdue", records).actions]
    assert keys == [a.key for a in evaluate("overdue", records, now=NOW + timedelta(hours=2)).actions]
    assert set(keys).isdisjoint(a.key for a in evaluate("overdue", records, now=NOW + timedelta(days=1)).actions)
