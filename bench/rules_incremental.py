"""The scheduled run after 1% of the org changed: rules that follow change beside a full pass.

A full pass at ``NOW`` stores every rule's judgment; then 1% of the accounts, deals, leads and
tasks change (a stage moves, a task is completed, a status or a type changes) through an
incremental sync, as users' edits would arrive; the clock moves on by ``LATER``. Each rule then
runs incrementally and in full on the same mirror, and the two must find the same.
"""

from __future__ import annotations

import time
from collections.abc import ItemsView, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from bench.collector_time import CollectorTime, collector_time
from bench.rules_org import CONNECTION, LEAD_STATUSES, OPEN_STAGES, Size
from config.policy import Policy
from domain.connector import ApiUsage
from domain.org import History
from domain.plan import Action, ActionStatus, RuleResult
from domain.records import Account, Lead, ObjectType, Opportunity, Owner, Record, Task, TaskStatus
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import rules_for
from jobs import rule_passes
from jobs.pipeline import run_job
from jobs.plan_outcome import dry_run_outcomes
from jobs.rule_passes import Gathered
from store import mirror
from store.claims import claim_key
from store.collector import collections_every, settle
from store.db import checkpoint, session_factory
from store.ingest import append_rows, stored_datetime
from store.ledger import Ledger
from store.models import ActionRow, ClaimRow, FindingRow, RunRow, WatermarkRow

LATER = timedelta(minutes=15)
WORKER_RUNS = 3
"""Scheduled runs of the worker measured one after another (``worker_run``): the bench prints their median."""
PREFIX = {ObjectType.ACCOUNT: "acc", ObjectType.OPPORTUNITY: "opp", ObjectType.LEAD: "led", ObjectType.TASK: "tsk"}


class Edits:
    """Serves the changed records to ``mirror.sync`` as a CRM would (changed since the watermark)."""

    def __init__(self, changed: dict[ObjectType, list[Record]]) -> None:
        self.changed = changed

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        return iter(self.changed.get(object_type, []))

    def owners(self) -> list[Owner]:
        return []


def _edit(record: Record, at: datetime) -> Record:
    if isinstance(record, Opportunity):
        stage = OPEN_STAGES[(OPEN_STAGES.index(record.stage) + 1) % len(OPEN_STAGES)] if record.stage in OPEN_STAGES \
            else OPEN_STAGES[0]
        return replace(record, stage=stage, stage_changed_at=at, is_closed=False, is_won=False, updated_at=at)
    if isinstance(record, Task):
        if record.status is TaskStatus.OPEN:
            return replace(record, status=TaskStatus.COMPLETED, completed_at=at, updated_at=at)
        return replace(record, due_date=at.date(), status=TaskStatus.OPEN, completed_at=None, updated_at=at)
    if isinstance(record, Lead):
        return replace(record, status=LEAD_STATUSES[1], status_changed_at=at, updated_at=at)
    assert isinstance(record, Account)
    return replace(record, account_type="Customer" if record.account_type != "Customer" else "Prospect", updated_at=at)


def change_share(engine: Engine, size: Size, now: datetime, share: float) -> int:
    """Change ``share`` of every record type (every n-th id) through an incremental sync stamped ``now``."""
    sessions = session_factory(engine)
    counts = {ObjectType.ACCOUNT: size.accounts, ObjectType.OPPORTUNITY: size.opportunities,
              ObjectType.LEAD: size.leads, ObjectType.TASK: size.tasks}
    step = max(1, round(1 / share))
    changed: dict[ObjectType, list[Record]] = {}
    with sessions() as session:
        org = mirror.MirrorOrg(session, CONNECTION)
        for obj, n in counts.items():
            ids = [f"{PREFIX[obj]}{i:09d}" for i in range(0, n, step)]
            changed[obj] = [_edit(r, now) for r in org.records_by_id(obj, ids)]
    with sessions.begin() as session:  # the org was written straight into the mirror: mark it synced
        for obj in counts:
            session.merge(WatermarkRow(connection=CONNECTION, object=obj.value, value=now - LATER, updated_at=now))
    mirror.sync(Edits(changed), sessions, CONNECTION, list(counts))
    return sum(len(records) for records in changed.values())


def _comparable(result: RuleResult) -> tuple[Any, ...]:
    findings = {(f.rule, f.record_id, f.reason.split(". Reassign to ")[0]) for f in result.findings}
    return findings, {a.key for a in result.actions}, {(s.rule, s.record_id) for s in result.skips}


def _context(session: Session, policy: Policy, now: datetime) -> tuple[RuleContext, mirror.MirrorOrg]:
    org = mirror.MirrorOrg(session, CONNECTION)
    return RuleContext(policy, BusinessCalendar(policy.calendar), now, org.owners(), History(), CONNECTION), org


