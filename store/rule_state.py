"""Each rule's latest judgment of each record, kept so that a run can judge only what changed.

A rule that follows change stores, per record it judged, what it concluded (findings, actions,
skips) and when its own clock may change that (``recheck_at``). The next run judges the records
that changed since, and those whose moment has come, and carries the rest forward from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, select
from sqlalchemy.orm import Session

from domain.plan import Action, ActionKind, Finding, RuleResult, Skip
from domain.records import ObjectType
from store.aggregates import one_of
from store.ingest import append_rows, stored_datetime
from store.json_text import json_text
from store.models import RuleMarkRow, RuleStateRow

_IDS_PER_QUERY = 5000
_NAMES = ("connection", "rule", "record_id", "recheck_at", "result")


@dataclass(frozen=True)
class Mark:
    now: datetime
    change_id: int
    fingerprint: str
    full_at: datetime
    pass_id: str | None
    """The pass that set it: the judgments stored are that pass's (None: set before passes had ids)."""


def mark_of(session: Session, connection: str, rule: str) -> Mark | None:
    row = session.get(RuleMarkRow, (connection, rule))
    return None if row is None else Mark(row.now, row.change_id, row.fingerprint, row.full_at, row.pass_id)


def set_mark(session: Session, connection: str, rule: str, mark: Mark) -> None:
    row = session.get(RuleMarkRow, (connection, rule))
    if row is None:
        session.add(RuleMarkRow(connection=connection, rule=rule, **dataclasses.asdict(mark)))
    else:
        row.now, row.change_id, row.fingerprint, row.full_at = mark.now, mark.change_id, mark.fingerprint, mark.full_at
        row.pass_id = mark.pass_id


def due_by(session: Session, connection: str, rule: str, now: datetime) -> set[str]:
    """Records whose judgment by ``rule`` may have changed by ``now`` with nothing else changing."""
    stmt = select(RuleStateRow.record_id).where(RuleStateRow.connection == connection, RuleStateRow.rule == rule,
                                                RuleStateRow.recheck_at <= now)
    return set(session.scalars(stmt))


Judgment = tuple[datetime | None, tuple[Finding, ...], tuple[Action, ...], tuple[Skip, ...]]
"""A rule's judgment of one record: when to judge it again, and its findings, actions and skips."""


def replace(session: Session, connection: str, rule: str, result: RuleResult, judged: Collection[str] | None,
            held: Mapping[str, Judgment] | None = None) -> set[str] | None:
    """Store ``result`` as the rule's judgment of the ``judged`` records (None: of every record).

    Of the ``judged`` records, only those whose judgment differs from the stored one are written: a
    scheduled run judges thousands again and most conclude what they did before. ``held`` is what the
    store holds for the ``judged`` records (a record it holds nothing for left out), when the caller
    knows it: the stored rows are then not read back. Returns the records whose judgment changed (None:
    every record was judged).
    """
    made = _by_record(result)
    changed: set[str] | None = None
    if judged is None:
        session.execute(delete(RuleStateRow).where(RuleStateRow.connection == connection, RuleStateRow.rule == rule))
        write = made
    else:
        if held is None:
            write, gone = _differing(_stored(session, connection, rule, judged), made)
        else:
            write = {record_id: now for record_id, now in made.items() if held.get(record_id) != now}
            gone = sorted(record_id for record_id in held if record_id in write or record_id not in made)
        changed = {*write, *gone}
        for start in range(0, len(gone), _IDS_PER_QUERY):
            session.execute(delete(RuleStateRow).where(
                RuleStateRow.connection == connection, RuleStateRow.rule == rule,
                one_of(session, RuleStateRow.record_id, gone[start : start + _IDS_PER_QUERY])))
    when = stored_datetime(session.get_bind().dialect.name)
    rows = [(connection, rule, record_id, when(now[0]), _as_json(now)) for record_id, now in write.items()]
    append_rows(session, RuleStateRow.__table__, _NAMES, rows)  # type: ignore[arg-type]
    return changed


