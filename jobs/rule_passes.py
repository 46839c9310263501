"""Rules that follow change: judge only what changed since a rule's last run, carry the rest forward.

A rule's judgment of a record depends on the record, the records about it (tasks), the owners, the
policy and the clock. So an incremental pass judges the records the mirror's change log names
since the rule's last run (``store.changes``), the records whose own moment has come (a deadline,
a day count, a new period: ``RuleResult.recheck``), and the ones a threshold in the query brought
in (``store.changed_org``); every other record keeps its previous findings, actions and skips
(``store.rule_state``). A full pass judges everything, and runs instead when the policy or the
owners changed, when a first sync replaced a type the rule reads, when the rule never ran, and at
least every ``FULL_PASS_EVERY`` as a safety net; ``warden run --full`` asks for one.

The rules that judge the whole org at once make a full pass only when what they match on changed:
dedupe when an account's identity changed (``store.changes.ACCOUNT_IDENTITY``), leads already in
the system when a contact or an account's identity did (a changed lead is judged alone, against
every contact and account). Routing judges only the leads that can be waiting (``SomeLeads``).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from domain.org import OrgData
from domain.plan import RulePass, RuleResult
from domain.records import ObjectType
from enforcement import existing_leads
from enforcement.context import RuleContext
from enforcement.registry import Family
from enforcement.routing import waiting_owners
from jobs import carried, lead_index
from store import aggregates, rule_state
from store.changed_org import ChangedOrg, SomeLeads
from store.changes import (
    ACCOUNT_IDENTITY,
    ACTIVITY,
    CALL_ACTIVITY,
    Changes,
    changes_after,
    forget_before,
    last_change_id,
)
from store.collector import collections_every
from store.mirror import MirrorOrg
from store.models import MIRROR_ROWS, ContactRow, LeadRow, RuleMarkRow

FULL_PASS_EVERY = timedelta(hours=24)
OBJECTS_BETWEEN_COLLECTIONS = 200_000
"""A young garbage collection waits for this many new objects while a rule runs (``store.collector``). A rule
builds millions that live until it is done; at the default of 700 the full collections they brought on each
walked every object the process keeps: 8 s of a 61 s pass over the bench's org on PostgreSQL, 20 s of 122 s
when the judgments are kept (``bench/rules``)."""
_ABOUT = frozenset({ACTIVITY, CALL_ACTIVITY})
"""Change-log objects that name the records changed tasks are about, of any type."""
ALWAYS_FULL = frozenset({"activity_score", "route"})
"""Families judged in full every run: what they read is not in the change log (activities) or a new record
anywhere changes what they plan (a new lead waiting to be routed); carrying their last plan forward would
leave new work undone until the next full pass."""

_LEAD, _OPP, _ACCOUNT, _TASK, _CONTACT = (o.value for o in (ObjectType.LEAD, ObjectType.OPPORTUNITY,
                                                            ObjectType.ACCOUNT, ObjectType.TASK, ObjectType.CONTACT))


@dataclass(frozen=True)
class Reads:
    """What a rule family's judgment of a record depends on, besides the owners, the policy and the clock."""

    changed: tuple[str, ...]
    """Change-log objects whose ids are records to judge again, the type it judges first (``activity``,
    ``call_activity``: the records of that type a task, a call, is about)."""
    replaced: tuple[str, ...]
    """Record types whose wholesale replacement (a first sync) calls for a full pass."""


def _reads(rule: Any) -> Reads | None:
    """None for a family whose findings depend on the whole org at once (dedupe's clusters)."""
    own = str(getattr(rule, "object", ""))
    return {
        "sla": Reads((own, ACTIVITY), (own, _TASK)),
        "stale_deal": Reads((_OPP,), (_OPP, _ACCOUNT)),
        "stale_lead": Reads((_LEAD, ACTIVITY), (_LEAD, _TASK)),
        "cadence": Reads((_ACCOUNT, CALL_ACTIVITY), (_ACCOUNT, _TASK)),
        "overdue": Reads((_TASK,), (_TASK,)),
        "gates": Reads((own,), (own,)),
        "acceptance": Reads((_LEAD,), (_LEAD,)),
        "existing_lead": Reads((_LEAD,), (_LEAD, _CONTACT, _ACCOUNT)),
    }.get(rule.kind)


