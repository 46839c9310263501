import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from config.policy import Policy
from config.policy_file import parse_policy
from connectors.local import LocalCRM
from domain.connector import RecordUpdate, WriteResult
from domain.records import ObjectType, Opportunity, Owner, Task, TaskPriority, TaskStatus, TaskType
from jobs.ledger_view import print_ledger_run
from jobs.pipeline import RunResult, run_job
from notify.collect import open_findings
from store import ledger as ledger_module
from store import rule_state
from store.db import session_factory
from store.ledger import Ledger
from store.models import ActionRow, SnapshotRow

NY = ZoneInfo("America/New_York")
CREATED = datetime(2026, 10, 19, 10, 0, tzinfo=NY).astimezone(UTC)
NOW = datetime(2026, 10, 30, 12, 0, tzinfo=NY).astimezone(UTC)
POLICY = """\
calendar: {time_zone: America/New_York}
teams:
  - {name: East, manager: boss@x.com, members: [a@x.com, b@x.com]}
rules:
  - id: opp-sla
    kind: sla
    object: opportunity
    within: {business_days: 4}
    reassign_to: {kind: round_robin}
    task: {subject: Act on it, due_in_business_days: 1}
"""


class RefusingCRM(LocalCRM):
    """A local CRM that refuses updates to one record, as a CRM validation rule would."""

    refused = "o2"

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        allowed = [u for u in updates if u.record_id != self.refused]
        results = {r.key: r for r in super().update(allowed)}
        refusal = "FIELD_CUSTOM_VALIDATION_EXCEPTION on {}"
        return [results.get(u.key) or WriteResult(u.key, ok=False, error=refusal.format(u.record_id)) for u in updates]


@pytest.fixture
def policy() -> Policy:
    return parse_policy(POLICY)


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[LocalCRM]:
    crm = RefusingCRM(tmp_path / "crm.db", clock=lambda: NOW)
    crm.insert_records([
        Owner("u-a", "Ann A", "a@x.com", time_zone="America/New_York"),
        Owner("u-b", "Bob B", "b@x.com", time_zone="America/New_York"),
        Owner("u-boss", "Boss", "boss@x.com"),
        *[Opportunity(f"o{i}", f"Deal {i}", None, "u-a", "Discovery", CREATED, CREATED, stage_changed_at=CREATED)
          for i in range(1, 4)],
        Opportunity("o9", "Fresh deal", None, "u-a", "Discovery", NOW - timedelta(hours=2), NOW - timedelta(hours=2)),
    ])
    yield crm
    crm.close()


def run(crm: LocalCRM, engine: Engine, policy: Policy, apply: bool):  # type: ignore[no-untyped-def]
    return run_job("all", connector=crm, connection="local", policy=policy, sessions=session_factory(engine),
                   now=NOW, apply=apply)


def owners(crm: LocalCRM) -> dict[str, str | None]:
    return {r.id: r.owner_id for r in crm.iter_changed(ObjectType.OPPORTUNITY, None) if isinstance(r, Opportunity)}


def test_dry_run_plans_but_changes_nothing(crm: LocalCRM, engine: Engine, policy: Policy) -> None:
    """The default run finds the three idle deals, plans their reassignment, and leaves the CRM alone."""
    before = owners(crm)
    result = run(crm, engine, policy, apply=False)
    assert sorted(f.record_id for f in result.findings) == ["o1", "o2", "o3"]
    assert {a.status for a in result.actions} == {"would_apply"}
    assert owners(crm) == before


def test_apply_twice_applies_once_and_a_refused_record_fails_alone(
    crm: LocalCRM, engine: Engine, policy: Policy
) -> None:
    """Apply reassigns and creates tasks; the refused record fails with the CRM's words; a rerun does nothing."""
    first = run(crm, engine, policy, apply=True)
    statuses = {(a.action.record_id, str(a.action.kind)): (a.status, a.error) for a in first.actions}
    assert statuses[("o1", "reassign")] == ("applied", None)
    assert statuses[("o2", "reassign")][0] == "failed"
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION on o2" in str(statuses[("o2", "reassign")][1])
    assert statuses[("o2", "create_task")][0] == "skipped"  # no task for a reassignment that did not happen
    assert owners(crm)["o1"] == "u-b" and owners(crm)["o2"] == "u-a"
    tasks = [t for t in crm.iter_changed(ObjectType.TASK, None) if isinstance(t, Task)]
    assert sorted(t.what_id or "" for t in tasks) == ["o1", "o3"]
    assert all(t.owner_id == "u-b" and t.status is TaskStatus.OPEN for t in tasks)
    assert first.api_calls["write"] == 2  # one batch of reassignments, one batch of tasks

    crm.refused = "none"  # the admin fixed the validation rule
    second = run(crm, engine, policy, apply=True)
    applied = [a for a in second.actions if a.status == "applied"]
    assert [a.action.record_id for a in applied] == ["o2", "o2"]  # only the failed one is retried
    assert len([t for t in crm.iter_changed(ObjectType.TASK, None)]) == 3


