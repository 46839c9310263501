"""Rules that follow change find exactly what a full pass finds, however the org and the clock move."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.rules_org import BANT, LEAD_STATUSES, OPEN_STAGES, STAGE_PROBABILITY, owner_rows
from config.policy import Policy
from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from domain.org import History
from domain.plan import RuleResult
from domain.records import (
    Account,
    Lead,
    ObjectType,
    Opportunity,
    Owner,
    Record,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import rules_for
from jobs import carried, rule_passes
from store import mirror, rule_state
from store.db import make_engine, migrate, session_factory
from store.models import MirrorChangeRow, RuleMarkRow
from tests.store.fake_reader import FakeReader

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CONNECTION = "local"
CLOSED = ("Closed Won", "Closed Lost")
POLICY = load_policy(PACKAGED_POLICY)
COMPANIES = ("Acme Products", "Globex", "Initech", "Umbrella Pharma", "Stark Industries", "Wayne Enterprises", "Hooli",
             "Vandelay Imports", "Soylent Foods", "Tyrell Robotics", "Cyberdyne Systems", "Wonka Confections",
             "Gringotts Bank", "Oscorp Labs")
"""Account names, and the leads' companies: a new account may duplicate an old one, a new lead work at one."""


class Org:
    """A small random org held by a fake CRM, changed the way users change one."""

    def __init__(self, rng: random.Random, policy: Policy) -> None:
        self.rng, self.now, self.tick = rng, T0, 0
        self.reader = FakeReader()
        self.reader.owner_list = [Owner(**row) for row in owner_rows(policy)]
        self.reps = [o.id for o in self.reader.owner_list if not o.is_queue and o.manager_id]
        for n in range(12):
            self.reader.put(self.account(n))
        for n in range(25):
            self.reader.put(self.deal(n))
        for n in range(12):
            self.reader.put(self.lead(n))
        for n in range(60):
            self.reader.put(self.task(n))

    def stamp(self) -> datetime:
        self.tick += 1
        return self.now + timedelta(milliseconds=self.tick)

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=self.rng.random() * days)

    def account(self, n: int) -> Account:
        created = self.ago(200)
        kind = self.rng.choice(("Customer", "Client", "Prospect", "Partner"))
        return Account(f"acc{n:04d}", COMPANIES[n % len(COMPANIES)], self.rng.choice(self.reps), created, self.stamp(),
                       account_type=kind)

    def deal(self, n: int) -> Opportunity:
        stage = self.rng.choice((*OPEN_STAGES, *CLOSED))
        created = self.ago(150)
        changed = max(created, self.ago(90))
        partner = f"acc{self.rng.randrange(12):04d}" if self.rng.random() < 0.3 else None
        return Opportunity(f"opp{n:04d}", f"Deal {n}", f"acc{self.rng.randrange(12):04d}",
                           self.rng.choice(self.reps), stage, created, self.stamp(), changed,
                           amount=None if self.rng.random() < 0.2 else 1000.0,
                           probability=STAGE_PROBABILITY.get(stage, 0.0) if self.rng.random() < 0.8 else 55.0,
                           close_date=date(2027, 1, 15), is_closed=stage in CLOSED, is_won=stage == "Closed Won",
                           partner_account_id=partner, extra={k: "yes" for k in BANT if self.rng.random() < 0.8})

    def lead(self, n: int) -> Lead:
        created = self.ago(60)
        owner = self.rng.choice([*self.reps, "queue:Web Leads"])  # a new lead may wait in the queue to be routed
        return Lead(f"led{n:04d}", f"Lead {n}", COMPANIES[n % len(COMPANIES)], owner,
                    self.rng.choice(LEAD_STATUSES), created, self.stamp(), max(created, self.ago(45)),
                    extra={k: "yes" for k in BANT if self.rng.random() < 0.7})

    def task(self, n: int) -> Task:
        done = self.rng.random() < 0.5
        created = self.ago(120)
        about = self.rng.choice((f"acc{self.rng.randrange(12):04d}", f"opp{self.rng.randrange(25):04d}"))
        return Task(f"tsk{n:04d}", "Call", self.rng.choice(self.reps),
                    TaskStatus.COMPLETED if done else TaskStatus.OPEN, self.rng.choice(tuple(TaskType)),
                    self.rng.choice(tuple(TaskPriority)), created, self.stamp(),
                    due_date=(self.now + timedelta(days=self.rng.randint(-4, 4))).date(),
                    completed_at=max(created, self.ago(100)) if done else None, what_id=about,
                    who_id=f"led{self.rng.randrange(12):04d}" if self.rng.random() < 0.3 else None)

    def change(self) -> None:
        """One edit a user could make: a stage, a status, a completed or moved task, an owner, a deletion."""
        obj = self.rng.choice((ObjectType.ACCOUNT, ObjectType.OPPORTUNITY, ObjectType.LEAD, ObjectType.TASK))
        known = self.reader.records[obj]
        if not known or self.rng.random() < 0.15:
            make = {ObjectType.ACCOUNT: self.account, ObjectType.OPPORTUNITY: self.deal, ObjectType.LEAD: self.lead,
                    ObjectType.TASK: self.task}[obj]
            fresh = make(len(known) + 100)
            self.reader.put(replace(fresh, created_at=self.now, updated_at=self.stamp()))  # type: ignore[type-var]
            return
        record: Record = known[self.rng.choice(sorted(known))]
        edits: dict[str, Any] = {"updated_at": self.stamp()}
        roll = self.rng.random()
        if roll < 0.1:
            edits["deleted"] = True
        elif roll < 0.3:
            edits["owner_id"] = self.rng.choice(self.reps)
        elif isinstance(record, Opportunity):
            stage = self.rng.choice((*OPEN_STAGES, *CLOSED))
            edits |= {"stage": stage, "stage_changed_at": self.now, "is_closed": stage in CLOSED,
                      "amount": self.rng.choice((None, 5000.0))}
        elif isinstance(record, Lead):
            edits |= {"status": self.rng.choice(LEAD_STATUSES), "status_changed_at": self.now}
        elif isinstance(record, Task):
            edits |= self.rng.choice(({"status": TaskStatus.COMPLETED, "completed_at": self.now},
                                      {"due_date": (self.now + timedelta(days=self.rng.randint(-3, 3))).date()},
                                      {"what_id": f"opp{self.rng.randrange(25):04d}"},
                                      {"task_type": self.rng.choice(tuple(TaskType))}))
        elif isinstance(record, Account):  # the type matchers ignore; a name or website makes or ends a duplicate
            edits |= self.rng.choice(({"account_type": self.rng.choice(("Customer", "Prospect"))},
                                      {"name": f"{self.rng.choice(COMPANIES)}, Inc."},
                                      {"website": f"company{self.rng.randrange(3)}.com"}))
        self.reader.put(replace(record, **edits))  # type: ignore[type-var]
        if edits.get("deleted"):
            self.reader.records[obj][record.id] = replace(record, **edits)  # type: ignore[type-var]


