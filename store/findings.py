"""What each rule found in its latest settled run as of a moment, read from the ledger for the digests.

A rule's current state is the findings of the latest settled run (of that rule's job or of ``all``)
on the connection whose clock is at or before the moment. Asking at the start of earlier periods
gives the change since the last digest and the trend.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from domain.plan import ActionKind, ActionStatus, Finding
from domain.records import ObjectType
from store.claims import claim_key_of
from store.models import ActionRow, ClaimRow, FindingRow, RunRow, applied_actions
from store.recorded import planned_by, recorded_by

SETTLED_RUNS = ("finished", "stopped")
"""Runs whose findings are complete (a stopped run ran out of API budget while applying)."""
BATCH = 500
RuleJobs = Mapping[str, str]
"""Rule id -> the job that evaluates it."""


@dataclass(frozen=True)
class LedgerFinding:
    """A finding open at a moment, when the ledger first saw it, and each action its run planned for it."""

    finding: Finding
    first_seen: datetime
    actions: tuple[tuple[str, str], ...]
    """(action kind, status) in the order the run planned them."""


@dataclass(frozen=True)
class Assignment:
    object: ObjectType
    record_id: str
    reason: str
    at: datetime


def latest_rule_runs(session: Session, connection: str, rule_jobs: RuleJobs, at: datetime) -> dict[str, str]:
    """Rule id -> id of the latest settled run at or before ``at`` that evaluated it.

    A run stopped while it synced evaluated nothing, so it has no say.
    """
    by_rule: dict[str, str] = {}
    for job in set(rule_jobs.values()):
        stmt = (
            select(RunRow.id)
            .where(RunRow.connection == connection, RunRow.job.in_((job, "all")))
            .where(RunRow.status.in_(SETTLED_RUNS), RunRow.recorded.is_not(None), RunRow.now <= at)
            .order_by(RunRow.now.desc(), RunRow.started_at.desc())
            .limit(1)
        )
        run_id = session.scalar(stmt)
        if run_id is not None:
            by_rule.update({rule: run_id for rule, rule_job in rule_jobs.items() if rule_job == job})
    return by_rule


def counts_at(
    session: Session, connection: str, rule_jobs: RuleJobs, at: datetime
) -> Counter[tuple[str | None, str]] | None:
    """Open findings per (owner id, rule id) as the ledger stood at ``at``; None if no rule had run yet."""
    latest = latest_rule_runs(session, connection, rule_jobs, at)
    if not latest:
        return None
    counts: Counter[tuple[str | None, str]] = Counter()
    for run_id, rules in _rules_by_run(latest).items():
        stmt = (
            select(FindingRow.owner_id, FindingRow.rule, func.count())
            .where(recorded_by(FindingRow, session.get_one(RunRow, run_id), rules))
            .group_by(FindingRow.owner_id, FindingRow.rule)
        )
        counts.update({(owner, rule): n for owner, rule, n in session.execute(stmt)})
    return counts


def findings_at(session: Session, connection: str, rule_jobs: RuleJobs, at: datetime) -> list[LedgerFinding]:
    """The findings open at ``at``, each with when the ledger first saw it and the actions planned for it."""
    findings: list[tuple[Finding, str]] = []
    for run_id, rules in _rules_by_run(latest_rule_runs(session, connection, rule_jobs, at)).items():
        rows = session.scalars(select(FindingRow).where(recorded_by(FindingRow, session.get_one(RunRow, run_id), rules))
                               .order_by(FindingRow.id))
        findings.extend((_finding(row), run_id) for row in rows)
    first = _first_seen(session, connection, [f for f, _ in findings], at)
    planned = _actions_planned(session, connection, {run_id for _, run_id in findings})
    return [
        LedgerFinding(f, first.get((f.rule, f.record_id), at), tuple(planned.get((run_id, f.rule, f.record_id), ())))
        for f, run_id in findings
    ]


def assigned_since(session: Session, connection: str, owner_id: str, since: datetime) -> list[Assignment]:
    """Records reassigned to ``owner_id`` (applied in the CRM) since ``since``, oldest first."""
    new_owner = ActionRow.payload["owner_id"].as_string()
    stmt = (
        select(ActionRow.object, ActionRow.record_id, ActionRow.reason, ActionRow.updated_at)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, ActionRow.kind == ActionKind.REASSIGN.value)
        .where(applied_actions(), ActionRow.updated_at >= since, new_owner == owner_id)
        .order_by(ActionRow.updated_at, ActionRow.record_id)
    )
    return [Assignment(ObjectType(obj), rid, reason, at) for obj, rid, reason, at in session.execute(stmt)]


@dataclass(frozen=True)
class Reminder:
    key: str
    owner_id: str | None
    reason: str


REMINDER_SUFFIX = ":remind"
"""How an SLA reminder's idempotency key ends (``enforcement.sla``)."""