def first_pass(engine: Engine, policy: Policy, now: datetime) -> tuple[float, CollectorTime, Gathered]:
    """Every rule's full pass at ``now``, keeping its judgments; its seconds, the collector's share and the plan."""
    sessions = session_factory(engine)
    planned = Gathered()
    started = time.perf_counter()
    with sessions() as session, collector_time() as collected:
        ctx, org = _context(session, policy, now)
        for rule, family in rules_for(policy, "all"):
            planned.add(rule.id, rule_passes.evaluate(rule, family, ctx, org, session, sessions, full=True))
    return time.perf_counter() - started, collected, planned


@dataclass
class Compared:
    incremental_seconds: float
    full_seconds: float
    agree: bool
    planned: Gathered
    """Every rule's incremental result together: what the scheduled run records in the ledger."""


def compare(engine: Engine, policy: Policy, now: datetime) -> Compared:
    """Each rule incrementally, then in full, at ``now``; prints both; the totals and whether they agree."""
    sessions = session_factory(engine)
    planned = Gathered()
    incremental_total = full_total = carried_total = 0.0
    incremental_collected, full_collected = CollectorTime(), CollectorTime()
    agree = True
    print(f"{'rule':24} {'incremental s':>14} {'of it carrying':>15} {'of it GC':>9} {'judged':>9} "
          f"{'full pass s':>12} {'of it GC':>9} {'findings':>9}  same")
    with sessions() as session:
        ctx, org = _context(session, policy, now)
        for rule, family in rules_for(policy, "all"):
            with collector_time() as incremental_gc:
                started = time.perf_counter()
                done = rule_passes.evaluate(rule, family, ctx, org, session, sessions)
                incremental = time.perf_counter() - started
            with collector_time() as full_gc, collections_every(rule_passes.OBJECTS_BETWEEN_COLLECTIONS):
                started = time.perf_counter()
                full = family.evaluate(rule, ctx, org)
                whole = time.perf_counter() - started
            planned.add(rule.id, done)
            same = _comparable(done.result) == _comparable(full)
            agree = agree and same
            incremental_total, full_total = incremental_total + incremental, full_total + whole
            carried_total += done.carry_seconds
            incremental_collected.add(incremental_gc)
            full_collected.add(full_gc)
            judged = "all" if done.full else f"{done.judged:,}"
            print(f"{rule.id:24} {incremental:>14.2f} {done.carry_seconds:>15.2f} {incremental_gc.total:>9.2f} "
                  f"{judged:>9} {whole:>12.2f} {full_gc.total:>9.2f} {len(full.findings):>9,}  "
                  f"{'yes' if same else 'NO'}")
    print(f"of the incremental total, {carried_total:.2f} s read back what was carried forward "
          f"and {incremental_total - carried_total:.2f} s judged and stored what changed")
    print(f"garbage collector: {incremental_collected.total:.2f} s of the incremental total "
          f"({incremental_collected.full}), {full_collected.total:.2f} s of the full pass ({full_collected.full})")
    return Compared(incremental_total, full_total, agree, planned)


@dataclass(frozen=True)
class Recorded:
    """Seconds to record a run's plan in the ledger, as a run does after its rules."""

    findings: float
    """Its findings: those new since the run before, and closing those gone."""
    rest: float
    """Its skips and planned actions (a dry run's, kept as its findings are), and the commit of all three."""
    rows: int
    """Rows it added to the ledger's findings and actions."""


def record_in_ledger(engine: Engine, runs: list[tuple[datetime, Gathered, bool]], rules: list[str]) -> list[Recorded]:
    """Record each ``(clock, planned, say how)`` in turn as a dry run of every rule in ``rules``; the seconds of each.

    A run that does not say how its rules made the plan compares all it carries with the ledger's open rows, as
    every run did before rules' passes had ids. The runs are deleted afterwards, their rows with them (the
    schema cascades): a kept org would otherwise grow by a run's worth of ledger (gigabytes at full size) on
    every rerun of the bench.
    """
    sessions = session_factory(engine)
    ledger = Ledger(sessions)
    run_ids, seconds = [], []
    for now, planned, say_how in runs:
        run_ids.append(run_id := ledger.start_run("all", CONNECTION, dry_run=True, now=now))
        passes = planned.passes if say_how else None
        plans = _NotingWalks(planned.by_rule)
        started = time.perf_counter()
        ledger.record_dry_run(run_id, plans, rules, passes)
        findings = plans.walked_at[1] - started
        rest = time.perf_counter() - started - findings
        with sessions() as session:
            rows = sum(session.scalar(select(func.count()).select_from(model).where(model.run_id == run_id)) or 0
                       for model in (FindingRow, ActionRow))
        seconds.append(Recorded(findings, rest, rows))
    with sessions.begin() as session:
        session.execute(delete(RunRow).where(RunRow.id.in_(run_ids)))
    return seconds


