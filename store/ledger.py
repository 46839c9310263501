"""The ledger: what each run found, planned and did, so apply is exactly-once and undo is possible.

Every write goes through the database before or after the CRM call it records: actions are
recorded as planned, claimed (``claims``) before the connector is called, then marked applied or
failed with the CRM's answer. A write that records a CRM answer is retried when the database
refuses it (disk full, connection lost, database locked) before the caller does anything else;
if it still fails, the claim stays ``planned`` and the next run settles it from the CRM
(``jobs.apply.settle``).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, islice
from typing import Any, Generic, Protocol, TypeVar

import structlog
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from domain.connector import Snapshot
from domain.plan import Action, ActionStatus, Finding, RulePass, RuleResult, Skip, by_rule
from domain.records import ObjectType
from domain.secrets import mask_url_secrets
from store import claims, statistics
from store.aggregates import id_chunks, one_of
from store.claims import Claim, Held
from store.db import one_at_a_time
from store.ingest import append_rows, driver_one_of, driver_rows, stored_datetime
from store.json_text import json_text
from store.models import (
    OPEN_ROWS,
    ActionRow,
    ClaimRow,
    FindingRow,
    IntervalRow,
    RecordedPassRow,
    RunRow,
    SkipRow,
    SnapshotRow,
)
from store.recorded import OWN_ACTIONS
from store.run_report import RunInfo, RunReport, load_latest_runs, load_run_report

BATCH = 1000
APPEND_BATCH = 20_000
"""Rows of findings, skips or actions handed to the driver at once."""
_FINDING_COLUMNS = ("rule", "object", "record_id", "owner_id", "reason", "evidence")
_PLAN_COLUMNS = ("rule", "key", "kind", "object", "record_id", "reason", "payload", "requires", "status", "created_at",
                 "updated_at")
_SKIP_COLUMNS = ("rule", "object", "record_id", "reason")
_ACTION_COLUMNS = ("run_id", "key", "kind", "object", "record_id", "rule", "reason", "payload", "status",
                   "created_at", "updated_at", "requires")
RUN_END_STATUSES = ("finished", "failed", "stopped")
UNSETTLEABLE_LEASE = timedelta(minutes=15)
"""The lease of claims on changes nobody can read back (emails): a dead sender's claim lapses after it."""
WRITE_ATTEMPTS = 5
"""Tries of a write that records a CRM answer, about 0.75 s apart in all, before the run gives up."""
T = TypeVar("T")
log = structlog.get_logger(__name__)


class _HasRule(Protocol):
    @property
    def rule(self) -> str: ...

    @property
    def record_id(self) -> str: ...


Ruled = TypeVar("Ruled", bound=_HasRule)
"""A finding, a planned action or a skip: what a run records as intervals."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The CRM's answer for one claimed action, as the ledger records it."""

    action_id: int
    status: ActionStatus
    error: str | None = None
    result_id: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