def comparable(result: RuleResult) -> tuple[set[tuple[Any, ...]], set[str], set[tuple[str, str, str]]]:
    """Findings, action keys and skips; a reassignment's chosen teammate depends on the run's order, not the record."""
    findings = {(f.rule, f.object, f.record_id, f.owner_id, f.reason.split(". Reassign to ")[0])
                for f in result.findings}
    return findings, {a.key for a in result.actions}, {(s.rule, s.record_id, s.reason) for s in result.skips}


@pytest.fixture(autouse=True)
def no_safety_net(monkeypatch: pytest.MonkeyPatch) -> None:
    """Days pass in these tests: keep the daily full pass from hiding what the incremental one missed."""
    monkeypatch.setattr(rule_passes, "FULL_PASS_EVERY", timedelta(days=10_000))


STEPS = st.lists(st.tuples(st.sampled_from(("minutes", "hours", "days")), st.integers(1, 40), st.integers(0, 8)),
                 min_size=1, max_size=4)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), steps=STEPS)
@example(seed=3653, steps=[("minutes", 38, 6), ("minutes", 40, 7)])  # a sync read the accounts in another order
def test_incremental_passes_give_the_full_passes_findings(tmp_path: Path, seed: int,
                                                          steps: list[tuple[str, int, int]]) -> None:
    """After random edits and clock moves, each rule's incremental pass finds, plans and skips what a full one does."""
    engine = make_engine(f"sqlite:///{tmp_path / f'{seed}-{len(steps)}-{random.random()}.db'}")
    migrate(engine)
    passes_agree(engine, seed, steps, CONNECTION)
    engine.dispose()


