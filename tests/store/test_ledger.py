from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, func, select
from sqlalchemy.orm import Session

from domain.plan import Action, ActionKind, ActionStatus, Finding, RuleResult, Skip, by_rule
from domain.records import ObjectType
from store import claims
from store.claims import UnknownActionError
from store.db import make_engine, session_factory
from store.ledger import Ledger
from store.models import ActionRow, FindingRow, RunRow, SkipRow
from store.run_report import UnknownRunError

T0 = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(engine: Engine, clock: Clock) -> Ledger:
    return Ledger(session_factory(engine), clock=clock)


def reassign(record_id: str = "006A", owner_id: str = "005B", rule: str = "opp-sla") -> Action:
    return Action(ActionKind.REASSIGN, ObjectType.OPPORTUNITY, record_id, f"{rule}:{record_id}:2026-05-01",
                  "untouched for 4 business days", rule, {"owner_id": owner_id})


def planned(ledger: Ledger, *actions: Action) -> tuple[str, list[int]]:
    run_id = ledger.start_run("sla", "local", dry_run=False, now=T0)
    return run_id, ledger.record_actions(run_id, actions)


def test_findings_come_back_exactly_as_recorded_whatever_their_text(ledger: Ledger) -> None:
    """Reasons and evidence with quotes, backslashes, tabs, newlines and non-Latin text survive the bulk write."""
    findings = [
        Finding("overdue-tasks", ObjectType.TASK, f"00T{n:03d}", None if n % 2 else "005A",
                'Task "Call\\back"\tdue\nyesterday — Müller 株式会社 🚀',
                {"due": "2026-05-01", "days": n, "path": "C:\\temp\\x", "nested": {"list": [1, None, "ü"]}})
        for n in range(3)
    ]
    run_id = ledger.start_run("tasks", "local", dry_run=True, now=T0)
    ledger.record_findings(run_id, findings)
    ledger.record_findings(run_id, [])
    assert ledger.run_report(run_id).findings == findings


def _rows(engine: Engine, model: type[FindingRow | SkipRow]) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_run_that_carries_its_findings_forward_writes_only_those_that_changed(
        ledger: Ledger, engine: Engine, clock: Clock) -> None:
    """A scheduled run finds what the last one found but for one record: the ledger grows by that one finding,
    and each run still reads back exactly what it found, in its own connection and rules."""
    before = _rows(engine, FindingRow)
    first = [Finding("overdue-tasks", ObjectType.TASK, f"00T{n:03d}", "005A", f"Task {n} is overdue", {"days": n})
             for n in range(200)]
    other_rule = [Finding("stale-deals", ObjectType.OPPORTUNITY, "006A", "005B", "no activity", {})]
    runs = [ledger.start_run("all", "local", dry_run=True, now=T0)]
    ledger.record_findings(runs[0], first + other_rule)
    second = [*first[:150], replace(first[150], evidence={"days": 151}), *first[151:199]]
    runs.append(ledger.start_run("tasks", "local", dry_run=True, now=T0 + timedelta(minutes=15)))
    ledger.record_findings(runs[1], second)
    sandbox = ledger.start_run("tasks", "sandbox", dry_run=True, now=T0 + timedelta(minutes=15))
    ledger.record_findings(sandbox, first[:3])
    assert _rows(engine, FindingRow) - before == 201 + 1 + 3
    assert ledger.run_report(runs[0]).findings == first + other_rule
    assert sorted(ledger.run_report(runs[1]).findings, key=lambda f: f.record_id) == second
    assert ledger.run_report(sandbox).findings == first[:3]
    runs.append(ledger.start_run("all", "local", dry_run=True, now=T0 + timedelta(minutes=30)))
    ledger.record_findings(runs[2], first, ["overdue-tasks", "stale-deals"])
    assert sorted(ledger.run_report(runs[2]).findings, key=lambda f: f.record_id) == first
    assert sorted(ledger.run_report(runs[1]).findings, key=lambda f: f.record_id) == second
    assert _rows(engine, FindingRow) - before == 201 + 1 + 3 + 2  # 00T150 as it was, 00T199 back


