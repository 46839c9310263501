"""Benchmark: every rule family over a generated org in the mirror, against the naive per-record re-scan.

    .venv/bin/python -m bench.rules [--scale 1.0] [--database sqlite|postgresql] [--database-url URL] [--naive-sample 2]

Scale 1.0 is the issue's org: 1,000,000 opportunities, 300,000 accounts, 3,000,000 tasks (and 100,000
leads). The org is written straight into the mirror in a child process, so the peak memory printed
for the rules is the evaluating process's own. The naive way is what a rule would cost if it walked
every task for each record it judges (as a per-record ``last call`` lookup would); it is timed on a
small sample of records and extrapolated, and labelled as such.

Then the scheduled run after 1% of the org changed (``bench.rules_incremental``): each rule judges
only what changed and what its clock brought due, beside a full pass over the same mirror, and the
two must agree. ``--changed 0`` skips it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from bench.collector_time import collector_time
from bench.databases import KINDS, database
from bench.rules_incremental import (
    LATER,
    apply_in_ledger,
    change_share,
    claims_lookup,
    compare,
    first_pass,
    record_in_ledger,
    worker_run,
)
from bench.rules_org import CONNECTION, Size, build
from config.policy import (
    CadenceRule,
    DedupeRule,
    GateRule,
    OverdueRule,
    Policy,
    SlaRule,
    StaleDealRule,
    StaleLeadRule,
)
from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from domain.org import History
from domain.records import ObjectType, Task, TaskStatus, TaskType
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import rules_for
from jobs.rule_passes import OBJECTS_BETWEEN_COLLECTIONS
from store import statistics
from store.collector import collections_every
from store.db import make_engine, migrate
from store.mirror import MirrorOrg
from store.models import MIRROR_ROWS

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
GOAL_SECONDS = 60.0
INCREMENTAL_GOAL_SECONDS = 5.0
_JUDGES: dict[type, ObjectType] = {StaleDealRule: ObjectType.OPPORTUNITY, StaleLeadRule: ObjectType.LEAD,
                                   CadenceRule: ObjectType.ACCOUNT, OverdueRule: ObjectType.TASK,
                                   DedupeRule: ObjectType.ACCOUNT}


def _judged(rule: object) -> ObjectType | None:
    """The object type whose records a rule judges (its throughput is counted in those), if known here."""
    if isinstance(rule, SlaRule | GateRule):
        return ObjectType(rule.object)
    return _JUDGES.get(type(rule))


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _build(url: str, size: Size) -> None:
    engine = make_engine(url)
    migrate(engine)
    build(engine, load_policy(PACKAGED_POLICY), size, NOW)
    engine.dispose()


def _populated(engine: Engine) -> bool:
    """Whether ``engine`` already holds a benchmark org (a kept ``--database-url`` is reused)."""
    if not inspect(engine).has_table(MIRROR_ROWS[ObjectType.OPPORTUNITY].__tablename__):
        return False
    with Session(engine) as session:
        return _count(session, ObjectType.OPPORTUNITY) > 0


def _count(session: Session, obj: ObjectType) -> int:
    row = MIRROR_ROWS[obj]
    return session.scalar(select(func.count()).select_from(row).where(row.connection == CONNECTION)) or 0


def run_rules(session: Session, policy: Policy, scale: float | None = None) -> float:
    """Evaluate every enabled rule once over the mirror; print each rule's throughput; return the total time."""
    org = MirrorOrg(session, CONNECTION)
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, org.owners(), History())
    counts = {obj: _count(session, obj) for obj in ObjectType}
    total = 0.0
    cpu = time.process_time()
    print(f"{'rule':24} {'judges':>12} {'records':>11} {'seconds':>8} {'records/s':>12} {'findings':>9}")
    with collector_time() as collected, collections_every(OBJECTS_BETWEEN_COLLECTIONS):  # as rule_passes does
        for rule, family in rules_for(policy, "all"):
            started = time.perf_counter()
            result = family.evaluate(rule, ctx, org)
            elapsed = time.perf_counter() - started
            total += elapsed
            judged = _judged(rule)
            n = counts[judged] if judged else 0
            print(f"{rule.id:24} {judged or '?':>12} {n:>11,} {elapsed:>8.2f} {n / elapsed:>12,.0f} "
                  f"{len(result.findings):>9,}")
    print(f"{'all rules':24} {'':>12} {'':>11} {total:>8.2f}   {_against(total, GOAL_SECONDS, scale)} "
          f"(CPU of this process {time.process_time() - cpu:.1f} s, garbage collector {collected.total:.2f} s: "
          f"{collected.full})")
    return total


