from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.plan import ActionKind
from domain.records import Record, Task, TaskPriority, TaskStatus, TaskType
from enforcement.cadence import period_start
from tests.enforcement.families import NOW, account, days_ago, evaluate


def call(id: str, account_id: str, days: float, status: TaskStatus = TaskStatus.COMPLETED) -> Task:
    done = days_ago(days) if status is TaskStatus.COMPLETED else None
    return Task(id, "Customer call", "u-a", status, TaskType.CALL, TaskPriority.NORMAL, days_ago(days),
                days_ago(days), completed_at=done, what_id=account_id, due_date=date(2026, 10, 30))


def test_customer_called_within_ninety_days_is_fine() -> None:
    """A completed call 89 days ago keeps the account off the report."""
    assert not evaluate("calls", [account(), call("c1", "a1", 89)]).findings


def test_customer_not_called_for_ninety_days_gets_a_call_task_for_its_owner() -> None:
    """The finding names the last call and the days since; the owner gets a call task on the account."""
    result = evaluate("calls", [account(), call("c1", "a1", 120)])
    [finding] = result.findings
    assert finding.owner_id == "u-a"
    assert finding.evidence["days_since"] == 120
    assert finding.evidence["last_call"] == days_ago(120).isoformat()
    assert "last completed call on" in finding.reason and "(120 days ago)" in finding.reason
    [action] = result.actions
    assert action.kind is ActionKind.CREATE_TASK
    assert action.payload["task_type"] == "call" and action.payload["what_id"] == "a1"
    assert action.payload["owner_id"] == "u-a"


def test_scheduled_call_is_reported_but_not_scheduled_again() -> None:
    """An open call task on the account means no new task, though the missed call is still reported."""
    result = evaluate("calls", [account(), call("c1", "a1", 120), call("c2", "a1", 3, TaskStatus.OPEN)])
    assert len(result.findings) == 1 and result.findings[0].evidence["call_scheduled"] is True
    assert not result.actions


def test_account_type_follows_the_policy_mapping() -> None:
    """'Customer', 'CUSTOMER ' and 'Client' all mean customer; prospects and unmapped types are not covered."""
    records: list[Record] = [
        account("a1", account_type="Customer"),
        account("a2", account_type="CUSTOMER "),
        account("a3", account_type="Client"),
        account("a4", account_type="Prospect"),
        account("a5", account_type="Vendor"),
        account("a6", account_type=None),
    ]
    assert sorted(f.record_id for f in evaluate("calls", records).findings) == ["a1", "a2", "a3"]


def test_new_customer_has_until_ninety_days_after_creation() -> None:
    """An account created 30 days ago with no call yet is not late."""
    assert not evaluate("calls", [account(age_days=30)]).findings
    [finding] = evaluate("calls", [account(age_days=95)]).findings
    assert finding.evidence["last_call"] is None
    assert "no completed call logged" in finding.reason


def test_departed_owner_call_goes_to_the_manager() -> None:
    """The task for an account whose owner left is created for the owner's manager."""
    result = evaluate("calls", [account(owner="u-gone")])
    assert result.actions[0].payload["owner_id"] == "u-boss"
    assert result.findings[0].owner_id == "u-boss"  # the missed call shows on the manager's report


def test_cadence_key_is_once_per_account_per_period() -> None:
    """Re-runs in the same 90-day window plan the same key; the next window plans a new one."""
    records = [account()]
    first = evaluate("calls", records).actions[0].key
    assert evaluate("calls", records).actions[0].key == first
    start = period_start(date(2026, 10, 21), 90)
    same_window = NOW + timedelta(days=(start + timedelta(days=89) - date(2026, 10, 21)).days)
    assert evaluate("calls", records, now=same_window).actions[0].key == first
    assert evaluate("calls", records, now=same_window + timedelta(days=1)).actions[0].key != first


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2100, 1, 1)), st.integers(min_value=1, max_value=400))
def test_period_start_is_the_window_containing_the_day(day: date, every: int) -> None:
    """Every day falls in exactly one window, which starts at most ``every - 1`` days before it."""
    start = period_start(day, every)
    assert start <= day < start + timedelta(days=every)
    assert period_start(start, every) == start
