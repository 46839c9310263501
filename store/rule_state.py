"""Each rule's latest judgment of each record, kept so that a run can judge only what changed.

A rule that follows change stores, per record it judged, what it concluded (findings, actions,
skips) and when its own clock may change that (``recheck_at``). The next run judges the records
that changed since, and those whose moment has come, and carries the rest forward from here.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, select
from sqlalchemy.orm import Session

from domain.plan import Action, ActionKind, Finding, RuleResult, Skip
from domain.records import ObjectType
from store.aggregates import one_of
from store.ingest import insert_rows, stored_datetime
from store.models import RuleMarkRow, RuleStateRow

_IDS_PER_QUERY = 5000
_NAMES = ("connection", "rule", "record_id", "recheck_at", "result")


@dataclass(frozen=True)
class Mark:
    now: datetime
    change_id: int
    fingerprint: str
    full_at: datetime


def mark_of(session: Session, connection: str, rule: str) -> Mark | None:
    row = session.get(RuleMarkRow, (connection, rule))
    return None if row is None else Mark(row.now, row.change_id, row.fingerprint, row.full_at)


def set_mark(session: Session, connection: str, rule: str, mark: Mark) -> None:
    row = session.get(RuleMarkRow, (connection, rule))
    if row is None:
        session.add(RuleMarkRow(connection=connection, rule=rule, **dataclasses.asdict(mark)))
    else:
        row.now, row.change_id, row.fingerprint, row.full_at = mark.now, mark.change_id, mark.fingerprint, mark.full_at


def due_by(session: Session, connection: str, rule: str, now: datetime) -> set[str]:
    """Records whose judgment by ``rule`` may have changed by ``now`` with nothing else changing."""
    stmt = select(RuleStateRow.record_id).where(RuleStateRow.connection == connection, RuleStateRow.rule == rule,
                                                RuleStateRow.recheck_at <= now)
    return set(session.scalars(stmt))


def replace(session: Session, connection: str, rule: str, result: RuleResult, judged: Collection[str] | None) -> None:
    """Store ``result`` as the rule's judgment of the ``judged`` records (None: of every record).

    Of the ``judged`` records, only those whose judgment differs from the stored one are written: a
    scheduled run judges thousands again and most conclude what they did before.
    """
    found = {record_id: (result.recheck.get(record_id), json.dumps(made) if made else None)
             for record_id, made in _by_record(result).items()}
    if judged is None:
        session.execute(delete(RuleStateRow).where(RuleStateRow.connection == connection, RuleStateRow.rule == rule))
    else:
        stored = _stored(session, connection, rule, judged)
        found = {record_id: now for record_id, now in found.items() if stored.pop(record_id, None) != now}
        gone = sorted(set(stored) | set(found))  # rows that changed or that nothing holds any more
        for start in range(0, len(gone), _IDS_PER_QUERY):
            session.execute(delete(RuleStateRow).where(
                RuleStateRow.connection == connection, RuleStateRow.rule == rule,
                one_of(session, RuleStateRow.record_id, gone[start : start + _IDS_PER_QUERY])))
    when = stored_datetime(session.get_bind().dialect.name)
    rows = [(connection, rule, record_id, when(recheck), made) for record_id, (recheck, made) in found.items()]
    insert_rows(session, RuleStateRow.__table__, _NAMES, rows)  # type: ignore[arg-type]


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


def current(session: Session, connection: str, rule: str) -> RuleResult:
    """Everything the rule currently holds against the connection's records."""
    result = RuleResult()
    stmt = select(RuleStateRow.result).where(RuleStateRow.connection == connection, RuleStateRow.rule == rule,
                                             RuleStateRow.result.is_not(None))
    for found in session.scalars(stmt.execution_options(yield_per=5000)):
        if found:
            result.findings.extend(Finding(**{**f, "object": ObjectType(f["object"])}) for f in found.get("f", ()))
            result.actions.extend(_action(a) for a in found.get("a", ()))
            result.skips.extend(Skip(**{**s, "object": ObjectType(s["object"])}) for s in found.get("s", ()))
    return result


def _action(data: Mapping[str, Any]) -> Action:
    return Action(**{**data, "kind": ActionKind(data["kind"]), "object": ObjectType(data["object"])})


def _by_record(result: RuleResult) -> dict[str, dict[str, list[dict[str, Any]]]]:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {record_id: {} for record_id in result.recheck}

    def add(kind: str, items: Iterable[Finding | Action | Skip]) -> None:
        for item in items:
            grouped.setdefault(item.record_id, {}).setdefault(kind, []).append(_plain(item))

    add("f", result.findings)
    add("a", result.actions)
    add("s", result.skips)
    return grouped


def _plain(item: Finding | Action | Skip) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