def test_skips_a_run_carries_forward_are_kept_once_and_each_run_reads_back_its_own(
        ledger: Ledger, engine: Engine, clock: Clock) -> None:
    """Records a rule cannot judge stay so from run to run: the ledger keeps each once, not once per run; a skip that
    goes away is closed, a new one added, and every run's report still lists exactly the skips it had."""
    before = _rows(engine, SkipRow)
    skips = [Skip("overdue-tasks", ObjectType.TASK, f"00T{n:03d}", f"cannot read due date {n}/13/2026")
             for n in range(50)]
    finding = Finding("overdue-tasks", ObjectType.TASK, "00T999", "005A", "overdue", {})
    reports: list[tuple[str, list[Skip]]] = []
    for step, held in enumerate((skips, skips, [*skips[1:], replace(skips[0], reason="no due date")], skips[1:])):
        clock.now = T0 + timedelta(minutes=15 * step)
        run_id = ledger.start_run("tasks", "local", dry_run=True, now=clock.now)
        ledger.record_dry_run(run_id, {"overdue-tasks": RuleResult([finding], [], held)}, ["overdue-tasks"])
        reports.append((run_id, held))
    assert _rows(engine, SkipRow) - before == 50 + 1  # 00T000's new reason; gone in the last run, closed, not deleted
    for run_id, held in reports:
        assert sorted(ledger.run_report(run_id).skips, key=lambda s: s.record_id) == \
            sorted(held, key=lambda s: s.record_id)
    revert = ledger.start_run("revert", "local", dry_run=False, now=clock.now)
    ledger.record_skips(revert, skips[:2])  # a revert's skips are its own rows, read back by its id
    assert ledger.run_report(revert).skips == skips[:2]


def test_each_action_id_names_the_action_given_in_its_place_whoever_else_records(ledger: Ledger, clock: Clock) -> None:
    """The ids come back in the order the actions were given, though another run records its own in between, and
    each action comes back whole (text, payload, prerequisite) from the bulk write."""
    first = [Action(ActionKind.CREATE_TASK, ObjectType.OPPORTUNITY, f"006{n}", f"k{n}", 'Call "Müller"\n株式会社 🚀',
                    "opp-sla", {"subject": f"Follow up\t{n}", "nested": {"list": [1, None, "ü"]}},
                    requires=f"k{n - 1}" if n else None) for n in range(5)]
    run_id = ledger.start_run("sla", "local", dry_run=False, now=T0)
    ids = ledger.record_actions(run_id, first[:3])
    other_run, other_ids = planned(ledger, reassign("006X"), reassign("006Y"))
    ids += ledger.record_actions(run_id, first[3:])
    assert ledger.record_actions(run_id, []) == []
    by_id = {a.id: a for a in ledger.run_report(run_id).actions}
    assert [by_id[i].key for i in ids] == [a.key for a in first]
    assert [(by_id[i].reason, by_id[i].payload, by_id[i].status, by_id[i].created_at) for i in ids] == [
        (a.reason, a.payload, ActionStatus.PLANNED, clock.now) for a in first]
    assert [a.record_id for a in ledger.run_report(other_run).actions if a.id in other_ids] == ["006X", "006Y"]
    ledger.claim(ids[1])
    ledger.mark_applied(ids[1])
    assert ledger.applied_prerequisites([ids[2]]) == {"k1"}  # the prerequisite recorded with the action