@dataclass(frozen=True)
class Pass:
    result: RuleResult
    full: bool
    judged: int
    """Records judged (on a full pass, the records it noted a clock for)."""
    made: RulePass
    """How its result came about: what the ledger needs to record only what changed."""
    carry_seconds: float = 0.0
    """Of the pass, the time spent reading back the findings, actions and skips carried forward."""


@dataclass
class Gathered:
    """A run's rules' results together, and how each rule's pass made its part (what the ledger records by)."""

    plan: RuleResult = field(default_factory=RuleResult)
    by_rule: dict[str, RuleResult] = field(default_factory=dict)
    """The plan apart by rule, of the rules that judged (a rule that failed has no say)."""
    passes: dict[str, RulePass] = field(default_factory=dict)
    """By rule, of the rules that judged."""

    def add(self, rule: str, done: Pass) -> None:
        self.plan.gather(done.result)
        self.by_rule[rule] = done.result
        self.passes[rule] = done.made


def evaluate(rule: Any, family: Family, ctx: RuleContext, org: MirrorOrg, session: Session,
             sessions: sessionmaker[Session], *, full: bool = False) -> Pass:
    """Evaluate ``rule`` over the mirror of ``ctx.connection``: incrementally when it can, else in full."""
    return start(rule, family, ctx, org, session, sessions, full=full)()


def start(rule: Any, family: Family, ctx: RuleContext, org: MirrorOrg, session: Session,
          sessions: sessionmaker[Session], *, full: bool = False,
          saves: ThreadPoolExecutor | None = None) -> Callable[[], Pass]:
    """:func:`evaluate`, its judgments stored through ``saves`` (at once without): call the result for the pass.

    The call waits for the judgments to be stored, and raises what storing them raised.
    """
    with collections_every(OBJECTS_BETWEEN_COLLECTIONS):
        return _evaluate(rule, family, ctx, org, session, sessions, full=full, saves=saves)


def _evaluate(rule: Any, family: Family, ctx: RuleContext, org: MirrorOrg, session: Session,
              sessions: sessionmaker[Session], *, full: bool, saves: ThreadPoolExecutor | None) -> Callable[[], Pass]:
    connection = ctx.connection
    mark = rule_state.mark_of(session, connection, rule.id)
    store = str(sessions.kw["bind"].url)
    changes = _changes_after(session, store, connection, mark.change_id if mark else 0)
    fingerprint = _fingerprint(rule, ctx)
    if full or _needs_full(rule, ctx, mark, changes, fingerprint, session):
        index = lead_index.LeadIndex(session, connection)
        result = _judge(rule, family, ctx, _whole(rule, ctx, org, session), index)
        now_mark = _next_mark(ctx, changes, fingerprint, ctx.now)
        saved = _save_through(saves, sessions, connection, rule.id, result, None, now_mark)
        # kept under the new mark: should the save fail, the store keeps the old one and these are never used
        carried.keep(store, connection, rule.id, now_mark, carried.Judgments.of(result))
        lead_index.keep(store, connection, rule.id, now_mark, index.built)
        return _once(saved, lambda _: Pass(result, True, len(result.recheck), _judged_all(now_mark)))
    assert mark is not None
    reads = _reads(rule)
    due = rule_state.due_by(session, connection, rule.id, ctx.now)
    if reads is None and rule.kind == "dedupe" and not ctx.policy.dedupe.auto_merge:
        # No account's identity changed (else _needs_full): its only clocks are new accounts that stop
        # being new, and judged alone each of them drops out, without matching the whole org again.
        reads = Reads((), ())
    if reads is None:  # nothing changed that it reads (else _needs_full): only its own clock may move it
        return _whole_org_by_clock(rule, family, ctx, org, session, sessions, mark, changes, fingerprint, due, saves)
    judge = changes.of(*(o for o in reads.changed if o not in _ABOUT)) | due
    for about in _ABOUT.intersection(reads.changed):  # of the records changed tasks are about, those it judges
        judge |= _about_of_type(session, store, connection, reads.changed[0], about, changes)
    if rule.kind == "stale_deal":  # a partner account's owner is the channel manager a deal goes back to
        # (an owner is an identity field, and accounts that come or go are logged as identity changes too)
        judge |= aggregates.opportunities_with_partner(session, connection, changes.of(ACCOUNT_IDENTITY))
    changed = (SomeLeads(session, connection, ids=judge) if rule.kind == "existing_lead"
               else ChangedOrg(session, connection, judge, mark.now, ctx.now))
    index = lead_index.LeadIndex(session, connection, lead_index.kept(store, connection, rule.id, mark))
    fresh = _judge(rule, family, ctx, changed, index)
    judged = judge | _named(fresh)
    now_mark = _next_mark(ctx, changes, fingerprint, mark.full_at)
    judgments = carried.kept(store, connection, rule.id, mark)
    held = judgments.held(judged) if judgments is not None else None  # spares reading the stored ones back
    saved = _save_through(saves, sessions, connection, rule.id, fresh, judged, now_mark, held)
    lead_index.keep(store, connection, rule.id, now_mark, index.built)
    started = time.perf_counter()
    if judgments is None:  # another process ran the rule last, or this one just started: read them back
        saved.result()  # once stored
        with sessions() as reader:
            judgments = carried.Judgments.of(rule_state.current(reader, connection, rule.id, clocks=True))
    else:
        judgments.forget(judged)
        judgments.add(fresh)
    carried.keep(store, connection, rule.id, now_mark, judgments)
    result, seconds = judgments.result(), time.perf_counter() - started
    return _once(saved, lambda differing: Pass(result, False, len(judged),
                                               _carried_forward(mark, now_mark, fresh, differing, held), seconds))