def test_rerun_with_nothing_new_applies_nothing(crm: LocalCRM, engine: Engine, policy: Policy) -> None:
    """Once every breach is fixed, the next apply run has nothing to do."""
    crm.refused = "none"
    run(crm, engine, policy, apply=True)
    again = run(crm, engine, policy, apply=True)
    assert again.findings == [] and again.actions == []


def test_dry_run_after_apply_tells_applied_retried_and_new_apart(
    crm: LocalCRM, engine: Engine, policy: Policy
) -> None:
    """A dry run consults the ledger: what a run applied, what failed before and what is new are told apart."""
    before = run(crm, engine, policy, apply=False)
    assert {a.status for a in before.actions} == {"would_apply"}
    applied = run(crm, engine, policy, apply=True)
    dry = run(crm, engine, policy, apply=False)
    by_key = {a.action.key: a for a in dry.actions}
    retry = next(a for a in dry.actions if a.action.record_id == "o2" and a.action.kind == "reassign")
    assert retry.status == "would_retry" and "FIELD_CUSTOM_VALIDATION_EXCEPTION on o2" in str(retry.error)
    done = [a for a in applied.actions if a.status == "applied"]
    for outcome in (by_key[a.action.key] for a in done if a.action.key in by_key):
        assert (outcome.status, outcome.applied_by) == ("already_applied", applied.run_id)
        assert outcome.applied_at is not None
    assert dry.summary()["actions_by_status"].get("would_apply", 0) <= 1  # o2's task, after its retried reassignment


def test_a_run_that_tells_no_outcomes_counts_them_as_one_that_does(crm: LocalCRM, engine: Engine,
                                                                    policy: Policy) -> None:
    """A worker's dry run only counts what an apply would do (a million outcomes at full size): the same counts, by
    rule and by status, as the run that tells each action's outcome; applied, retried and new told apart."""
    run(crm, engine, policy, apply=True)  # o1 applied, o2 failed: every status a dry run tells
    told = run(crm, engine, policy, apply=False)
    counted = run_job("all", connector=crm, connection="local", policy=policy, sessions=session_factory(engine),
                      now=NOW, apply=False, outcomes=False)
    assert counted.actions == []
    assert {"would_apply", "would_retry"} <= set(told.summary()["actions_by_status"])
    assert counted.summary()["actions"] == told.summary()["actions"]
    assert counted.summary()["actions_by_status"] == told.summary()["actions_by_status"]


def test_the_summary_counts_each_rules_findings_as_the_findings_themselves_say(crm: LocalCRM, engine: Engine) -> None:
    """The summary the ledger keeps and the worker logs counts each rule's findings from the rule's own list, not by
    walking them all (700,000 at full size, twice a worker's pass): the counts the findings give."""
    policy = parse_policy(POLICY + "  - {id: overdue-tasks, kind: overdue, manager_after_days: 3}\n")
    due = (NOW - timedelta(days=5)).date()
    crm.insert_records([Task(f"t{n}", "Call", "u-a", TaskStatus.OPEN, TaskType.CALL, TaskPriority.NORMAL, CREATED,
                             CREATED, due_date=due) for n in range(1, 4)])
    result = run_job("all", connector=crm, connection="local", policy=policy, sessions=session_factory(engine),
                     now=NOW, apply=False, outcomes=False)
    walked = dict(Counter(f.rule for f in result.findings))
    assert set(walked) == {"opp-sla", "overdue-tasks"}
    assert result.summary()["findings"] == walked
    latest = Ledger(session_factory(engine)).run_report(result.run_id)
    assert latest.run.summary["findings"] == walked