def _against(seconds: float, goal: float, scale: float | None) -> str:
    """The goal, set for the full-size org, judged on ``seconds`` measured at ``scale`` (linear in the org's size)."""
    if scale is None or scale >= 1:
        return f"goal < {goal:.0f} s: {'met' if seconds < goal else 'NOT met'}"
    full = seconds / scale
    return (f"about {full:,.0f} s at full size (linear from scale {scale:g}): goal < {goal:.0f} s "
            f"{'met' if full < goal else 'NOT met'}")


def run_naive(session: Session, sample: int) -> None:
    """Time a per-record re-scan of every task on ``sample`` accounts and extrapolate to the whole org."""
    org = MirrorOrg(session, CONNECTION)
    accounts = [a.id for a, _ in zip(org.records(ObjectType.ACCOUNT), range(sample), strict=False)]
    started = time.perf_counter()
    for account_id in accounts:
        latest = None
        for task in org.records(ObjectType.TASK):
            if (isinstance(task, Task) and task.what_id == account_id and task.task_type is TaskType.CALL
                    and task.status is TaskStatus.COMPLETED and task.completed_at
                    and (latest is None or task.completed_at > latest)):
                latest = task.completed_at
    per_record = (time.perf_counter() - started) / max(1, len(accounts))
    print(f"naive (EXTRAPOLATED from {len(accounts)} measured re-scans of all tasks, {per_record:.2f} s each):")
    for obj in (ObjectType.ACCOUNT, ObjectType.OPPORTUNITY):
        n = _count(session, obj)
        print(f"  one rule judging {n:,} {obj} records: {n * per_record / 3600:,.1f} hours, "
              f"{1 / per_record:,.2f} records/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M opportunities, 300k accounts, 3M tasks")
    parser.add_argument("--database-url", help="mirror database, reused if it holds an org (default: a temp SQLite)")
    parser.add_argument("--database", choices=KINDS, default="sqlite",
                        help="a temporary mirror on SQLite or a fresh PostgreSQL database (WARDEN_TEST_POSTGRES_URL)")
    parser.add_argument("--naive-sample", type=int, default=2, help="records timed for the naive re-scan (0: skip)")
    parser.add_argument("--changed", type=float, default=0.01, help="share of the org changed before the "
                        "incremental run (0: skip it)")
    args = parser.parse_args(argv)
    size = Size.scaled(args.scale)
    with tempfile.TemporaryDirectory() as tmp, database(args.database, Path(tmp), "rules_bench.db") as fresh:
        url = args.database_url or fresh
        engine = make_engine(url)
        scale: float | None = args.scale
        if not _populated(engine):
            print(f"building {size} in {url.split('@')[-1]} ...", flush=True)
            started = time.perf_counter()
            child = multiprocessing.get_context("fork").Process(target=_build, args=(url, size))
            child.start()
            child.join()
            if child.exitcode != 0:
                print(f"building the org failed (exit code {child.exitcode})", file=sys.stderr)
                return 1
            builder_peak = _peak_mb(resource.RUSAGE_CHILDREN)
            print(f"built in {time.perf_counter() - started:.1f} s (builder peak {builder_peak:,.0f} MB)")
        else:
            print(f"reusing the org already in {url.split('@')[-1]} (--scale ignored)")
            migrate(engine)  # a kept org built before the latest migration gets its indexes
            scale = None
        policy = load_policy(PACKAGED_POLICY)
        started = time.perf_counter()
        if analyzed := statistics.refresh(sessionmaker(engine)):  # as a run does after a sync (jobs.pipeline)
            print(f"planner statistics refreshed for {', '.join(analyzed)} in {time.perf_counter() - started:.1f} s")
        with Session(engine) as session:
            run_rules(session, policy, scale)
            print(f"peak memory of the evaluating process: {_peak_mb(resource.RUSAGE_SELF):,.0f} MB")
            if args.naive_sample > 0:
                run_naive(session, args.naive_sample)
        if args.changed > 0:
            _incremental(engine, policy, size, args.changed, scale)
        engine.dispose()
    return 0


