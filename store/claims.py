"""The exactly-once gate: an action may call the CRM only while it holds its key's claim.

A claim is a row in ``idempotency`` keyed by the action's idempotency key within its connection
(``<connection>/<key>``: two orgs can share record ids, a sandbox copied from production does). The
database's unique key decides races between processes; the holder's status decides what a later claimant may do:
``applied`` blocks for good, ``failed`` is taken over, and ``planned`` is taken over only when its
holder's run has ended. A run that died stays ``running`` until a process holding its job's locks
closes it, and for CRM changes that process settles the claims from the CRM first
(``jobs.apply.settle``): taking them over to apply a new plan could do twice what was meant once.
Changes nobody can read back (a digest's email, an undo's restore) may also be taken over once
the claim is older than a lease, so a dead sender does not block them for good.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Dialect, Select, SQLColumnExpression, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from domain.plan import ActionStatus
from store.aggregates import one_of
from store.before_images import save_before_images
from store.ingest import driver_one_of, driver_rows
from store.models import ActionRow, ClaimRow, RunRow
from store.upsert import conflict_insert

ATTEMPTS = 5
SEPARATOR = "/"
"""Between connection and key in a claim's key; connection names cannot hold it."""
BATCH = 500
"""A claim row can vanish between our insert and our read only if its holder rolled back: retry."""
KEYS_PER_LOOKUP = 5000
"""Keys ``held`` looks up per query (on SQLite as placeholders, within its limit of 32,766 a statement). A
full-size plan names about a million: on PostgreSQL 935,161 keys took 14.9 s as 500 placeholders a query,
7.8-8.9 s as arrays of 1,000 through SQLAlchemy, 3.1 s as arrays through the driver (``store.ingest.driver_one_of``
says what they go as now; ``bench/rules`` prints the time)."""


class UnknownActionError(LookupError):
    """An action id that the ledger never recorded."""


class ClaimContendedError(RuntimeError):
    """The claim kept changing hands while we tried to read it."""


@dataclass(frozen=True, slots=True)
class Claim:
    proceed: bool
    reason: str | None = None
    """Why not, when ``proceed`` is False (e.g. ``already applied in run <id>``)."""


@dataclass(frozen=True, slots=True)
class Held:
    """How a key's claim stands: what a dry run says of an action with that key."""

    status: ActionStatus
    """``applied``; ``failed`` (the next apply retries it); ``planned``: in flight, settled before the next apply."""
    run_id: str
    at: datetime
    """When its holder last answered for it (applied or failed), or claimed it."""
    error: str | None
    """The CRM's words, when it failed."""

    @property
    def applied(self) -> bool:
        """Whether a run applied the key: for good, as an applied claim never changes hands."""
        return self.status is ActionStatus.APPLIED


def applied_in(run_id: str) -> str:
    """Why an action is not applied again: a run applied its key."""
    return f"already applied in run {run_id}"


def claim_key(connection: str, key: str) -> str:
    """The claim's key of an action keyed ``key`` in ``connection``."""
    return f"{connection}{SEPARATOR}{key}"


def claim_key_of(connection: SQLColumnExpression[Any], key: SQLColumnExpression[Any]) -> ColumnElement[str]:
    """:func:`claim_key` in SQL, to join claims with actions."""
    return connection + SEPARATOR + key


def already_sent(sessions: sessionmaker[Session], connection: str, keys: Collection[str]) -> set[str]:
    """The keys among ``keys`` (digests of ``connection``) whose digest a server has already accepted."""
    claimed = {claim_key(connection, key): key for key in keys}
    stmt = select(ClaimRow.key).where(ClaimRow.key.in_(list(claimed)), ClaimRow.status == ActionStatus.APPLIED.value)
    with sessions() as session:
        return {claimed[key] for key in session.scalars(stmt)}


@dataclass
class _Applied:
    """The applied claims of one connection this process has read, and the runs that applied them."""

    held: dict[str, Held] = field(default_factory=dict)
    runs: set[str] = field(default_factory=set)