def _batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Ledger:
    """The ledger of one database, opened through a session factory.

    ``claim_lease``: how long a claim of a run still marked running holds against other runs; None
    (CRM changes) holds until the run is closed and its claims settled (see ``store.claims``).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = utc_now,
        claim_lease: timedelta | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._claim_lease = claim_lease
        self._sleep = sleep or time.sleep

    def start_run(self, job: str, connection: str, dry_run: bool, now: datetime) -> str:
        """Open a run (status ``running``) and return its id."""
        run_id = str(uuid.uuid4())
        with self._sessions.begin() as session:
            session.add(RunRow(
                id=run_id, job=job, connection=connection, dry_run=dry_run, now=now,
                started_at=self._clock(), status="running", summary={},
            ))
        return run_id

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any], error: str | None = None) -> None:
        if status not in RUN_END_STATUSES:
            raise ValueError(f"run {run_id} cannot finish as {status!r}: use one of {', '.join(RUN_END_STATUSES)}")
        with self._sessions.begin() as session:
            run = session.get_one(RunRow, run_id)
            run.status, run.summary, run.error, run.finished_at = status, summary, _masked(error), self._clock()

    def record_findings(self, run_id: str, findings: Iterable[Finding], rules: Iterable[str] = (),
                        passes: Mapping[str, RulePass] | None = None) -> None:
        """Record what a run found for ``rules`` (and for every rule a finding names): its place in the ledger.

        The ledger keeps a finding as one row while it stays the same (``FindingRow``): this writes the
        findings that are new since the latest run of their rule and closes those it no longer has, so
        a scheduled run that carries hundreds of thousands forward writes only what changed. ``passes``:
        how each rule's findings came about; a rule whose pass carried forward the one the ledger recorded
        last is recorded from the records whose judgment changed alone, its other findings unread.
        """
        with self._sessions.begin() as session:
            _record_findings(session, run_id, by_rule(RuleResult(findings=list(findings))), rules, passes or {})

    def record_dry_run(self, run_id: str, plans: Mapping[str, RuleResult], rules: Iterable[str] = (),
                       passes: Mapping[str, RulePass] | None = None) -> None:
        """Record a dry run's ``plans`` (each rule's findings, skips and actions) for ``rules``, in one transaction.

        Findings are recorded as :meth:`record_findings` does. The plan is kept as findings are: what is new since the
        last run of its rules, what is gone; runs share its rows, which are never claimed. In one transaction the
        findings and the plan take one place in the ledger's order, whatever another run of the same rules records
        meanwhile: recorded apart, a run that landed between them left the plan of one of the two wrong. A rule whose
        pass carried forward the one recorded last has only its changed records read (``passes``): its plan, a
        million items at full size, is not walked.
        """
        self._record_run(run_id, plans, (), list(rules), passes or {})

    def record_applying_run(self, run_id: str, plans: Mapping[str, RuleResult], to_claim: Iterable[Action],
                            rules: Iterable[str] = (), passes: Mapping[str, RulePass] | None = None) -> list[int]:
        """Record an applying run as a dry run, with a row of its own, to claim and mark, for each of ``to_claim``.

        Returns the ids of those rows, in the order given.

        ``to_claim``: the actions no run has applied yet. A scheduled run carries forward hundreds of thousands of
        actions that earlier runs applied: they stay in the shared plan, not recorded and refused again every run.
        """
        return self._record_run(run_id, plans, to_claim, list(rules), passes or {})

    def _record_run(self, run_id: str, plans: Mapping[str, RuleResult], to_claim: Iterable[Action], rules: list[str],
                    passes: Mapping[str, RulePass]) -> list[int]:
        with self._sessions.begin() as session:
            _record_findings(session, run_id, plans, rules, passes)
            _record_skips(session, run_id, plans, rules, passes)
            self._record_plan(session, run_id, plans, rules, passes)
            return self._record_own_actions(session, run_id, to_claim)

    def record_skips(self, run_id: str, skips: Iterable[Skip]) -> None:
        """Store skips of the run's own (a revert's), through the driver; a run's rules keep theirs as intervals."""
        with self._sessions.begin() as session:
            _append_all(session, SkipRow, ("run_id", *_SKIP_COLUMNS), _skip_rows(run_id, skips))

    def _record_plan(self, session: Session, run_id: str, plans: Mapping[str, RuleResult], rules: Iterable[str],
                     passes: Mapping[str, RulePass]) -> None:
        at = stored_datetime(session.get_bind().dialect.name)(self._clock())
        _record_changes(session, ActionRow, run_id, rules, passes, _Kept(
            "plan", _PLAN_COLUMNS, lambda result: result.actions, _action_says,
            lambda a: (a.rule, a.key, a.kind.value, a.object.value, a.record_id, a.reason, json_text(a.payload),
                       a.requires, ActionStatus.PLANNED.value, at, at)), plans)

    def record_actions(self, run_id: str, actions: Iterable[Action]) -> list[int]:
        """Record actions of the run's own (status ``planned``), to claim and mark; their ids in the order given."""
        with self._sessions.begin() as session:
            return self._record_own_actions(session, run_id, actions)

    def _record_own_actions(self, session: Session, run_id: str, actions: Iterable[Action]) -> list[int]:
        """Written through the driver as findings are, the ids read back as the run's newest rows.

        SQLAlchemy's insert returning each id took minutes for a full plan on PostgreSQL. Ids grow in the order rows
        are written (the rowid on SQLite, the id sequence on PostgreSQL, whatever other runs write meanwhile).
        """
        at = stored_datetime(session.get_bind().dialect.name)(self._clock())
        rows = ((run_id, a.key, a.kind.value, a.object.value, a.record_id, a.rule, a.reason, json_text(a.payload),
                 ActionStatus.PLANNED.value, at, at, a.requires) for a in actions)
        written = _append_all(session, ActionRow, _ACTION_COLUMNS, rows)
        if not written:
            return []
        newest = (select(ActionRow.id).where(ActionRow.run_id == run_id, OWN_ACTIONS)
                  .order_by(ActionRow.id.desc()).limit(written))
        return list(reversed(session.scalars(newest).all()))

    def claim(self, action_id: int) -> Claim:
        """The exactly-once gate: call before the CRM; proceed only if the claim says so."""
        return claims.claim(self._sessions, action_id, self._clock(), self._claim_lease)

    def claim_all(self, action_ids: Collection[int]) -> dict[int, Claim]:
        """:meth:`claim` for many actions, in a few transactions instead of one each; by action id."""
        return claims.claim_all(self._sessions, list(action_ids), self._clock(), self._claim_lease)

    def held_claims(self, connection: str, keys: Collection[str]) -> dict[str, Held]:
        """How each key's claim stands in ``connection`` (absent: nobody claimed it): what a dry run reports."""
        return claims.held(self._sessions, connection, keys)

    def applied_prerequisites(self, action_ids: Collection[int]) -> set[str]:
        """The prerequisite keys (``requires``) of these actions that a run has applied, in their connections."""
        prerequisite = aliased(ClaimRow)
        key = claims.claim_key_of(RunRow.connection, ActionRow.requires)
        found: set[str] = set()
        with self._sessions() as session:
            for batch in _batches(action_ids):
                stmt = (select(ActionRow.requires).join(RunRow, RunRow.id == ActionRow.run_id)
                        .join(prerequisite, prerequisite.key == key)
                        .where(ActionRow.id.in_(batch), prerequisite.status == ActionStatus.APPLIED.value))
                found.update(key for key in session.scalars(stmt) if key is not None)
        return found

    def mark_applied(self, action_id: int, result_id: str | None = None) -> None:
        self.record_answers([Answer(action_id, ActionStatus.APPLIED, result_id=result_id)])

    def mark_all_applied(self, action_ids: Collection[int]) -> None:
        """:meth:`mark_applied` (without a CRM record id) for many claimed actions, in one transaction."""
        self.record_answers([Answer(i, ActionStatus.APPLIED) for i in action_ids])

    def mark_failed(self, action_id: int, error: str) -> None:
        self.record_answers([Answer(action_id, ActionStatus.FAILED, error=error)])

    def record_answers(self, answers: Sequence[Answer]) -> None:
        """Record the CRM's answers on the actions and on the claims they hold, in one transaction.

        Retried while the database refuses the write; raises its error after ``WRITE_ATTEMPTS``.
        """
        if answers:
            self._retried(lambda: self._record_answers(answers))

    def _record_answers(self, answers: Sequence[Answer]) -> None:
        now = self._clock()
        to_claims = (update(ClaimRow).where(ClaimRow.action_id == bindparam("held_by"))
                     .values(status=bindparam("answer"), updated_at=now))
        with self._sessions.begin() as session:
            for batch in _batches(answers):
                session.execute(update(ActionRow), [
                    {"id": a.action_id, "status": a.status.value, "error": _masked(a.error), "result_id": a.result_id,
                     "updated_at": now} for a in batch])
                session.connection().execute(to_claims, [
                    {"held_by": a.action_id, "answer": a.status.value} for a in batch])

    def mark_skipped(self, action_id: int, reason: str) -> None:
        """An action not attempted (e.g. its prerequisite failed); its key stays free for a later run."""
        with self._sessions.begin() as session:
            action = session.get_one(ActionRow, action_id)
            action.status, action.error, action.updated_at = ActionStatus.SKIPPED.value, reason, self._clock()

    def skip_all(self, skips: Sequence[tuple[int, str]]) -> None:
        """:meth:`mark_skipped` for many ``(action id, reason)`` pairs, in one transaction."""
        now = self._clock()
        with self._sessions.begin() as session:
            for batch in _batches(skips):
                session.execute(update(ActionRow), [
                    {"id": i, "status": ActionStatus.SKIPPED.value, "error": reason, "updated_at": now}
                    for i, reason in batch])

    def action_statuses(self, action_ids: Collection[int]) -> dict[int, tuple[str, str | None]]:
        """Status and error of each action, by id."""
        statuses: dict[int, tuple[str, str | None]] = {}
        with self._sessions() as session:
            for batch in _batches(action_ids):
                stmt = select(ActionRow.id, ActionRow.status, ActionRow.error).where(ActionRow.id.in_(batch))
                statuses.update({i: (s, e) for i, s, e in session.execute(stmt)})
        return statuses

    def save_snapshots(self, action_id: int, snapshots: Iterable[Snapshot]) -> None:
        """Keep what the merge action ``action_id`` will change, before it happens, so ``undo`` can put it back."""
        now = self._clock()
        with self._sessions() as session:
            action = session.get_one(ActionRow, action_id)
            run_id, key = action.run_id, action.key
        rows = [
            {"run_id": run_id, "action_key": key, "object": s.object_type.value, "record_id": s.record_id,
             "data": s.data, "children": s.children, "created_at": now}
            for s in snapshots
        ]
        self._retried(lambda: self._insert_all(SnapshotRow, rows))

    def saved_snapshots(self, action_id: int) -> list[Snapshot]:
        """The snapshots saved for the merge action ``action_id`` before its first write (master first), if any."""
        with self._sessions() as session:
            action = session.get_one(ActionRow, action_id)
            stmt = (select(SnapshotRow).where(SnapshotRow.run_id == action.run_id, SnapshotRow.action_key == action.key)
                    .order_by(SnapshotRow.id))
            return [Snapshot(ObjectType(s.object), s.record_id, s.data, s.children) for s in session.scalars(stmt)]

    def save_after_merge(self, action_id: int, master: dict[str, Any]) -> None:
        """Keep the master's normalized fields just after the merge ``action_id``, on its master's snapshot."""
        def write() -> None:
            with self._sessions.begin() as session:
                action = session.get_one(ActionRow, action_id)
                session.execute(update(SnapshotRow).where(
                    SnapshotRow.run_id == action.run_id, SnapshotRow.action_key == action.key,
                    SnapshotRow.record_id == action.record_id).values(after_merge=master))

        self._retried(write)

    def run_report(self, run_id: str) -> RunReport:
        with self._sessions() as session:
            return load_run_report(session, run_id)

    def latest_runs(self, limit: int = 20) -> list[RunInfo]:
        with self._sessions() as session:
            return load_latest_runs(session, limit)

    def _retried(self, write: Callable[[], None]) -> None:
        Retrying(
            stop=stop_after_attempt(WRITE_ATTEMPTS),
            wait=wait_exponential(multiplier=0.05, max=1.0),
            retry=retry_if_exception_type((OperationalError, InterfaceError)),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )(write)

    def _insert_all(self, model: type[Any], rows: Iterable[dict[str, Any]]) -> None:
        with self._sessions.begin() as session:
            for batch in _batches(rows):
                session.execute(insert(model), batch)