class _NotingWalks(dict[str, RuleResult]):
    """A plan by rule noting each time the ledger starts to walk it (``items()``): for its findings, then its skips,
    then its actions; when the second walk starts, the ledger has recorded the findings."""

    def __init__(self, plans: dict[str, RuleResult]) -> None:
        super().__init__(plans)
        self.walked_at: list[float] = []

    def items(self) -> ItemsView[str, RuleResult]:
        self.walked_at.append(time.perf_counter())
        return super().items()


def claims_lookup(engine: Engine, planned: Gathered) -> tuple[float, int]:
    """Seconds to look up the claim of every planned key and tell each action what an apply would do with it, as a
    dry run does; and how many claims the ledger holds (the lookup reads them all when they are no more than the
    keys)."""
    started = time.perf_counter()
    held = Ledger(session_factory(engine)).held_claims(CONNECTION, [a.key for a in planned.plan.actions])
    dry_run_outcomes(planned.plan.actions, held)
    seconds = time.perf_counter() - started
    with session_factory(engine)() as session:
        return seconds, session.scalar(select(func.count()).select_from(ClaimRow)) or 0


@dataclass(frozen=True)
class Applying:
    """The ledger's share of an applying scheduled run, after a run applied every action the full pass planned."""

    seconds: float
    """Looking up its keys' claims, recording its findings, skips and plan, claiming what it has to and reading
    back what became of it, as a run does now."""
    rows: int
    """Action rows of its own it recorded (to claim and mark)."""
    first_lookup: float
    """Looking up the claims of the run before it, the first of a restarted worker: every key asked of the ledger
    (a long-lived worker then asks only about keys it has not seen applied)."""
    old_seconds: float
    """Its actions as a run recorded them before: every action a row of its own, claimed (the applied ones refused
    a batch at a time) and read back; its findings and skips left out (they are recorded alike both ways)."""
    old_rows: int


def apply_in_ledger(engine: Engine, first: Gathered, planned: Gathered, rules: list[str], now: datetime) -> Applying:
    """Record ``first`` at ``now`` as an applying run that applied all it planned, and look up its keys' claims as
    the worker's next run did; then ``planned`` after ``LATER`` as an applying run does now, and again after
    ``2 * LATER`` as runs did before; the runs are deleted afterwards.

    What the CRM would be sent is left out: in a steady state it is the few actions no run applied yet.
    """
    sessions = session_factory(engine)
    ledger = Ledger(sessions)
    plan = first.plan
    setup = ledger.start_run("all", CONNECTION, dry_run=False, now=now)
    ids = ledger.record_applying_run(setup, first.by_rule, plan.actions, rules, first.passes)
    _applied_by(sessions, setup, ids, plan.actions, now)
    started = time.perf_counter()
    ledger.held_claims(CONNECTION, [a.key for a in plan.actions])  # the run before, in the same worker
    first_lookup = time.perf_counter() - started
    plan = planned.plan
    keys = [a.key for a in plan.actions]
    current = ledger.start_run("all", CONNECTION, dry_run=False, now=now + LATER)
    started = time.perf_counter()
    held = ledger.held_claims(CONNECTION, keys)
    to_claim = [a for a in plan.actions
                if (claim := held.get(a.key)) is None or not claim.applied]
    ids = ledger.record_applying_run(current, planned.by_rule, to_claim, rules, planned.passes)
    ledger.claim_all(ids)
    ledger.action_statuses(ids)
    seconds = time.perf_counter() - started
    before = ledger.start_run("all", CONNECTION, dry_run=False, now=now + 2 * LATER)
    ledger.record_findings(before, plan.findings, rules, planned.passes)
    ledger.record_skips(before, plan.skips)
    started = time.perf_counter()
    old_ids = ledger.record_actions(before, plan.actions)
    ledger.held_claims(CONNECTION, keys)
    ledger.claim_all(old_ids)
    ledger.action_statuses(old_ids)
    old_seconds = time.perf_counter() - started
    with sessions.begin() as session:
        session.execute(delete(RunRow).where(RunRow.id.in_([setup, current, before])))
    return Applying(seconds, len(ids), first_lookup, old_seconds, len(old_ids))


def _applied_by(sessions: sessionmaker[Session], run_id: str, ids: list[int], actions: list[Action],
                at: datetime) -> None:
    """Claims of ``run_id``'s actions, applied: what a run that sent them all to the CRM leaves (written straight
    in, as claiming and marking them one batch at a time would take minutes at full size)."""
    first: dict[str, int] = {}
    for action_id, action in zip(ids, actions, strict=True):
        first.setdefault(claim_key(CONNECTION, action.key), action_id)
    with sessions.begin() as session:
        stamp = stored_datetime(session.get_bind().dialect.name)(at)
        append_rows(session, ClaimRow.__table__, ("key", "action_id", "status", "run_id", "updated_at"),
                    [(key, action_id, ActionStatus.APPLIED.value, run_id, stamp) for key, action_id in first.items()])
        session.execute(update(ActionRow).where(ActionRow.run_id == run_id, ActionRow.opened.is_(None))
                        .values(status=ActionStatus.APPLIED.value))