@pytest.mark.parametrize("seed", [5, 8])
def test_incremental_passes_agree_on_every_database(engine: Engine, seed: int) -> None:
    """The same on SQLite and PostgreSQL (by-id lookups bind their ids differently), one connection per seed, the
    rules' judgments stored as a run stores them (on PostgreSQL while the next rules judge), across a restart."""
    steps = [("minutes", 2, 8), ("hours", 3, 8), ("days", 1, 8), ("minutes", 1, 8)]
    passes_agree(engine, seed, steps, f"agree-{seed}-{random.random()}", restarts={2}, as_a_run=True)


@pytest.mark.parametrize("seed", [3, 11])
def test_a_restarted_worker_reads_the_judgments_back_once_and_then_agrees_with_full_passes(
        tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that restarts (another process ran the rules) reads each rule's judgments back, clocks included: its
    passes find what full ones do, and only the first pass after a restart reads the stored judgments to compare."""
    engine = make_engine(f"sqlite:///{tmp_path / 'restarts.db'}")
    migrate(engine)
    compared: list[int] = []
    stored = rule_state._stored
    monkeypatch.setattr(rule_state, "_stored", lambda *args: compared.append(len(compared)) or stored(*args))
    steps = [("minutes", 3, 6), ("hours", 2, 6), ("minutes", 5, 6), ("days", 1, 6), ("minutes", 9, 6)]
    at_restart: list[int] = []
    passes_agree(engine, seed, steps, CONNECTION, restarts={1, 3},
                 stored_reads=lambda step: at_restart.append(step) if compared else None,
                 before_step=compared.clear)
    assert at_restart == [1, 3]  # the passes after a restart compared with the store; all others with what they kept
    engine.dispose()


def passes_agree(engine: Engine, seed: int, steps: list[tuple[str, int, int]], connection: str,
                 restarts: set[int] = frozenset(), stored_reads: Callable[[int], None] = lambda step: None,
                 before_step: Callable[[], None] = lambda: None, as_a_run: bool = False) -> None:
    """Each step's edits synced, then every rule's incremental pass against a full one. Before a step in ``restarts``
    the process forgets what it kept, as a restarted worker; ``stored_reads`` hears of each step when it ended.
    ``as_a_run``: every rule judges before any pass is taken, its judgments stored as a run stores them."""
    sessions = session_factory(engine)
    org = Org(random.Random(seed), POLICY)
    calendar = BusinessCalendar(POLICY.calendar)
    moves = {"minutes": timedelta(minutes=7), "hours": timedelta(hours=1, minutes=13), "days": timedelta(hours=23)}
    for step, (unit, amount, edits) in enumerate([("minutes", 0, 0), *steps]):
        org.now += moves[unit] * amount
        for _ in range(edits if step else 0):
            org.change()
        if step in restarts:
            carried._KEPT.clear()
        before_step()
        mirror.sync(org.reader, sessions, connection)
        with sessions() as session:
            base = mirror.MirrorOrg(session, connection)
            ctx = RuleContext(POLICY, calendar, org.now, base.owners(), History(), connection)
            rules = rules_for(POLICY, "all")
            if as_a_run:
                with rule_passes.saving(sessions) as saves:
                    started = [rule_passes.start(rule, family, ctx, base, session, sessions, saves=saves)
                               for rule, family in rules]
                    passes = [finish() for finish in started]
            else:
                passes = [rule_passes.evaluate(rule, family, ctx, base, session, sessions) for rule, family in rules]
            for (rule, family), incremental in zip(rules, passes, strict=True):
                judged_in_full = ("dedupe", "existing_lead", *rule_passes.ALWAYS_FULL)
                assert incremental.full is (step == 0) or rule.kind in judged_in_full, rule.id
                full = family.evaluate(rule, ctx, base)
                assert comparable(incremental.result) == comparable(full), f"{rule.id} at step {step} ({org.now})"
                stored = rule_state.current(session, connection, rule.id)  # what another process would carry
                assert comparable(stored) == comparable(full), f"{rule.id} stored at step {step} ({org.now})"
        stored_reads(step)


def _scenario(tmp_path: Path) -> tuple[Engine, sessionmaker[Session], FakeReader]:
    """An empty mirror and a CRM holding the policy's owners, for a scenario written record by record."""
    engine = make_engine(f"sqlite:///{tmp_path / 'scenario.db'}")
    migrate(engine)
    reader = FakeReader()
    reader.owner_list = [Owner(**row) for row in owner_rows(POLICY)]
    return engine, session_factory(engine), reader


def _reps(reader: FakeReader) -> list[str]:
    """The CRM's active people with a manager: owners the rules may reassign to."""
    return [o.id for o in reader.owner_list if not o.is_queue and o.manager_id and o.active]


def synced_and_judged(reader: FakeReader, sessions: sessionmaker[Session], rule: Any, family: Any, now: datetime,
                      history: History | None = None) -> RuleResult:
    """Sync the mirror from ``reader``, then evaluate ``rule`` at ``now`` as a scheduled run would."""
    mirror.sync(reader, sessions, CONNECTION)
    with sessions() as session:
        base = mirror.MirrorOrg(session, CONNECTION)
        ctx = RuleContext(POLICY, BusinessCalendar(POLICY.calendar), now, base.owners(), history or History(),
                          CONNECTION)
        return rule_passes.evaluate(rule, family, ctx, base, session, sessions).result


def test_a_policy_edit_makes_the_next_pass_a_full_one(tmp_path: Path) -> None:
    """Changing any policy value judges every record again rather than trusting findings made under the old one."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    org = Org(random.Random(3), POLICY)
    mirror.sync(org.reader, sessions, CONNECTION)
    edited = POLICY.model_copy(update={"rules": tuple(
        r.model_copy(update={"after_days": 10}) if r.kind == "stale_deal" else r for r in POLICY.rules)})
    with sessions() as session:
        base = mirror.MirrorOrg(session, CONNECTION)
        for policy, expect_full in ((POLICY, True), (POLICY, False), (edited, True)):
            ctx = RuleContext(policy, BusinessCalendar(policy.calendar), T0, base.owners(), History(), CONNECTION)
            (rule, family), = [(r, f) for r, f in rules_for(policy, "stale") if r.kind == "stale_deal"]
            assert rule_passes.evaluate(rule, family, ctx, base, session, sessions).full is expect_full
    engine.dispose()


def test_a_call_found_older_than_logged_brings_the_account_due_sooner(tmp_path: Path) -> None:
    """A call's date corrected to earlier changes no finding at once, only when the next call falls due: found then."""
    engine, sessions, reader = _scenario(tmp_path)
    rep = _reps(reader)[0]
    reader.put(Account("acc1", "Acme Products", rep, T0 - timedelta(days=400), T0 - timedelta(days=400),
                       account_type="Customer"))
    call = Task("tsk1", "Call", rep, TaskStatus.COMPLETED, TaskType.CALL, TaskPriority.NORMAL, T0 - timedelta(days=10),
                T0, completed_at=T0 - timedelta(days=10), what_id="acc1")
    reader.put(call)
    (rule, family), = [(r, f) for r, f in rules_for(POLICY, "all") if r.kind == "cadence"]
    found = []
    # the call was 85 days ago, not 10: 90 days are up 5 days later
    for now, done in ((T0, None), (T0 + timedelta(hours=1), T0 - timedelta(days=85)), (T0 + timedelta(days=6), None)):
        if done is not None:
            reader.put(replace(call, completed_at=done, updated_at=now))
        found.append([f.record_id for f in synced_and_judged(reader, sessions, rule, family, now).findings])
    assert found == [[], [], ["acc1"]]
    engine.dispose()


def test_a_stale_deal_goes_back_to_its_partner_accounts_new_owner(tmp_path: Path) -> None:
    """When the partner account changes hands, the stale deal it brought is pulled back to the new channel manager."""
    engine, sessions, reader = _scenario(tmp_path)
    first, second = _reps(reader)[:2]
    partner = Account("acc1", "Globex", first, T0 - timedelta(days=400), T0 - timedelta(days=400),
                      account_type="Partner")
    reader.put(partner, Opportunity("opp1", "Deal 1", "acc2", second, "Discovery", T0 - timedelta(days=200),
                                    T0 - timedelta(days=100), T0 - timedelta(days=100), partner_account_id="acc1"))
    (rule, family), = [(r, f) for r, f in rules_for(POLICY, "all") if r.kind == "stale_deal"]
    pulled_back_to = []
    for now, owner in ((T0, None), (T0 + timedelta(hours=1), second)):
        if owner is not None:
            reader.put(replace(partner, owner_id=owner, updated_at=now))
        actions = synced_and_judged(reader, sessions, rule, family, now).actions
        pulled_back_to.append([a.payload["owner_id"] for a in actions])
    assert pulled_back_to == [[first], [second]]
    engine.dispose()


def test_a_deal_the_rule_reassigned_is_judged_from_its_reassignment_when_it_changes(tmp_path: Path) -> None:
    """A reassignment restarts the SLA clock: an edit to the deal leaves the breach since then standing."""
    engine, sessions, reader = _scenario(tmp_path)
    rep = _reps(reader)[0]
    deal = Opportunity("opp1", "Deal 1", "acc1", rep, "Discovery", T0 - timedelta(days=30), T0 - timedelta(days=20),
                       T0 - timedelta(days=20), amount=1000.0)  # its stage moved after it was created: acted on
    reader.put(deal)
    (rule, family), = [(r, f) for r, f in rules_for(POLICY, "all") if r.id == "sla-new-opportunity"]
    history = History(last_reassigned={(rule.id, "opp1"): T0 - timedelta(days=10)})  # nobody acted since
    breached = []
    for now, amount in ((T0, None), (T0 + timedelta(hours=1), 2000.0)):
        if amount is not None:
            reader.put(replace(deal, amount=amount, updated_at=now))
        breached.append([f.record_id for f in synced_and_judged(reader, sessions, rule, family, now, history).findings])
    assert breached == [["opp1"], ["opp1"]]
    engine.dispose()


def test_a_call_logged_or_turned_into_an_email_judges_its_account_again(tmp_path: Path) -> None:
    """The call cadence follows the calls: a new call clears its account, the same task made an email does not."""
    engine, sessions, reader = _scenario(tmp_path)
    rep = _reps(reader)[0]
    for account in ("acc1", "acc2"):
        reader.put(Account(account, "Acme Products", rep, T0 - timedelta(days=400), T0 - timedelta(days=400),
                           account_type="Customer"))
    old = Task("tsk1", "Call", rep, TaskStatus.COMPLETED, TaskType.CALL, TaskPriority.NORMAL, T0 - timedelta(days=100),
               T0 - timedelta(days=100), completed_at=T0 - timedelta(days=100), what_id="acc1")
    reader.put(old)
    call = replace(old, id="tsk2", created_at=T0, completed_at=T0)
    (rule, family), = [(r, f) for r, f in rules_for(POLICY, "all") if r.kind == "cadence"]
    overdue = []
    for step, task in enumerate((None, call, replace(call, task_type=TaskType.EMAIL),
                                 replace(call, id="tsk3", what_id="acc2"))):
        now = T0 + timedelta(hours=step)
        if task is not None:
            reader.put(replace(task, updated_at=now))
        overdue.append(sorted(f.record_id for f in synced_and_judged(reader, sessions, rule, family, now).findings))
    assert overdue == [["acc1", "acc2"], ["acc2"], ["acc1", "acc2"], ["acc1"]]
    engine.dispose()


def test_a_rule_that_builds_many_objects_runs_few_garbage_collections(tmp_path: Path) -> None:
    """A rule keeps what it builds until it is done; collecting every 700 new objects walked them all again and
    again (a tenth of a full-size pass). The process's own setting is back once the pass ends."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    org = Org(random.Random(5), POLICY)
    mirror.sync(org.reader, sessions, CONNECTION)
    (rule, family), = [(r, f) for r, f in rules_for(POLICY, "stale") if r.kind == "stale_deal"]
    built: list[list[int]] = []

    def building(rule: Any, ctx: RuleContext, base: Any) -> RuleResult:
        built.extend([n] for n in range(100_000))  # what a large org's findings and their parts amount to
        return family.evaluate(rule, ctx, base)

    young: list[int] = []

    def heard(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 0:
            young.append(1)

    before = gc.get_threshold()
    gc.callbacks.append(heard)
    try:
        with sessions() as session:
            base = mirror.MirrorOrg(session, CONNECTION)
            ctx = RuleContext(POLICY, BusinessCalendar(POLICY.calendar), T0, base.owners(), History(), CONNECTION)
            rule_passes.evaluate(rule, replace(family, evaluate=building), ctx, base, session, sessions)
    finally:
        gc.callbacks.remove(heard)
    assert len(built) == 100_000
    assert len(young) <= 2, f"{len(young)} young collections while the rule built 100,000 objects"
    assert gc.get_threshold() == before
    engine.dispose()


def test_a_run_drops_the_change_log_once_up_to_what_every_rule_has_seen(tmp_path: Path) -> None:
    """Each rule saves its mark, but only the save that moves the oldest mark drops the log: one delete a run, not one
    per rule; a restarted process still drops everything every rule has seen."""
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    migrate(engine)
    deletes: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: deletes.append(statement)
                 if statement.startswith("DELETE FROM mirror_changes") else None)
    sessions = session_factory(engine)
    org = Org(random.Random(7), POLICY)
    calendar = BusinessCalendar(POLICY.calendar)
    for step in range(5):
        if step == 3:
            rule_passes._FORGOTTEN.clear()  # a restarted worker
        org.now += timedelta(minutes=20)
        for _ in range(6 if step else 0):
            org.change()
        mirror.sync(org.reader, sessions, CONNECTION)
        deletes.clear()
        with sessions() as session:
            base = mirror.MirrorOrg(session, CONNECTION)
            ctx = RuleContext(POLICY, calendar, org.now, base.owners(), History(), CONNECTION)
            for rule, family in rules_for(POLICY, "all"):
                rule_passes.evaluate(rule, family, ctx, base, session, sessions)
        with sessions() as session:
            seen_by_all = session.scalar(select(func.min(RuleMarkRow.change_id)))
            kept = session.scalars(select(MirrorChangeRow.id).where(MirrorChangeRow.id <= seen_by_all)).all()
        assert kept == [], f"step {step}: the log still holds what every rule has seen"
        at_most = 2 if step == 3 else 1  # a restarted process first drops what every rule had seen before it
        assert step == 0 or 1 <= len(deletes) <= at_most, f"step {step}: {len(deletes)} deletes of the change log"
