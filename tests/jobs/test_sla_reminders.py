"""SLA reminders (``remind_before``): the owner is reminded once per clock before a breach, never after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from config.policy import Policy
from config.policy_file import parse_policy
from connectors.local import LocalCRM
from domain.records import Lead, ObjectType, Owner, Task, TaskPriority, TaskStatus, TaskType
from jobs.pipeline import RunResult, run_job
from store.db import session_factory

NY = ZoneInfo("America/New_York")
CREATED = datetime(2026, 10, 19, 10, 0, tzinfo=NY).astimezone(UTC)
"""Monday 10:00 in New York: the two business hours run out at 12:00, the reminder is due from 11:30."""
POLICY = """\
calendar: {time_zone: America/New_York}
teams:
  - {name: East, manager: boss@x.com, members: [a@x.com, b@x.com]}
stages:
  lead: [{name: New}, {name: Working}]
rules:
  - id: first-call
    kind: sla
    object: lead
    statuses: [New]
    within: {business_hours: 2}
    remind_before: {business_minutes: 30}
    reassign_to: {kind: round_robin}
    task: {subject: Call this new lead now, due_in_business_days: 0, task_type: call}
"""


@pytest.fixture
def policy() -> Policy:
    return parse_policy(POLICY)


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[LocalCRM]:
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: CREATED)
    crm.insert_records([
        Owner("u-a", "Ann A", "a@x.com", time_zone="America/New_York"),
        Owner("u-b", "Bob B", "b@x.com", time_zone="America/New_York"),
        Owner("u-boss", "Boss", "boss@x.com"),
        Lead("l1", "Lee Lead", "Acme", "u-a", "New", CREATED, CREATED),
    ])
    yield crm
    crm.close()


def run_at(crm: LocalCRM, engine: Engine, policy: Policy, hour: int, minute: int) -> RunResult:
    now = datetime(2026, 10, 19, hour, minute, tzinfo=NY).astimezone(UTC)
    return run_job("sla", connector=crm, connection="local", policy=policy, sessions=session_factory(engine),
                   now=now, apply=True)


def reminders(crm: LocalCRM) -> list[Task]:
    return [t for t in crm.iter_changed(ObjectType.TASK, None)
            if isinstance(t, Task) and t.subject.startswith("Reminder")]


def test_one_reminder_before_the_breach_across_runs(crm: LocalCRM, engine: Engine, policy: Policy) -> None:
    """11:00 too early; 11:35 reminds Ann; 11:50 does not again; 12:05 reassigns and reminds nobody."""
    early = run_at(crm, engine, policy, 11, 0)
    assert early.actions == [] and reminders(crm) == []

    first = run_at(crm, engine, policy, 11, 35)
    [reminder] = reminders(crm)
    assert reminder.owner_id == "u-a" and reminder.who_id == "l1"
    assert [a.status for a in first.actions] == ["applied"] and first.findings == []
    assert "first-call:lead:l1:" in first.actions[0].action.key and first.actions[0].action.key.endswith(":remind")

    again = run_at(crm, engine, policy, 11, 50)
    assert len(reminders(crm)) == 1
    assert all(a.status != "applied" for a in again.actions)

    breached = run_at(crm, engine, policy, 12, 5)
    assert len(reminders(crm)) == 1
    assert [str(a.action.kind) for a in breached.actions] == ["reassign", "create_task"]


def test_no_reminder_once_the_clock_has_run_out(crm: LocalCRM, engine: Engine, policy: Policy) -> None:
    """A first run after the deadline reassigns without a late reminder."""
    run_at(crm, engine, policy, 12, 1)
    assert reminders(crm) == []


def test_no_reminder_when_the_owner_acted(crm: LocalCRM, engine: Engine, policy: Policy) -> None:
    """A lead Ann already called needs no reminder."""
    called = CREATED + timedelta(minutes=20)
    crm.insert_records([Task("t1", "Intro call", "u-a", TaskStatus.COMPLETED, TaskType.CALL, TaskPriority.NORMAL,
                             called, called, completed_at=called, who_id="l1")])
    run_at(crm, engine, policy, 11, 40)
    assert reminders(crm) == []