def reminders_applied(session: Session, connection: str, since: datetime) -> list[Reminder]:
    """The SLA reminders created in the CRM since ``since``, oldest first."""
    stmt = (
        select(ActionRow.key, ActionRow.payload, ActionRow.reason)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, ActionRow.kind == ActionKind.CREATE_TASK.value,
               applied_actions(), ActionRow.updated_at >= since,
               ActionRow.key.endswith(REMINDER_SUFFIX))
        .order_by(ActionRow.updated_at, ActionRow.id)
    )
    return [Reminder(key, payload.get("owner_id"), reason) for key, payload, reason in session.execute(stmt)]


def _rules_by_run(latest: dict[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for rule, run_id in latest.items():
        grouped[run_id].append(rule)
    return grouped


def _finding(row: FindingRow) -> Finding:
    return Finding(row.rule, ObjectType(row.object), row.record_id, row.owner_id, row.reason, row.evidence)


def _first_seen(
    session: Session, connection: str, findings: Collection[Finding], at: datetime
) -> dict[tuple[str, str], datetime]:
    """(rule, record id) -> the clock of the earliest run that found it.

    A run that failed after recording its findings counts: they were found, and a later settled run may carry them.
    """
    first: dict[tuple[str, str], datetime] = {}
    wanted = {(f.rule, f.record_id) for f in findings}
    record_ids = sorted({record_id for _, record_id in wanted})
    for start in range(0, len(record_ids), BATCH):
        stmt = (
            select(FindingRow.rule, FindingRow.record_id, func.min(RunRow.now))
            .join(RunRow, RunRow.id == FindingRow.run_id)
            .where(FindingRow.connection == connection, RunRow.now <= at)
            .where(FindingRow.record_id.in_(record_ids[start : start + BATCH]))
            .group_by(FindingRow.rule, FindingRow.record_id)
        )
        first.update({(r, i): seen for r, i, seen in session.execute(stmt) if (r, i) in wanted})
    return first


def _actions_planned(
    session: Session, connection: str, run_ids: Iterable[str]
) -> dict[tuple[str, str, str], list[tuple[str, str]]]:
    """(run id, rule, record id) -> (kind, status) of each action that run planned for the record.

    An action whose key an earlier run already applied (skipped, or planned again by a dry run) counts
    as applied: the change it stands for was made.
    """
    planned: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
    done = ClaimRow.status == ActionStatus.APPLIED.value
    for run_id in run_ids:
        stmt = (
            select(ActionRow.rule, ActionRow.record_id, ActionRow.kind, ActionRow.status, done)
            .outerjoin(ClaimRow, ClaimRow.key == claim_key_of(literal(connection), ActionRow.key))
            .where(planned_by(session.get_one(RunRow, run_id)))
        )
        for rule, record_id, kind, status, applied in session.execute(stmt.order_by(ActionRow.id)):
            planned[(run_id, rule, record_id)].append((kind, ActionStatus.APPLIED.value if applied else status))
    return planned