def test_run_report_gives_back_what_the_run_recorded(ledger: Ledger) -> None:
    """A finished run's report holds its status, summary, findings, skips and each action's outcome."""
    finding = Finding("opp-sla", ObjectType.OPPORTUNITY, "006A", "005A", "untouched", {"age_days": 6})
    skip = Skip("opp-sla", ObjectType.OPPORTUNITY, "006Z", "owner 005X is not in the mirror")
    task = Action(ActionKind.CREATE_TASK, ObjectType.OPPORTUNITY, "006A", "k:task", "follow up", "opp-sla",
                  {"subject": "Call back", "owner_id": "005B"})
    run_id, (first, second) = planned(ledger, reassign(), task)
    ledger.record_findings(run_id, [finding])
    ledger.record_skips(run_id, [skip])
    ledger.mark_applied(first, result_id="006A")
    ledger.mark_failed(second, "INVALID_CROSS_REFERENCE_KEY on 005B: invalid cross reference id")
    ledger.finish_run(run_id, "finished", {"findings": {"opp-sla": 1}})
    report = ledger.run_report(run_id)
    assert (report.run.status, report.run.summary, report.run.now) == ("finished", {"findings": {"opp-sla": 1}}, T0)
    assert report.findings == [finding] and report.skips == [skip]
    assert [(a.kind, a.status, a.result_id, a.error) for a in report.actions] == [
        (ActionKind.REASSIGN, ActionStatus.APPLIED, "006A", None),
        (ActionKind.CREATE_TASK, ActionStatus.FAILED, None,
         "INVALID_CROSS_REFERENCE_KEY on 005B: invalid cross reference id"),
    ]
    assert report.actions[1].payload == {"subject": "Call back", "owner_id": "005B"}


def test_latest_runs_come_newest_first(ledger: Ledger, clock: Clock) -> None:
    """Listing runs shows the most recent first, as many as asked for."""
    older = ledger.start_run("sla", "local", dry_run=True, now=T0)
    clock.now += timedelta(minutes=15)
    newer = ledger.start_run("all", "local", dry_run=True, now=T0)
    assert [r.id for r in ledger.latest_runs(5)] == [newer, older]
    assert [r.id for r in ledger.latest_runs(1)] == [newer]


def test_unknown_runs_and_statuses_are_reported_by_name(ledger: Ledger) -> None:
    """Asking for a run that does not exist, or finishing with a made-up status, names the culprit."""
    with pytest.raises(UnknownRunError, match="no run with id 'nope'"):
        ledger.run_report("nope")
    run_id = ledger.start_run("sla", "local", dry_run=True, now=T0)
    with pytest.raises(ValueError, match="cannot finish as 'done': use one of finished, failed, stopped"):
        ledger.finish_run(run_id, "done", {})
    with pytest.raises(UnknownActionError, match="no action with id 999"):
        ledger.claim(999)


def test_second_apply_of_the_same_key_is_skipped(ledger: Ledger) -> None:
    """Once an action's key was applied, the same action planned by a later run is not applied again."""
    first_run, (first,) = planned(ledger, reassign())
    assert ledger.claim(first).proceed
    ledger.mark_applied(first)
    _, (again,) = planned(ledger, reassign())
    claim = ledger.claim(again)
    assert not claim.proceed
    assert claim.reason == f"already applied in run {first_run}"
    assert ledger.action_statuses([first, again]) == {
        first: ("applied", None), again: ("skipped", f"already applied in run {first_run}"),
    }


def test_reclaiming_an_applied_action_leaves_it_applied(ledger: Ledger) -> None:
    """Claiming the very action that applied a key refuses without rewriting its status."""
    _, (action_id,) = planned(ledger, reassign())
    assert ledger.claim(action_id).proceed
    assert ledger.claim(action_id).proceed
    ledger.mark_applied(action_id)
    assert not ledger.claim(action_id).proceed
    assert ledger.action_statuses([action_id])[action_id] == ("applied", None)


def test_failed_action_is_retried_by_the_next_run(ledger: Ledger) -> None:
    """A key whose apply failed is free again: the next run takes it over and applies it once."""
    _, (failed,) = planned(ledger, reassign())
    assert ledger.claim(failed).proceed
    ledger.mark_failed(failed, "UNABLE_TO_LOCK_ROW on 006A")
    second_run, (retry,) = planned(ledger, reassign())
    assert ledger.claim(retry).proceed
    ledger.mark_applied(retry)
    _, (third,) = planned(ledger, reassign())
    assert ledger.claim(third).reason == f"already applied in run {second_run}"