def _judge(rule: Any, family: Family, ctx: RuleContext, org: OrgData, index: lead_index.LeadIndex) -> RuleResult:
    if rule.kind == "existing_lead":  # it looks leads up in the contacts and accounts, indexed once per process
        return existing_leads.evaluate(rule, ctx, org, index)
    return family.evaluate(rule, ctx, org)


def _whole_org_by_clock(rule: Any, family: Family, ctx: RuleContext, org: OrgData, session: Session,
                        sessions: sessionmaker[Session], mark: rule_state.Mark, changes: Changes, fingerprint: str,
                        due: set[str], saves: ThreadPoolExecutor | None) -> Callable[[], Pass]:
    now_mark = _next_mark(ctx, changes, fingerprint, mark.full_at)
    if due:
        result = family.evaluate(rule, ctx, org)
        saved = _save_through(saves, sessions, ctx.connection, rule.id, result, None, now_mark)
        return _once(saved, lambda _: Pass(result, False, len(result.recheck), _judged_all(now_mark)))
    current = rule_state.current(session, ctx.connection, rule.id)  # storing the new mark leaves it as it is
    saved = _save_through(saves, sessions, ctx.connection, rule.id, RuleResult(), set(), now_mark)
    return _once(saved, lambda _: Pass(current, False, 0, _carried_forward(mark, now_mark, RuleResult(), set())))


def _next_mark(ctx: RuleContext, changes: Changes, fingerprint: str, full_at: datetime) -> rule_state.Mark:
    """The mark of the pass being made, under an id of its own."""
    return rule_state.Mark(ctx.now, changes.last_id, fingerprint, full_at, str(uuid.uuid4()))


def _judged_all(mark: rule_state.Mark) -> RulePass:
    assert mark.pass_id is not None
    return RulePass(mark.pass_id)