def test_an_applying_run_that_tells_no_outcomes_counts_what_ledger_show_tells(
    crm: LocalCRM, engine: Engine, policy: Policy, capsys: pytest.CaptureFixture[str]
) -> None:
    """An applying worker only counts what became of its actions: applied, failed, skipped as applied before, in
    the numbers `warden ledger show` tells of the same run, action by action."""
    policy = parse_policy(POLICY + "  - {id: overdue-tasks, kind: overdue, manager_after_days: 3}\n")
    due = (NOW - timedelta(days=5)).date()
    crm.insert_records([Task("t1", "Call", "u-a", TaskStatus.OPEN, TaskType.CALL, TaskPriority.NORMAL, CREATED,
                             CREATED, due_date=due)])
    run(crm, engine, policy, apply=True)  # o1 reassigned, o2 refused, t1's owner alerted (carried from now on)
    crm.refused = "none"
    sessions = session_factory(engine)
    counted = run_job("all", connector=crm, connection="local", policy=policy, sessions=sessions, now=NOW,
                      apply=True, outcomes=False)
    assert counted.actions == []
    capsys.readouterr()
    assert print_ledger_run(sessions, counted.run_id, Console(), json_output=True)
    shown = json.loads(capsys.readouterr().out)
    assert {"applied", "skipped"} <= {a["status"] for a in shown["actions"]}
    assert counted.summary()["actions_by_status"] == dict(Counter(a["status"] for a in shown["actions"]))
    assert counted.summary()["actions"] == shown["summary"]["actions"]  # by rule, from each action shown


def test_each_field_write_has_its_before_image_in_the_ledger_before_the_crm_is_called(
    crm: LocalCRM, engine: Engine, policy: Policy
) -> None:
    """What revert needs is committed with the claim: a process killed during the write leaves it behind."""
    seen: list[dict[str, object] | None] = []
    sessions = session_factory(engine)

    class Watching(RefusingCRM):
        def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
            with sessions() as session:
                for u in updates:
                    image = select(SnapshotRow.data).where(SnapshotRow.action_key == u.key)
                    seen.append(session.scalars(image).first())
            return super().update(updates)

    crm.__class__ = Watching
    run(crm, engine, policy, apply=True)
    assert seen and seen.count({"owner_id": "u-a"}) == len(seen)


def test_a_scheduled_dry_run_records_only_what_changed_and_reads_back_everything(
        crm: LocalCRM, engine: Engine, policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run after a dry run looks at the ledger's open rows of the records judged differently alone (a first
    run compares everything), and still reads back every finding and planned action it had."""
    read_in_full: list[str] = []
    read = ledger_module._OpenRows.read

    def noted(self: object, rule: str) -> object:
        read_in_full.append(rule)
        return read(self, rule)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_module._OpenRows, "read", noted)
    run(crm, engine, policy, apply=False)
    assert read_in_full == ["opp-sla"] * 3  # findings, skips, then the plan: nothing recorded to build on
    read_in_full.clear()
    later = NOW + timedelta(minutes=15)
    crm.insert_records([Opportunity("o4", "Deal 4", None, "u-a", "Discovery", CREATED, later - timedelta(minutes=5),
                                    stage_changed_at=CREATED)])
    second = run_job("all", connector=crm, connection="local", policy=policy, sessions=session_factory(engine),
                     now=later, apply=False)
    assert read_in_full == []
    assert sorted(f.record_id for f in second.findings) == ["o1", "o2", "o3", "o4"]
    report = Ledger(session_factory(engine)).run_report(second.run_id)
    assert sorted((f.record_id, f.reason) for f in report.findings) == sorted(
        (f.record_id, f.reason) for f in second.findings)
    assert sorted(a.key for a in report.actions) == sorted(a.action.key for a in second.actions)


def test_two_dry_runs_at_once_each_read_back_their_own_findings_and_plan(
        crm: LocalCRM, engine: Engine, policy: Policy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A dry run records its findings and its plan at one place in the ledger, whatever another run of the same rules
    records meanwhile: a run that landed between the two would leave the first run's plan wrong in `ledger show`."""
    other_done = threading.Event()
    take_place = ledger_module._take_place
    places_taken: list[str] = []

    def slow_second_place(session: object, run_id: str) -> object:
        places_taken.append(run_id)
        if run_id == places_taken[0] and places_taken.count(run_id) == 2:  # the first run, after its findings
            other_done.wait(timeout=3)  # the other run records all it found now, if the ledger lets it
        return take_place(session, run_id)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_module, "_take_place", slow_second_place)
    first = threading.Thread(target=lambda: results.append(run(crm, engine, policy, apply=False)))
    results: list[RunResult] = []
    first.start()
    while not places_taken:
        time.sleep(0.01)
    later = run_job("all", connector=LocalCRM(tmp_path / "crm.db", clock=lambda: NOW), connection="local",
                    policy=policy, sessions=session_factory(engine), now=NOW + timedelta(days=7), apply=False)
    other_done.set()
    first.join()
    ledger = Ledger(session_factory(engine))
    for result in (*results, later):
        report = ledger.run_report(result.run_id)
        assert sorted((f.record_id, f.reason) for f in report.findings) == sorted(
            (f.record_id, f.reason) for f in result.findings)
        assert sorted(a.key for a in report.actions) == sorted(a.action.key for a in result.actions)
    assert {f.record_id for f in later.findings} > {f.record_id for f in results[0].findings}  # o9 is late by then