_REMEMBERING = threading.Lock()
"""Held while :data:`_APPLIED` is read or changed: a worker may run jobs on threads (Celery's thread pool)."""
_APPLIED: dict[tuple[str, str], _Applied] = {}
"""Per store and connection. An applied claim never changes hands and goes only with its run, so a long-lived
worker asks the ledger only about the keys it has not seen applied: a scheduled run at full size plans about a
million actions, nearly all applied long ago, and its lookup of them all took most of what an applying run spent
in the ledger."""


def held(sessions: sessionmaker[Session], connection: str, keys: Collection[str]) -> dict[str, Held]:
    """By key, the claims ``connection`` holds among ``keys``; a key nobody claimed is absent.

    Keys this process has seen applied are answered from memory (:data:`_APPLIED`), while every run that applied
    them is still in the ledger. A dry run at full size asks about a million keys, and an org that has applied
    little holds far fewer claims: when the ledger holds no more claims than there are keys left to ask about, one
    pass over them answers (its cost follows the claims); otherwise the keys are looked up thousands a query,
    through the driver, as SQLAlchemy's expanding parameters cost more per key than the lookup.
    """
    prefix = claim_key(connection, "")
    start = len(prefix)
    failed: dict[int, str] = {}
    alike: dict[tuple[str, str, Any], Held] = {}
    """One ``Held`` for the claims that say the same: a run answers for thousands at one moment, and making each
    its own (its status, its time read back) took most of a lookup that a run applying at full size makes."""
    columns = f"SELECT key, status, run_id, updated_at, action_id FROM {ClaimRow.__tablename__}"
    with sessions() as session:
        with _REMEMBERING:
            applied = _applied_known(session, str(sessions.kw["bind"].url), connection)
            found, asking = _known_apart(applied.held, keys)
        newly: dict[str, Held] = {}
        runs: set[str] = set()
        as_read = _time_as_read(session.get_bind().dialect)
        for key, status, run_id, at, action_id in _claims_among(session, columns, prefix, asking):
            state = alike.get((status, run_id, at))
            if state is None:
                state = alike[(status, run_id, at)] = Held(ActionStatus(status), run_id, as_read(at), None)
            found[key[start:]] = state
            if status == ActionStatus.APPLIED.value:
                newly[key[start:]] = state
                runs.add(run_id)
            elif status == ActionStatus.FAILED.value:
                failed[action_id] = key[start:]
        with _REMEMBERING:
            applied.held.update(newly)
            applied.runs.update(runs)
        failed_ids = sorted(failed)
        for start in range(0, len(failed_ids), KEYS_PER_LOOKUP):
            for action_id, error in session.execute(select(ActionRow.id, ActionRow.error).where(
                    one_of(session, ActionRow.id, failed_ids[start : start + KEYS_PER_LOOKUP]))):
                found[failed[action_id]] = dataclasses.replace(found[failed[action_id]], error=error)
    return found


def _known_apart(seen: dict[str, Held], keys: Collection[str]) -> tuple[dict[str, Held], Collection[str]]:
    """The claims in ``seen`` of ``keys``, and the keys left to ask the ledger about (all, when ``seen`` is empty)."""
    if not seen:
        return {}, keys
    found: dict[str, Held] = {}
    asking: list[str] = []
    for key in keys:
        state = seen.get(key)
        if state is None:
            asking.append(key)
        else:
            found[key] = state
    return found, asking


def _applied_known(session: Session, store: str, connection: str) -> _Applied:
    """The applied claims of ``connection`` this process has read from ``store``.

    Forgotten if a run that applied them is no longer in it (the database was replaced, or emptied by a test).
    """
    known = _APPLIED.get((store, connection))
    if known is not None and _all_there(session, sorted(known.runs)):
        return known
    known = _APPLIED[(store, connection)] = _Applied()
    return known


def _all_there(session: Session, run_ids: Sequence[str]) -> bool:
    there = 0
    for start in range(0, len(run_ids), KEYS_PER_LOOKUP):
        chunk = run_ids[start : start + KEYS_PER_LOOKUP]
        there += session.scalar(select(func.count()).select_from(RunRow).where(one_of(session, RunRow.id, chunk))) or 0
    return there == len(run_ids)