def test_claim_of_an_ended_run_is_taken_over(ledger: Ledger) -> None:
    """A claim whose holder's run has ended (closed after it died) goes to the next claimant."""
    crashed_run, (stuck,) = planned(ledger, reassign())
    assert ledger.claim(stuck).proceed
    ledger.finish_run(crashed_run, "failed", {}, error="KeyboardInterrupt")
    _, (next_try,) = planned(ledger, reassign())
    assert ledger.claim(next_try).proceed


@pytest.mark.parametrize("lease", [None, timedelta(minutes=15)])
def test_claim_of_a_run_still_marked_running_lapses_only_with_a_lease(
    engine: Engine, clock: Clock, lease: timedelta | None
) -> None:
    """CRM changes wait for the run to be closed and settled, however long; a lease (emails) lets them go."""
    ledger = Ledger(session_factory(engine), clock=clock, claim_lease=lease)
    _, (stuck,) = planned(ledger, reassign())
    assert ledger.claim(stuck).proceed
    clock.now += timedelta(hours=1)
    _, (next_try,) = planned(ledger, reassign())
    assert ledger.claim(next_try).proceed is (lease is not None)


def test_claim_held_by_a_live_run_is_respected(ledger: Ledger) -> None:
    """While another running run holds a fresh claim on the key, this action stands aside."""
    holder_run, (holder,) = planned(ledger, reassign())
    assert ledger.claim(holder).proceed
    _, (other,) = planned(ledger, reassign())
    claim = ledger.claim(other)
    assert not claim.proceed
    assert claim.reason is not None and claim.reason.startswith(f"being applied by run {holder_run}")


def test_claiming_a_whole_plan_at_once_decides_each_key_as_one_by_one(ledger: Ledger) -> None:
    """In one batch an applied key is refused, a live run's key left alone, a repeated key given to its first action."""
    applied_run, (applied,) = planned(ledger, reassign("006A"))
    assert ledger.claim(applied).proceed
    ledger.mark_applied(applied)
    holder_run, (holder,) = planned(ledger, reassign("006B"))
    assert ledger.claim(holder).proceed
    run_id, (a, b, c, c_again) = planned(ledger, reassign("006A"), reassign("006B"), reassign("006C"),
                                         reassign("006C"))
    claims = ledger.claim_all([a, b, c, c_again])
    assert {i: claim.proceed for i, claim in claims.items()} == {a: False, b: False, c: True, c_again: False}
    assert claims[a].reason == f"already applied in run {applied_run}"
    assert (claims[b].reason or "").startswith(f"being applied by run {holder_run}")
    assert (claims[c_again].reason or "").startswith(f"being applied by run {run_id}")
    ledger.mark_all_applied([c])
    _, (later,) = planned(ledger, reassign("006C"))
    assert ledger.claim(later).reason == f"already applied in run {run_id}"
    assert ledger.action_statuses([c])[c] == ("applied", None)


def test_a_plan_of_keys_already_applied_is_refused_in_a_few_commits_as_one_by_one(
        ledger: Ledger, engine: Engine) -> None:
    """A scheduled run carries forward thousands of actions earlier runs applied: each is refused, and marked
    skipped with the run that applied it, as claiming it alone would, without a transaction per action."""
    plan = [reassign(f"006{n:04d}") for n in range(1_200)]
    applied_run, ids = planned(ledger, *plan)
    ledger.claim_all(ids)
    ledger.mark_all_applied(ids)
    _, again = planned(ledger, *plan, reassign("006NEW"))
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", committed)
    try:
        claims = ledger.claim_all(again)
    finally:
        event.remove(engine, "commit", committed)
    assert [claims[i].proceed for i in again] == [False] * len(plan) + [True]
    assert {claims[i].reason for i in again[:-1]} == {f"already applied in run {applied_run}"}
    statuses = ledger.action_statuses(again)
    assert {statuses[i] for i in again[:-1]} == {("skipped", f"already applied in run {applied_run}")}
    assert len(commits) <= 6  # three batches of 500, two transactions each
    assert ledger.claim(ids[0]) == ledger.claim_all([ids[0]])[ids[0]]  # its own action: refused, left applied
    assert ledger.action_statuses([ids[0]])[ids[0]] == ("applied", None)