def test_an_applying_run_adds_no_row_for_what_a_run_applied_yet_says_so_everywhere(
        crm: LocalCRM, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """A scheduled applying run carries forward the actions earlier runs applied (hundreds of thousands at full size):
    it records and claims only the rest, yet its output, `ledger show` and the digest still say of each carried
    action that a run applied it."""
    policy = parse_policy(POLICY + "  - {id: overdue-tasks, kind: overdue, manager_after_days: 3}\n")
    crm.refused = "none"
    due = (NOW - timedelta(days=5)).date()
    crm.insert_records([Task(f"t{i}", f"Call {i}", "u-a", TaskStatus.OPEN, TaskType.CALL, TaskPriority.NORMAL,
                             CREATED, CREATED, due_date=due) for i in range(1, 3)])
    first = run(crm, engine, policy, apply=True)
    later = NOW + timedelta(minutes=15)
    crm.insert_records([Opportunity("o4", "Deal 4", None, "u-a", "Discovery", CREATED, later - timedelta(minutes=5),
                                    stage_changed_at=CREATED)])
    sessions = session_factory(engine)
    second = run_job("all", connector=crm, connection="local", policy=policy, sessions=sessions, now=later,
                     apply=True)
    carried = [a for a in second.actions if a.action.rule == "overdue-tasks"]
    assert len(carried) >= 2 and {(a.status, a.error) for a in carried} == {
        ("skipped", f"already applied in run {first.run_id}")}
    assert {a.status for a in second.actions if a.action.record_id == "o4"} == {"applied"}
    with sessions() as session:
        own = session.scalars(select(ActionRow.record_id).where(ActionRow.run_id == second.run_id,
                                                                ActionRow.opened.is_(None))).all()
    assert sorted(own) == ["o4", "o4"]  # the new deal's reassignment and task, nothing carried

    capsys.readouterr()
    assert print_ledger_run(sessions, second.run_id, Console(), json_output=True)
    listed = json.loads(capsys.readouterr().out)["actions"]
    assert sorted((a["key"], a["status"], a["error"]) for a in listed) == sorted(
        (a.action.key, a.status, a.error) for a in second.actions)

    with sessions() as session:
        done = {f.finding.record_id: f.done for f in open_findings(session, "local", policy, later)}
    assert {done[t] for t in ("t1", "t2")} == {("owner or manager alerted",)}
    assert done["o4"] == ("reassigned", "follow-up task created")


def test_a_rule_whose_judgments_cannot_be_stored_fails_alone_and_the_next_run_finds_all(
        crm: LocalCRM, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refuses to store one rule's judgments (on PostgreSQL while the next rule already judges): that
    rule fails alone, the other's findings stand, and the next run finds everything, the refused rule's too."""
    policy = parse_policy(POLICY + """\
  - id: opp-sla-slow
    kind: sla
    object: opportunity
    within: {business_days: 5}
    reassign_to: {kind: round_robin}
    task: {subject: Act on it now, due_in_business_days: 1}
""")
    run(crm, engine, policy, apply=False)
    crm.insert_records([Opportunity("o4", "Deal 4", None, "u-a", "Discovery", CREATED, NOW - timedelta(hours=1),
                                    stage_changed_at=CREATED)])
    real = rule_state.set_mark

    def refusing(session: Session, connection: str, rule: str, mark: rule_state.Mark) -> None:
        if rule == "opp-sla":
            raise OperationalError("UPDATE rule_marks", {}, Exception("could not extend file: No space left"))
        real(session, connection, rule, mark)

    monkeypatch.setattr(rule_state, "set_mark", refusing)
    refused = run(crm, engine, policy, apply=False)
    assert len(refused.errors) == 1 and refused.errors[0].startswith("rule opp-sla failed: OperationalError")
    assert sorted(f.record_id for f in refused.findings) == ["o1", "o2", "o3", "o4"]
    assert {f.rule for f in refused.findings} == {"opp-sla-slow"}
    monkeypatch.setattr(rule_state, "set_mark", real)
    again = run(crm, engine, policy, apply=False)
    assert not again.errors
    assert sorted((f.rule, f.record_id) for f in again.findings) == [
        (rule, f"o{n}") for rule in ("opp-sla", "opp-sla-slow") for n in range(1, 5)]
