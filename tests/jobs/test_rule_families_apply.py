from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.policy_file import parse_policy
from connectors.local import LocalCRM
from domain.records import ObjectType, Opportunity, Task, TaskPriority, TaskStatus, TaskType
from jobs.pipeline import RunResult, run_job
from store.db import session_factory
from tests.enforcement.families import NOW, OWNERS, POLICY_TEXT, account, lead, opp


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[LocalCRM]:
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    overdue = Task("t1", "Send the quote", "u-a", TaskStatus.OPEN, TaskType.TODO, TaskPriority.HIGH,
                   NOW - timedelta(days=9), NOW - timedelta(days=9), due_date=date(2026, 10, 15))
    crm.insert_records([
        *OWNERS,
        account("a1"),
        account("p1", owner="u-cm", account_type="Partner"),
        opp("o-close", unmoved_days=80, extra={"close_reason": ""}),
        opp("o-pull", unmoved_days=80, partner_account_id="p1"),
        opp("o-warn", unmoved_days=61),
        opp("o-gate", stage="Demo", amount=None, probability=25.0),
        lead("l-stale", idle_days=45),
        overdue,
    ])
    yield crm
    crm.close()


def run(crm: LocalCRM, engine: Engine) -> RunResult:
    return run_job("all", connector=crm, connection="local", policy=parse_policy(POLICY_TEXT),
                   sessions=session_factory(engine), now=NOW, apply=True)


def test_every_family_applies_once_and_a_second_apply_changes_nothing(crm: LocalCRM, engine: Engine) -> None:
    """Closes, pull-backs, tasks, returns to marketing and notifications apply; the rerun applies nothing."""
    first = run(crm, engine)
    assert not [(a.action.key, a.error) for a in first.actions if a.status != "applied"]
    assert {a.action.rule for a in first.actions} >= {"stale-deals", "stale-leads", "calls", "overdue", "opp-gates"}
    deals = {o.id: o for o in crm.iter_changed(ObjectType.OPPORTUNITY, None) if isinstance(o, Opportunity)}
    assert deals["o-close"].stage == "Closed Lost" and deals["o-close"].is_closed
    assert deals["o-pull"].owner_id == "u-cm" and deals["o-pull"].partner_account_id is None
    notified = [a for a in first.actions if a.action.kind == "notify"]
    assert {a.action.payload["recipient_id"] for a in notified} == {"u-a", "u-boss"}  # high priority: boss too

    tasks_before = Counter(t.what_id for t in crm.iter_changed(ObjectType.TASK, None) if isinstance(t, Task))
    second = run(crm, engine)
    assert not [a.action.key for a in second.actions if a.status == "applied"]
    assert Counter(t.what_id for t in crm.iter_changed(ObjectType.TASK, None) if isinstance(t, Task)) == tasks_before