def _claims_among(session: Session, columns: str, prefix: str, keys: Collection[str]) -> Iterator[tuple[Any, ...]]:
    """The driver's rows of ``columns`` for the claims of ``keys`` (each after ``prefix``), by the cheaper way.

    ``keys`` may repeat a key; its row comes once. Neither way makes a set of the keys: a scheduled run asks about a
    million, and the set took a third of a second of it; the keys are walked only when the ledger holds claims.
    """
    if not keys:
        return
    if _at_most(session, len(keys)):
        rows = driver_rows(session, f"{columns} WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        if rows:
            by_key = {row[0][len(prefix):]: row for row in rows}
            yield from (row for key in keys if (row := by_key.pop(key, None)) is not None)
        return
    listed = [prefix + key for key in dict.fromkeys(keys)]
    for start in range(0, len(listed), KEYS_PER_LOOKUP):
        where, params = driver_one_of(session, "key", listed[start : start + KEYS_PER_LOOKUP])
        yield from driver_rows(session, f"{columns} WHERE {where}", params)


def _at_most(session: Session, count: int) -> bool:
    """Whether the ledger holds at most ``count`` claims (counting no further than one past it)."""
    stmt = select(func.count()).select_from(select(ClaimRow.key).limit(count + 1).subquery())
    return (session.scalar(stmt) or 0) <= count


def _time_as_read(dialect: Dialect) -> Callable[[Any], datetime]:
    """A claim's time from the driver's value, as SQLAlchemy would read it (aware, in UTC)."""
    process = ClaimRow.__table__.c.updated_at.type.dialect_impl(dialect).result_processor(dialect, None)
    return (lambda value: cast(datetime, process(value))) if process is not None else (lambda value: value)


def claim(sessions: sessionmaker[Session], action_id: int, now: datetime, lease: timedelta | None) -> Claim:
    """Take the claim for ``action_id``'s key, or say why another action keeps it."""
    with sessions() as session:
        found = session.execute(_actions([action_id])).first()
        if found is None:
            raise UnknownActionError(f"no action with id {action_id} in the ledger: record the plan first")
        _, key, run_id = found
    for _ in range(ATTEMPTS):
        with sessions.begin() as session:
            if _insert_claim(session, key, action_id, run_id, now):
                save_before_images(session, [action_id], now)
                return Claim(proceed=True)
            held = session.scalars(select(ClaimRow).where(ClaimRow.key == key).with_for_update()).first()
            if held is not None:
                decided = _decide(session, held, action_id, run_id, now, lease)
                if decided.proceed:
                    save_before_images(session, [action_id], now)
                return decided
    raise ClaimContendedError(f"could not claim key {key!r} for action {action_id} after {ATTEMPTS} attempts")


def claim_all(
    sessions: sessionmaker[Session], action_ids: Sequence[int], now: datetime, lease: timedelta | None
) -> dict[int, Claim]:
    """:func:`claim` for many actions: free keys taken, applied ones refused, a transaction each per batch.

    Any other key (failed, or in flight) is decided one by one.
    The outcome is the same as claiming each in turn, but a plan of thousands of actions commits a
    few times instead of thousands (each commit waits for the disk). A scheduled run carries forward
    actions that earlier runs applied (hundreds of thousands at full size): an applied claim never
    changes hands, so those are refused by the batch too.
    """
    decided: dict[int, Claim] = {}
    for start in range(0, len(action_ids), BATCH):
        batch = action_ids[start : start + BATCH]
        decided.update({action_id: Claim(proceed=True) for action_id in _take_free_keys(sessions, batch, now)})
        decided.update(_refuse_applied(sessions, [i for i in batch if i not in decided], now))
        decided.update({i: claim(sessions, i, now, lease) for i in batch if i not in decided})
    return decided


def _refuse_applied(sessions: sessionmaker[Session], action_ids: Sequence[int], now: datetime) -> dict[int, Claim]:
    """The refusals of the actions among ``action_ids`` whose key a run applied, each as :func:`_decide` says it."""
    if not action_ids:
        return {}
    with sessions.begin() as session:
        stmt = (select(ActionRow.id, ClaimRow.action_id, ClaimRow.run_id)
                .join(RunRow, RunRow.id == ActionRow.run_id)
                .join(ClaimRow, ClaimRow.key == claim_key_of(RunRow.connection, ActionRow.key))
                .where(ActionRow.id.in_(action_ids), ClaimRow.status == ActionStatus.APPLIED.value))
        refused = {action_id: (holder, applied_in(run_id))
                   for action_id, holder, run_id in session.execute(stmt)}
        skipped = [{"id": action_id, "status": ActionStatus.SKIPPED.value, "error": reason, "updated_at": now}
                   for action_id, (holder, reason) in refused.items() if holder != action_id]
        if skipped:
            session.execute(update(ActionRow), skipped)
    return {action_id: Claim(proceed=False, reason=reason) for action_id, (_, reason) in refused.items()}


def _take_free_keys(sessions: sessionmaker[Session], action_ids: Sequence[int], now: datetime) -> list[int]:
    """Insert a claim for each key nobody holds (the first action of a key repeated in the batch); their ids."""
    with sessions.begin() as session:
        rows = session.execute(_actions(action_ids).order_by(ActionRow.id))
        first: dict[str, tuple[int, str]] = {}
        for action_id, key, run_id in rows:
            first.setdefault(key, (action_id, run_id))
        if not first:
            return []
        values = [{"key": key, "action_id": action_id, "status": ActionStatus.PLANNED.value, "run_id": run_id,
                   "updated_at": now} for key, (action_id, run_id) in first.items()]
        # One statement for many rows (SQLAlchemy's "insertmanyvalues"), compiled once a process: a VALUES list
        # built per batch was compiled anew each time, half of what claiming a scheduled run's new actions took.
        stmt = conflict_insert(session, ClaimRow).on_conflict_do_nothing().returning(ClaimRow.key)
        taken = [first[key][0] for key in session.scalars(stmt, values)]
        save_before_images(session, taken, now)
        return taken


def _actions(action_ids: Sequence[int]) -> Select[int, str, str]:
    """Id, claim key and run of each action."""
    return (
        select(ActionRow.id, claim_key_of(RunRow.connection, ActionRow.key), ActionRow.run_id)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(ActionRow.id.in_(action_ids))
    )


def _insert_claim(session: Session, key: str, action_id: int, run_id: str, now: datetime) -> bool:
    stmt = conflict_insert(session, ClaimRow).values(
        key=key, action_id=action_id, status=ActionStatus.PLANNED.value, run_id=run_id, updated_at=now
    )
    return session.scalar(stmt.on_conflict_do_nothing().returning(ClaimRow.key)) is not None


def _decide(
    session: Session, held: ClaimRow, action_id: int, run_id: str, now: datetime, lease: timedelta | None
) -> Claim:
    if held.status == ActionStatus.APPLIED and held.action_id != action_id:
        return _refuse(session, action_id, now, applied_in(held.run_id))
    if held.status == ActionStatus.APPLIED:
        return Claim(proceed=False, reason=applied_in(held.run_id))
    if held.action_id != action_id and held.status == ActionStatus.PLANNED and _in_progress(session, held, now, lease):
        return _refuse(session, action_id, now, f"being applied by run {held.run_id} since {held.updated_at:%H:%M:%S}")
    held.action_id, held.run_id = action_id, run_id
    held.status, held.updated_at = ActionStatus.PLANNED.value, now
    return Claim(proceed=True)


def _in_progress(session: Session, held: ClaimRow, now: datetime, lease: timedelta | None) -> bool:
    """Whether the holder may still be working: its run is running (and, with a lease, it has not expired)."""
    holder_status = session.scalar(select(RunRow.status).where(RunRow.id == held.run_id))
    return holder_status == "running" and (lease is None or now - held.updated_at < lease)


def _refuse(session: Session, action_id: int, now: datetime, reason: str) -> Claim:
    action = session.get_one(ActionRow, action_id)
    action.status, action.error, action.updated_at = ActionStatus.SKIPPED.value, reason, now
    return Claim(proceed=False, reason=reason)