def test_two_connections_with_the_same_record_ids_each_apply_their_own_action(ledger: Ledger) -> None:
    """A sandbox copied from production shares its record ids: what one applied does not stop the other."""
    prod_run = ledger.start_run("sla", "prod", dry_run=False, now=T0)
    (prod,) = ledger.record_actions(prod_run, [reassign()])
    sandbox_run = ledger.start_run("sla", "sandbox", dry_run=False, now=T0)
    (sandbox,) = ledger.record_actions(sandbox_run, [reassign()])
    assert ledger.claim(prod).proceed
    ledger.mark_applied(prod)
    assert ledger.claim_all([sandbox])[sandbox].proceed
    ledger.mark_applied(sandbox)
    prod_again_run = ledger.start_run("sla", "prod", dry_run=False, now=T0)
    (prod_again,) = ledger.record_actions(prod_again_run, [reassign()])
    assert ledger.claim(prod_again).reason == f"already applied in run {prod_run}"


@pytest.fixture
def second_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("batched", [False, True], ids=["one by one", "whole plan"])
def test_racing_claims_have_exactly_one_winner(
    ledger: Ledger, engine: Engine, second_engine: Engine, batched: bool
) -> None:
    """Two processes claiming the same keys at once: for every key exactly one of them proceeds."""
    records = [f"006{n:03d}" for n in range(12)]
    _, ours = planned(ledger, *(reassign(r) for r in records))
    _, theirs = planned(ledger, *(reassign(r) for r in records))
    barrier = threading.Barrier(2)
    outcomes: dict[int, bool] = {}

    def claim_all(engine_: Engine, action_ids: list[int]) -> None:
        racer = Ledger(session_factory(engine_))
        barrier.wait()
        if batched:
            outcomes.update({i: claim.proceed for i, claim in racer.claim_all(action_ids).items()})
        else:
            outcomes.update({i: racer.claim(i).proceed for i in action_ids})

    threads = [threading.Thread(target=claim_all, args=(e, ids))
               for e, ids in ((engine, ours), (second_engine, theirs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 * len(records)
    assert all(outcomes[a] != outcomes[b] for a, b in zip(ours, theirs, strict=True))


def test_errors_are_stored_without_url_passwords(ledger: Ledger) -> None:
    """A CRM error that quotes a URL with a password in it is kept with the password masked."""
    run_id, (action_id,) = planned(ledger, reassign())
    ledger.mark_failed(action_id, "cannot reach https://admin:hunter2@login.example.com/services/oauth2/token")
    ledger.finish_run(run_id, "failed", {}, error="lost postgresql://warden:s3cret@db/warden?password=s3cret")
    report = ledger.run_report(run_id)
    assert report.actions[0].error == "cannot reach https://admin:***@login.example.com/services/oauth2/token"
    assert report.run.error == "lost postgresql://warden:***@db/warden?password=***"


@pytest.mark.parametrize("crowd", [0, 20], ids=["fewer claims than keys", "more claims than keys"])
def test_held_claims_say_who_applied_a_key_when_and_what_failed(ledger: Ledger, clock: Clock, crowd: int) -> None:
    """A dry run reads each key's claim: applied (by which run, when), failed (with the CRM's words), or none; the
    same whether the ledger holds fewer claims than the keys asked about (read in one pass) or more (looked up)."""
    _, others = planned(ledger, *(reassign(f"006Z{n:03d}") for n in range(crowd)))
    other_org = ledger.start_run("sla", "other-org", dry_run=False, now=T0)
    ledger.claim_all(others + ledger.record_actions(other_org, [reassign("006C")] * min(crowd, 1)))
    applied_run, (applied,) = planned(ledger, reassign("006A"))
    _, (failed,) = planned(ledger, reassign("006B"))
    ledger.claim_all([applied, failed])
    clock.now += timedelta(minutes=5)
    ledger.mark_applied(applied)
    ledger.mark_failed(failed, "UNABLE_TO_LOCK_ROW on 006B")
    held = ledger.held_claims("local", [reassign(r).key for r in ("006A", "006B", "006C", "006A")])  # a key twice
    assert set(held) == {reassign("006A").key, reassign("006B").key}
    first, second = held[reassign("006A").key], held[reassign("006B").key]
    assert (first.status, first.run_id, first.at, first.error) == (ActionStatus.APPLIED, applied_run, clock.now, None)
    assert (second.status, second.error) == (ActionStatus.FAILED, "UNABLE_TO_LOCK_ROW on 006B")
    assert ledger.held_claims("other-org", [reassign("006A").key]) == {}


def test_held_claims_of_a_plan_of_many_keys_find_each_claimed_one_whichever_lookup_it_falls_in(
        ledger: Ledger) -> None:
    """A full-size dry run asks about a million keys at once, in many lookups: the claimed ones are found wherever
    they fall among them, and a key another connection claimed is not this one's."""
    plan = [reassign(f"006{n:05d}") for n in range(12_001)]
    plan[6_000] = reassign("006\x1f\"odd,{id}")  # a CRM id holding what a list of keys is written with
    claimed = plan[::1_500]
    run_id, ids = planned(ledger, *claimed)
    ledger.claim_all(ids)
    ledger.mark_all_applied(ids)
    other = ledger.start_run("sla", "other-org", dry_run=False, now=T0)
    ledger.claim_all(ledger.record_actions(other, plan[1:3]))
    held = ledger.held_claims("local", [a.key for a in reversed(plan)])
    assert sorted(held) == sorted(a.key for a in claimed)
    assert {(h.status, h.run_id) for h in held.values()} == {(ActionStatus.APPLIED, run_id)}


def test_held_claims_ask_the_ledger_again_only_about_keys_not_seen_applied(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long-lived worker looks up a million keys every run, nearly all applied long ago: once it has seen a key
    applied it does not ask the ledger about it again, while keys that failed or nobody claimed are read afresh."""
    asked: list[str] = []
    real = claims.driver_rows

    def spying(session: Session, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        asked.extend(str(p) for p in params)
        return real(session, sql, params)

    monkeypatch.setattr(claims, "driver_rows", spying)
    plan = [reassign(f"006{n:03d}") for n in range(40)]
    crowd = [reassign(f"007{n:03d}") for n in range(60)]  # more claims than keys: the keys are looked up
    _, ids = planned(ledger, *plan[:10], *crowd)
    ledger.claim_all(ids)
    ledger.mark_all_applied(ids[:9] + ids[10:])
    ledger.mark_failed(ids[9], "UNABLE_TO_LOCK_ROW")
    keys = [a.key for a in plan]
    first = ledger.held_claims("local", keys)
    asked.clear()
    retry_run, (retried,) = planned(ledger, plan[9])
    ledger.claim_all([retried])
    ledger.mark_applied(retried)
    second = ledger.held_claims("local", keys)
    assert not any(a.key in p for a in plan[:9] for p in asked)
    assert any(plan[9].key in p for p in asked) and any(plan[20].key in p for p in asked)
    assert {k: (h.status, h.run_id) for k, h in second.items()} == {
        **{k: (h.status, h.run_id) for k, h in first.items()}, plan[9].key: (ActionStatus.APPLIED, retry_run)}


def test_applied_claims_seen_before_are_forgotten_once_their_run_is_gone(ledger: Ledger, engine: Engine) -> None:
    """A ledger emptied or replaced under a running worker (a restored database, a test) holds none of the claims
    the worker saw applied: it must not answer from memory that they were."""
    run_id, ids = planned(ledger, reassign("006A"))
    ledger.claim_all(ids)
    ledger.mark_all_applied(ids)
    assert set(ledger.held_claims("local", [reassign("006A").key])) == {reassign("006A").key}
    with engine.begin() as connection:
        connection.execute(delete(RunRow).where(RunRow.id == run_id))
    assert ledger.held_claims("local", [reassign("006A").key]) == {}


def test_runs_recording_the_same_rule_at_once_each_read_back_what_they_found(
        engine: Engine, second_engine: Engine) -> None:
    """Two processes record runs of the same rule at the same time, again and again: every run's findings come
    back exactly as it found them, though each compares with the findings the other just recorded."""
    def found(racer: int, n: int) -> list[Finding]:
        return [Finding("overdue-tasks", ObjectType.TASK, f"00T{i:03d}", "005A", f"overdue {i}", {"racer": racer})
                for i in range(n % 7, 40 + n % 5)]

    barrier = threading.Barrier(2)
    recorded: dict[str, list[Finding]] = {}
    failures: list[BaseException] = []

    def record(racer: int, engine_: Engine) -> None:
        ledger = Ledger(session_factory(engine_))
        try:
            for n in range(8):
                run_id = ledger.start_run("tasks", "racing", dry_run=True, now=T0)
                barrier.wait(timeout=30)
                ledger.record_findings(run_id, found(racer, n), ["overdue-tasks"])
                recorded[run_id] = found(racer, n)
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=record, args=(racer, e)) for racer, e in enumerate((engine, second_engine))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == [] and len(recorded) == 16
    ledger = Ledger(session_factory(engine))
    for run_id, findings in recorded.items():
        assert sorted(ledger.run_report(run_id).findings, key=lambda f: f.record_id) == findings


def _action_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(ActionRow)).scalar_one()


def test_dry_runs_that_plan_the_same_actions_share_them_and_each_reads_back_its_own_plan(
        ledger: Ledger, engine: Engine) -> None:
    """Scheduled dry runs plan what the last one planned but for one action: the ledger grows by that action. A run
    that applies in between records, claims and marks its own actions without changing what the dry runs planned."""
    before = _action_rows(engine)
    plan = [reassign(f"006{n:03d}") for n in range(100)]
    dry = [ledger.start_run("sla", "local", dry_run=True, now=T0)]
    ledger.record_dry_run(dry[0], by_rule(RuleResult(actions=plan)), ["opp-sla"])
    applying, ids = planned(ledger, *plan[:2])
    assert ledger.claim(ids[0]).proceed
    ledger.mark_applied(ids[0], result_id="006000")
    changed = [*plan[:50], replace(plan[50], payload={"owner_id": "005C"}), *plan[51:]]
    dry.append(ledger.start_run("sla", "local", dry_run=True, now=T0 + timedelta(minutes=15)))
    ledger.record_dry_run(dry[1], by_rule(RuleResult(actions=changed)), ["opp-sla"])
    assert _action_rows(engine) - before == 100 + 2 + 1
    for run_id, actions in zip(dry, (plan, changed), strict=True):
        report = ledger.run_report(run_id).actions
        assert sorted((a.record_id, a.key, a.payload, a.status) for a in report) == sorted(
            (a.record_id, a.key, a.payload, ActionStatus.PLANNED) for a in actions)
    assert [(a.key, a.status) for a in ledger.run_report(applying).actions] == [
        (plan[0].key, ActionStatus.APPLIED), (plan[1].key, ActionStatus.PLANNED)]


def test_a_finding_found_twice_is_kept_as_often_as_each_run_found_it(ledger: Ledger, engine: Engine) -> None:
    """The same finding twice in one run, once in the next, twice again: each run reads back its own count."""
    twice = Finding("lead-gates", ObjectType.LEAD, "00Q9", "005A", "missing Industry", {"fields": ["Industry"]})
    before = _rows(engine, FindingRow)
    counts = (2, 1, 2)
    runs = []
    for n in counts:
        runs.append(ledger.start_run("gates", "local", dry_run=True, now=T0))
        ledger.record_findings(runs[-1], [twice] * n)
    assert [len(ledger.run_report(run_id).findings) for run_id in runs] == list(counts)
    assert _rows(engine, FindingRow) - before == 3