def _carried_forward(since: rule_state.Mark, mark: rule_state.Mark, fresh: RuleResult, changed: set[str] | None,
                     held: Mapping[str, rule_state.Judgment] | None = None) -> RulePass:
    """A pass that carried ``since``'s judgments forward, with ``fresh``'s of the ``changed`` records.

    ``held``: what ``since`` held of the records judged, when this process knows it.
    """
    assert mark.pass_id is not None and changed is not None
    now = RuleResult([f for f in fresh.findings if f.record_id in changed],
                     [a for a in fresh.actions if a.record_id in changed],
                     [s for s in fresh.skips if s.record_id in changed])
    return RulePass(mark.pass_id, since.pass_id, now, frozenset(changed),
                    None if held is None else _held_of(held, changed))


def _held_of(held: Mapping[str, rule_state.Judgment], records: set[str]) -> RuleResult:
    """The findings, actions and skips ``held`` of ``records``."""
    was = RuleResult()
    for record_id in records:
        judgment = held.get(record_id)
        if judgment is not None:
            was.findings.extend(judgment[1])
            was.actions.extend(judgment[2])
            was.skips.extend(judgment[3])
    return was


def _needs_full(rule: Any, ctx: RuleContext, mark: rule_state.Mark | None, changes: Changes, fingerprint: str,
                session: Session) -> bool:
    now = ctx.now
    if mark is None or mark.fingerprint != fingerprint or now < mark.now or now - mark.full_at >= FULL_PASS_EVERY:
        return True
    if rule.kind in ALWAYS_FULL:
        return True
    if ObjectType.OWNER.value in changes.everything:
        return True
    if rule.kind == "existing_lead" and (changes.of(_CONTACT, ACCOUNT_IDENTITY)
                                         or _contacts_among(session, ctx.connection, changes.of(_LEAD))):
        return True  # the contacts and accounts leads are looked up among changed
    reads = _reads(rule)
    if reads is None:  # dedupe: unattended merges also weigh what identity leaves out (the account type)
        watched = _ACCOUNT if ctx.policy.dedupe.auto_merge else ACCOUNT_IDENTITY
        return bool(changes.of(watched)) or bool(changes.everything)
    return bool(set(reads.replaced) & changes.everything)


_TYPED: dict[tuple[str, str, str, str], tuple[Changes, set[str]]] = {}
"""Per store, connection, type and change-log object: the records of the type among those changed tasks are
about, for the change log the latest pass read (two lead rules need the same ones)."""


def _about_of_type(session: Session, store: str, connection: str, obj: str, about: str, changes: Changes) -> set[str]:
    key = (store, connection, obj, about)
    known = _TYPED.get(key)
    if known is None or known[0] is not changes:
        known = _TYPED[key] = (changes, _of_type(session, connection, obj, changes.of(about)))
    return known[1]


def _of_type(session: Session, connection: str, obj: str, ids: set[str]) -> set[str]:
    """The ids among ``ids`` of records of type ``obj`` in the mirror (a task is about a deal, an account or a lead)."""
    row = MIRROR_ROWS[ObjectType(obj)]
    found: set[str] = set()
    for chunk in aggregates.id_chunks(ids):
        stmt = select(row.id).where(row.connection == connection, aggregates.one_of(session, row.id, chunk))
        found.update(session.scalars(stmt))
    return found


def _contacts_among(session: Session, connection: str, lead_ids: set[str]) -> bool:
    """Whether a contact shares an id with one of ``lead_ids`` (a new or deleted lead then hides or shows it)."""
    return any(session.scalar(select(ContactRow.id).where(ContactRow.connection == connection,
                                                          aggregates.one_of(session, ContactRow.id, chunk)).limit(1))
               for chunk in aggregates.id_chunks(lead_ids))


def _whole(rule: Any, ctx: RuleContext, org: MirrorOrg, session: Session) -> OrgData:
    """What a full pass of ``rule`` reads: the mirror, or for routing only the leads that can be waiting."""
    if rule.kind != "route":
        return org
    owners = sorted(waiting_owners(rule, ctx))
    return SomeLeads(session, ctx.connection, where=or_(LeadRow.owner_id.is_(None), LeadRow.owner_id.in_(owners)))


_LATEST: dict[tuple[str, str], Changes] = {}
"""The change log as the latest pass of any rule read it, per store and connection: rules share a mark."""