def _append_all(session: Session, model: type[Any], names: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Append driver-ready tuples to ``model``'s table in batches (``COPY`` on PostgreSQL); how many there were."""
    written = 0
    for batch in _batches(rows, APPEND_BATCH):
        append_rows(session, model.__table__, names, batch)
        written += len(batch)
    return written


@dataclass(frozen=True)
class _Kept(Generic[Ruled]):
    """What a run keeps as intervals of ``model`` rows (findings, or the plan), and how to write them."""

    name: str
    """As ``RecordedPassRow.kept`` names it."""
    names: Sequence[str]
    of: Callable[[RuleResult], list[Ruled]]
    """Its items among a rule's findings, actions and skips."""
    says: Callable[[Ruled], str]
    """What an item says, to tell it from the open rows."""
    row: Callable[[Ruled], tuple[Any, ...]]
    """An item's values for ``names``, turned to JSON only for the items written."""


def _record_findings(session: Session, run_id: str, plans: Mapping[str, RuleResult], rules: Iterable[str],
                     passes: Mapping[str, RulePass]) -> None:
    _record_changes(session, FindingRow, run_id, rules, passes, _Kept(
        "findings", _FINDING_COLUMNS, lambda result: result.findings, _finding_says,
        lambda f: (f.rule, f.object.value, f.record_id, f.owner_id, f.reason, json_text(f.evidence))), plans)


def _record_skips(session: Session, run_id: str, plans: Mapping[str, RuleResult], rules: Iterable[str],
                  passes: Mapping[str, RulePass]) -> None:
    _record_changes(session, SkipRow, run_id, rules, passes, _Kept(
        "skips", _SKIP_COLUMNS, lambda result: result.skips, _skip_says, _skip_values), plans)


def _skip_values(skip: Skip) -> tuple[Any, ...]:
    return skip.rule, skip.object.value, skip.record_id, skip.reason


def _skip_rows(run_id: str, skips: Iterable[Skip]) -> Iterator[tuple[Any, ...]]:
    return ((run_id, *_skip_values(s)) for s in skips)


def _record_changes(session: Session, model: type[IntervalRow], run_id: str, rules: Iterable[str],
                    passes: Mapping[str, RulePass], kept: _Kept[Ruled], plans: Mapping[str, RuleResult]) -> None:
    """Record the items of each rule's plan (``plans``) as rows of ``model``, kept as intervals: new in, gone closed.

    Runs record one at a time per database, so each compares with the rows open just before it. A rule
    whose pass carried forward the judgments of the pass that recorded those rows compares the records
    whose judgment changed alone, its plan unread (and of those, when the pass says what they held, only
    the ones that held items of the kind have open rows to read back); any other compares every item it has.
    """
    run = _take_place(session, run_id)
    assert run.recorded is not None
    place, connection = run.recorded, run.connection
    recorded = _recorded_passes(session, connection, kept.name)
    rules = list(rules)
    carried = {rule: made for rule, made in passes.items()
               if rule in rules and made.carried_from is not None and made.carried_from == recorded.get(rule)}
    before = _OpenRows(session, model, connection)
    for rule in rules:
        if rule in carried:
            made = carried[rule]
            before.read_records(rule, made.records if made.was is None else {i.record_id for i in kept.of(made.was)})
        else:
            before.read(rule)
    compared = chain(chain.from_iterable(kept.of(plan) for rule, plan in plans.items() if rule not in carried),
                     chain.from_iterable(kept.of(made.changed) for made in carried.values()))
    fresh = ((run_id, connection, place, fingerprint, *kept.row(item)) for item in compared
             if not before.carries(item.rule, fingerprint := _fingerprint(kept.says(item))))
    written = _append_all(session, model, ("run_id", "connection", "opened", "fingerprint", *kept.names), fresh)
    statistics.after_write(session, model.__tablename__, written)
    for batch in _batches(before.gone()):
        session.execute(update(model).where(one_of(session, model.id, batch)).values(closed=place),
                        execution_options={"synchronize_session": False})
    run.rules = sorted({*(run.rules or ()), *before.rules})
    _note_passes(session, connection, kept.name, run_id, before.rules, passes)


def _recorded_passes(session: Session, connection: str, kept: str) -> dict[str, str]:
    """By rule, the pass whose judgments the open rows ``kept`` of ``connection`` are."""
    stmt = select(RecordedPassRow.rule, RecordedPassRow.pass_id).where(RecordedPassRow.connection == connection,
                                                                        RecordedPassRow.kept == kept)
    return {rule: pass_id for rule, pass_id in session.execute(stmt)}


def _note_passes(session: Session, connection: str, kept: str, run_id: str, rules: Collection[str],
                 passes: Mapping[str, RulePass]) -> None:
    """The open rows of ``rules`` are now their ``passes``' judgments (a rule without a pass: nobody's)."""
    session.execute(delete(RecordedPassRow).where(RecordedPassRow.connection == connection,
                                                  RecordedPassRow.kept == kept, RecordedPassRow.rule.in_(rules)))
    session.add_all(RecordedPassRow(connection=connection, rule=rule, kept=kept, pass_id=passes[rule].pass_id,
                                    run_id=run_id) for rule in rules if rule in passes)


def _take_place(session: Session, run_id: str) -> RunRow:
    """The run, with its place in the order of recording (the next one, the first time it records).

    Runs take places in commit order: the lock on PostgreSQL, on SQLite the update that takes the one writer's lock.
    """
    one_at_a_time(session, "ledger_intervals")
    session.execute(update(RunRow).where(RunRow.id == run_id, RunRow.recorded.is_(None)).values(
        recorded=select(func.coalesce(func.max(RunRow.recorded), 0) + 1).scalar_subquery()))
    return session.get_one(RunRow, run_id, populate_existing=True)


class _OpenRows:
    """A connection's rows of ``model`` open before a run records its own, read rule by rule as the run names them.

    A row the run has again is carried (it stays open); what none of the run's rows claimed is gone.
    """

    def __init__(self, session: Session, model: type[IntervalRow], connection: str) -> None:
        self._session, self._table, self._connection = session, model.__tablename__, connection
        self._ids: dict[str, dict[str | None, int]] = {}
        self._copies: dict[str, dict[str | None, list[int]]] = {}
        """Per rule, the ids of further rows that say the same (a run may find the same thing twice)."""

    @property
    def rules(self) -> list[str]:
        """Every rule the run recorded: those it was given and those its rows named."""
        return sorted(self._ids)

    def carries(self, rule: str, fingerprint: str) -> bool:
        ids = self._ids[rule] if rule in self._ids else self.read(rule)
        if ids.pop(fingerprint, None) is None:
            return False
        copies = self._copies[rule].get(fingerprint)
        if copies:
            ids[fingerprint] = copies.pop()
        return True

    def gone(self) -> list[int]:
        return [*(i for ids in self._ids.values() for i in ids.values()),
                *(i for copies in self._copies.values() for ids in copies.values() for i in ids)]

    def read(self, rule: str) -> dict[str | None, int]:
        """Every open row of ``rule``."""
        return self._keep(rule, driver_rows(self._session, f"SELECT fingerprint, id FROM {self._table} "
                                            f"WHERE connection = ? AND rule = ? AND {OPEN_ROWS}",
                                            (self._connection, rule)))

    def read_records(self, rule: str, record_ids: Collection[str]) -> None:
        """The open rows of ``rule`` about ``record_ids`` (through ``ix_*_open_by_record``)."""
        rows: list[tuple[Any, ...]] = []
        for chunk in id_chunks(record_ids):
            listed, ids = driver_one_of(self._session, "record_id", chunk)
            rows.extend(driver_rows(self._session, f"SELECT fingerprint, id FROM {self._table} WHERE connection = ? "
                                    f"AND rule = ? AND {listed} AND {OPEN_ROWS}", (self._connection, rule, *ids)))
        self._keep(rule, rows)

    def _keep(self, rule: str, rows: list[tuple[Any, ...]]) -> dict[str | None, int]:
        ids: dict[str | None, int] = dict(rows)
        copies: dict[str | None, list[int]] = defaultdict(list)
        if len(ids) < len(rows):
            for fingerprint, row_id in rows:
                if ids[fingerprint] != row_id:
                    copies[fingerprint].append(row_id)
        self._ids[rule], self._copies[rule] = ids, copies
        return ids


def _finding_says(finding: Finding) -> str:
    f = finding
    return f"{f.object.value}\x1f{f.record_id}\x1f{f.owner_id!r}\x1f{f.reason}\x1f{f.evidence!r}"


def _skip_says(skip: Skip) -> str:
    return f"{skip.object.value}\x1f{skip.record_id}\x1f{skip.reason}"


def _action_says(action: Action) -> str:
    a = action
    return (f"{a.key}\x1f{a.kind.value}\x1f{a.object.value}\x1f{a.record_id}\x1f{a.reason}\x1f{a.payload!r}"
            f"\x1f{a.requires!r}")


def _fingerprint(says: str) -> str:
    """What a row says, as a short digest: equal for rows that say the same.

    Evidence and payloads go in as ``repr``, half the time of JSON for the rows a run carries unchanged; a value
    JSON gives back in another type (a tuple as a list) only makes its row count as changed once.
    """
    return hashlib.blake2b(says.encode(), digest_size=16).hexdigest()


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("ledger.write_retried", attempt=state.attempt_number, error=str(error).splitlines()[0])


def _masked(error: str | None) -> str | None:
    """An error as the ledger keeps it: a password or token inside a URL never reaches the database."""
    return None if error is None else mask_url_secrets(error)