class _Unchanged:
    """A CRM in which nothing changed since the mirror's last sync: the same owners, no record changed."""

    name = "bench"

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.usage = ApiUsage()
        with sessions() as session:
            self._owners = list(mirror.owners(session, CONNECTION).values())

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        return iter(())

    def owners(self) -> list[Owner]:
        return self._owners


@dataclass
class PhaseTimes:
    """A run's progress (``domain.progress.Progress``) heard as the seconds each of its phases took."""

    seconds: dict[str, float] = field(default_factory=dict)

    def phase(self, name: str, *, total: int | None = None, unit: str = "records") -> _TimedPhase:
        return _TimedPhase(self.seconds, name)


class _TimedPhase:
    def __init__(self, seconds: dict[str, float], name: str) -> None:
        self._seconds, self._name, self._started = seconds, name, 0.0

    def update(self, done: int, **counts: int) -> None:
        pass

    def __enter__(self) -> _TimedPhase:
        self._started = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._seconds[self._name] = self._seconds.get(self._name, 0.0) + time.perf_counter() - self._started


@dataclass(frozen=True)
class WorkerRun:
    """A worker's scheduled dry run after some of the org changed, end to end (``jobs.pipeline.run_job``)."""

    seconds: float
    """From the run's start to its end, after the changes were synced: every step the worker's run takes."""
    rules: float
    """Its rules, with the ledger's history they read."""
    recording: float
    settled: float
    """What the worker does while idle before it (``store.collector.settle``, ``store.db.checkpoint``), not counted in
    the run."""
    first: float
    """The worker's first run after it started, before it (not counted): it reads the rules' judgments back and
    builds what the process keeps between runs (leads already in the system's index of contacts and accounts)."""
    actions: int
    findings: int
    collector: CollectorTime

    @property
    def rest(self) -> float:
        """Looking up the claims, counting the actions' outcomes, the plan's limits, the run's summary and its end."""
        return self.seconds - self.rules - self.recording


def worker_run(engine: Engine, policy: Policy, size: Size, at: datetime, share: float) -> list[WorkerRun]:
    """The worker's next ``WORKER_RUNS`` runs from ``at + LATER``, each after another ``share`` of the org changed, as
    ``warden worker`` makes them, ``LATER`` apart.

    The worker's first run after it started, at ``at`` after the same share changed, records the rules' judgments in
    the ledger (the bench's runs before were deleted) and builds what the process keeps between runs; after each run
    the worker settles and copies SQLite's log into the database while idle, as after every pass. The runs measured
    are the next ones, as every later run of a long-lived worker is: one run alone tells little, as consecutive runs
    of the same org differ by a second and more on PostgreSQL. The runs are deleted afterwards.
    """
    sessions = session_factory(engine)
    crm = _Unchanged(sessions)
    with capture_logs():  # the runs' log lines, kept from the bench's output
        return _worker_runs(sessions, crm, engine, policy, size, at, share)


def _worker_runs(sessions: sessionmaker[Session], crm: _Unchanged, engine: Engine, policy: Policy, size: Size,
                 at: datetime, share: float) -> list[WorkerRun]:
    change_share(engine, size, at, share)
    started = time.perf_counter()
    before = run_job("all", connector=crm, connection=CONNECTION, policy=policy, sessions=sessions, now=at,
                     apply=False, outcomes=False)
    first = time.perf_counter() - started
    run_ids, measured = [before.run_id], []
    for step in range(1, WORKER_RUNS + 1):
        synced = datetime.now(UTC)
        change_share(engine, size, at + step * LATER, share)
        started = time.perf_counter()
        settle()
        checkpoint(engine)
        settled = time.perf_counter() - started
        times = PhaseTimes()
        with collector_time() as collected:
            started = time.perf_counter()
            run = run_job("all", connector=crm, connection=CONNECTION, policy=policy, sessions=sessions,
                          now=at + step * LATER, apply=False, fresh_since=synced, outcomes=False, progress=times)
            seconds = time.perf_counter() - started
        run_ids.append(run.run_id)
        measured.append(WorkerRun(seconds, times.seconds.get("rules", 0.0), times.seconds.get("record plan", 0.0),
                                  settled, first, sum((run.tally or {}).values()), len(run.findings), collected))
    with sessions.begin() as session:
        session.execute(delete(RunRow).where(RunRow.id.in_(run_ids)))
    return measured