def _changes_after(session: Session, store: str, connection: str, after: int) -> Changes:
    """``changes_after``, reused while nothing was logged since the rules before this one read it."""
    known = _LATEST.get((store, connection))
    if known is None or known.after != after or known.last_id != max(after, last_change_id(session, connection)):
        known = _LATEST[(store, connection)] = changes_after(session, connection, after)
    return known


def _named(result: RuleResult) -> set[str]:
    """Every record ``result`` says something about."""
    named = set(result.recheck)
    for items in (result.findings, result.actions, result.skips):
        named.update(item.record_id for item in items)
    return named


def _fingerprint(rule: Any, ctx: RuleContext) -> str:
    """The policy as the rule judges by it (any edit makes the next pass a full one)."""
    taken_apart = ",".join(sorted(ctx.history.taken_apart)) if rule.kind == "dedupe" else ""
    return hashlib.sha256(f"{ctx.policy.model_dump_json()}|{taken_apart}".encode()).hexdigest()


_FORGOTTEN: dict[tuple[str, str], int] = {}
"""Per store and connection, the change id up to which this process dropped the change log.

Every rule's pass asks to drop what all rules have seen, but that moves only when the rule that saw least saves:
the other passes of a run found nothing to drop, and on PostgreSQL each such delete still walked the index entries
of the rows dropped before (17 ms a delete at full size, a dozen a run). A restarted process drops from the start."""


@contextmanager
def saving(sessions: sessionmaker[Session]) -> Iterator[ThreadPoolExecutor | None]:
    """On PostgreSQL, a thread that stores a run's rules' judgments one after another while the next rules judge.

    All are stored on leaving. None on SQLite, whose one writer works in this process: rules store as they go.

    On PostgreSQL the server writes them on the other core as this process judges on: at the bench's full size a
    scheduled run's rules took 3.0 s against 3.8 s storing as they went (alternate runs of one worker, ``bench/rules``
    prints the run). A rule's judgments are stored apart from every other rule's, and its mark moves with them; a
    pass that fails to store them leaves its rule's mark where it was, so what this process kept under the new mark
    is never used.
    """
    if sessions.kw["bind"].dialect.name != "postgresql":
        yield None
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rule-saves") as saves:
        yield saves


def _save_through(saves: ThreadPoolExecutor | None, sessions: sessionmaker[Session], connection: str, rule_id: str,
                  result: RuleResult, judged: set[str] | None, mark: rule_state.Mark,
                  held: dict[str, rule_state.Judgment] | None = None) -> Future[set[str] | None]:
    """:func:`_save` through ``saves``, or at once."""
    if saves is not None:
        return saves.submit(_save, sessions, connection, rule_id, result, judged, mark, held)
    done: Future[set[str] | None] = Future()
    done.set_result(_save(sessions, connection, rule_id, result, judged, mark, held))
    return done


def _once(saved: Future[set[str] | None], made: Callable[[set[str] | None], Pass]) -> Callable[[], Pass]:
    """The pass ``made`` of what storing it found (the records whose judgment changed), once stored."""
    return lambda: made(saved.result())


def _save(sessions: sessionmaker[Session], connection: str, rule_id: str, result: RuleResult,
          judged: set[str] | None, mark: rule_state.Mark,
          held: dict[str, rule_state.Judgment] | None = None) -> set[str] | None:
    """Store the pass's judgments and mark; the records whose judgment changed (None: it judged every record)."""
    log = (str(sessions.kw["bind"].url), connection)
    forgotten = _FORGOTTEN.get(log, 0)
    with sessions.begin() as session:
        changed = rule_state.replace(session, connection, rule_id, result, judged, held)
        rule_state.set_mark(session, connection, rule_id, mark)
        seen_by_all = session.scalar(select(func.min(RuleMarkRow.change_id)).where(
            RuleMarkRow.connection == connection)) or 0
        if seen_by_all != forgotten:  # below it: the store is not the one this process dropped from
            forget_before(session, connection, seen_by_all, after=forgotten if seen_by_all > forgotten else 0)
    _FORGOTTEN[log] = seen_by_all
    return changed