def _incremental(engine: Engine, policy: Policy, size: Size, share: float, scale: float | None) -> None:
    seconds, collected, first_planned = first_pass(engine, policy, NOW)
    print(f"full pass keeping each rule's judgments: {seconds:.2f} s (garbage collector {collected.total:.2f} s: "
          f"{collected.full})")
    later = NOW + LATER
    changed = change_share(engine, size, later, share)
    print(f"{changed:,} records changed ({share:.0%} of each type) and synced; the clock moved on {LATER}")
    started = time.perf_counter()
    if analyzed := statistics.refresh(sessionmaker(engine)):  # as the run after a sync does, before its rules
        print(f"planner statistics refreshed for {', '.join(analyzed)} in {time.perf_counter() - started:.1f} s "
              "(not counted below)")
    compared = compare(engine, policy, later)
    goal = _against(compared.incremental_seconds, INCREMENTAL_GOAL_SECONDS, scale)
    print(f"{'scheduled run, all rules':24} {compared.incremental_seconds:>14.2f} {'':>9} "
          f"{compared.full_seconds:>12.2f}   incremental: {goal}; "
          f"same findings as the full pass: {'yes' if compared.agree else 'NO'}")
    planned = compared.planned
    plan = planned.plan
    rules = [rule.id for rule, _ in rules_for(policy, "all")]
    first, scheduled, comparing = record_in_ledger(
        engine, [(NOW, first_planned, True), (later, planned, True), (later + LATER, planned, False)], rules)
    print(f"then recording it in the ledger as a dry run, after the full pass's (not counted above): its "
          f"{len(plan.findings):,} findings {scheduled.findings:.2f} s, its {len(plan.skips):,} skips and "
          f"{len(plan.actions):,} actions {scheduled.rest:.2f} s, {scheduled.rows:,} rows added (the full pass's, "
          f"all new: {first.findings:.2f} s and {first.rest:.2f} s, {first.rows:,} rows)")
    recording = scheduled.findings + scheduled.rest
    print(f"recording only the records judged differently: {recording:.2f} s; the same plan recorded again comparing "
          f"all it carries (as every run did before; it writes nothing): {comparing.findings + comparing.rest:.2f} s, "
          f"{(comparing.findings + comparing.rest) / max(recording, 1e-9):.1f}x")
    claims, held = claims_lookup(engine, planned)
    total = compared.incremental_seconds + recording + claims
    print(f"the scheduled run as a dry run makes it, after its sync: rules {compared.incremental_seconds:.2f} s + "
          f"recording {recording:.2f} s + looking up the claims of its {len({a.key for a in plan.actions}):,} keys "
          f"among the ledger's {held:,} and telling each action's outcome {claims:.2f} s = {total:.2f} s: "
          f"{_against(total, INCREMENTAL_GOAL_SECONDS, scale)}")
    applying = apply_in_ledger(engine, first_planned, planned, rules, later + 2 * LATER)
    print(f"the same run applying, after a run applied all the full pass planned: its ledger's share (claims looked "
          f"up, findings, skips and plan recorded, {applying.rows:,} actions of its own claimed and read back) "
          f"{applying.seconds:.2f} s; rules + ledger = {compared.incremental_seconds + applying.seconds:.2f} s: "
          f"{_against(compared.incremental_seconds + applying.seconds, INCREMENTAL_GOAL_SECONDS, scale)}")
    print(f"the run before it, the first after the worker started, looked up all its keys' claims: "
          f"{applying.first_lookup:.2f} s (a long-lived worker then asks only about keys it has not seen applied)")
    print(f"its actions as an applying run recorded them before (each of the {applying.old_rows:,} a row of its own, "
          f"claimed, the applied ones refused): {applying.old_seconds:.2f} s for the actions alone, "
          f"{applying.old_seconds / max(applying.seconds, 1e-9):.1f}x the whole ledger share now")
    runs = worker_run(engine, policy, size, later + 4 * LATER, share)
    run = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    print(f"the scheduled run as the worker makes it, end to end (jobs.pipeline.run_job, a dry run of "
          f"{run.actions:,} actions and {run.findings:,} findings, after another {share:.0%} changed and was synced, "
          f"the worker having settled while idle in {run.settled:.2f} s, its first run since it started "
          f"{run.first:.2f} s after the same share changed), the median of {len(runs)} such runs one after another: "
          f"rules with the ledger's history {run.rules:.2f} s + recording {run.recording:.2f} s + claims, outcomes "
          f"counted, limits and summary {run.rest:.2f} s = {run.seconds:.2f} s: "
          f"{_against(run.seconds, INCREMENTAL_GOAL_SECONDS, scale)} (garbage collector {run.collector.total:.2f} s: "
          f"{run.collector.full}); each run: {', '.join(f'{r.seconds:.2f}' for r in runs)} s")


if __name__ == "__main__":
    raise SystemExit(main())