def _differing(stored: dict[str, tuple[datetime | None, str | None]],
               made: dict[str, Judgment]) -> tuple[dict[str, Judgment], list[str]]:
    """The judgments in ``made`` that differ from the ``stored`` rows, and the rows that changed or hold nothing now."""
    write = {record_id: now for record_id, now in made.items()
             if stored.pop(record_id, None) != (now[0], _as_json(now))}
    return write, sorted(set(stored) | set(write))


def _stored(session: Session, connection: str, rule: str,
            record_ids: Collection[str]) -> dict[str, tuple[datetime | None, str | None]]:
    """The stored recheck moment and result (as JSON text) of each of ``record_ids`` the rule holds a row for."""
    ordered = sorted(record_ids)
    stored: dict[str, tuple[datetime | None, str | None]] = {}
    for start in range(0, len(ordered), _IDS_PER_QUERY):
        stmt = select(RuleStateRow.record_id, RuleStateRow.recheck_at, cast(RuleStateRow.result, Text)).where(
            RuleStateRow.connection == connection, RuleStateRow.rule == rule,
            one_of(session, RuleStateRow.record_id, ordered[start : start + _IDS_PER_QUERY]))
        stored.update((record_id, (recheck, made)) for record_id, recheck, made in session.execute(stmt))
    return stored


def current(session: Session, connection: str, rule: str, *, clocks: bool = False) -> RuleResult:
    """Everything the rule currently holds against the connection's records; with ``clocks``, their clocks too."""
    result = RuleResult()
    stmt = select(RuleStateRow.record_id, RuleStateRow.recheck_at, RuleStateRow.result).where(
        RuleStateRow.connection == connection, RuleStateRow.rule == rule)
    if not clocks:
        stmt = stmt.where(RuleStateRow.result.is_not(None))
    for record_id, recheck, found in session.execute(stmt.execution_options(yield_per=5000)):
        if clocks and recheck is not None:
            result.recheck[record_id] = recheck
        if found:
            result.findings.extend(Finding(**{**f, "object": ObjectType(f["object"])}) for f in found.get("f", ()))
            result.actions.extend(_action(a) for a in found.get("a", ()))
            result.skips.extend(Skip(**{**s, "object": ObjectType(s["object"])}) for s in found.get("s", ()))
    return result


def _action(data: Mapping[str, Any]) -> Action:
    return Action(**{**data, "kind": ActionKind(data["kind"]), "object": ObjectType(data["object"])})


def _by_record(result: RuleResult) -> dict[str, Judgment]:
    """``result`` as the judgment of each record it says something about (or notes a clock for)."""
    grouped: dict[str, tuple[list[Finding], list[Action], list[Skip]]] = {}
    for finding in result.findings:
        grouped.setdefault(finding.record_id, ([], [], []))[0].append(finding)
    for action in result.actions:
        grouped.setdefault(action.record_id, ([], [], []))[1].append(action)
    for skip in result.skips:
        grouped.setdefault(skip.record_id, ([], [], []))[2].append(skip)
    made: dict[str, Judgment] = {record_id: (at, (), (), ()) for record_id, at in result.recheck.items()}
    for record_id, (findings, actions, skips) in grouped.items():
        made[record_id] = (result.recheck.get(record_id), tuple(findings), tuple(actions), tuple(skips))
    return made


def _as_json(judgment: Judgment) -> str | None:
    """A judgment's findings, actions and skips as the ``result`` column holds them (None: it has none).

    The dataclasses are written field by field (``store.json_text``): a quarter of the time of ``json`` from a dict
    of each, for the tens of thousands of judgments a scheduled run stores.
    """
    _, findings, actions, skips = judgment
    kept = {kind: items for kind, items in (("f", findings), ("a", actions), ("s", skips)) if items}
    return json_text(kept) if kept else None
