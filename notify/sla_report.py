"""Speed-to-lead and SLA health: how fast each rep first touches new leads and opportunities.

Seed 001: "new leads that get called within 2 hours have a 4x higher closing rate ... how fast they
get that first call in on it?" Pure: built from the new records, their first completed activity,
their stage history and the ledger's SLA reassignments, so a test recomputes it from the records.

- The first touch is the earliest of a completed activity after the record was created and its
  first stage (status) change; the time to it is business hours in the owner's zone.
- A record counts for the rep who owned it first: the owner an SLA reassignment took it from, else
  its owner now.
- Attainment is the share of records whose SLA clock has run out or that were touched, touched
  within the policy's ``within``; records still inside their clock and untouched are not counted.
- Reassignments suffered: SLA reassignments applied that took a record from the rep, in the window.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from config.policy import Policy, SlaRule
from domain.records import Lead, ObjectType, Opportunity, Owner, StageChange
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext


@dataclass(frozen=True)
class SpeedRow:
    object: str
    scope: str
    """``company``, ``team`` or ``rep``."""
    name: str
    new: int
    touched: int
    median_hours: float | None
    p90_hours: float | None
    """90th percentile, linear between the closest ranks."""
    attainment: float | None
    """Percent of the judged records touched within the SLA."""
    judged: int
    reassignments: int
    sla_hours: str | None
    """The policy's SLA for the object, in words (``2 business hours``), the benchmark."""


@dataclass
class SlaReport:
    connection: str
    as_of: datetime
    since: datetime
    rows: list[SpeedRow] = field(default_factory=list)


@dataclass(frozen=True)
class NewRecords:
    """One object's records created in the window and what the report needs about each."""

    records: Sequence[Lead | Opportunity]
    first_activity: Mapping[str, datetime]
    histories: Mapping[str, list[StageChange]]


@dataclass(frozen=True)
class _Judged:
    owner: Owner | None
    hours: float | None
    attained: bool | None


def sla_report(
    connection: str,
    as_of: datetime,
    since: datetime,
    policy: Policy,
    owners: Mapping[str, Owner],
    new: Mapping[ObjectType, NewRecords],
    taken_from: Sequence[tuple[str, str, str | None, datetime]],
) -> SlaReport:
    """Rows per object for the company, each team and each rep (sorted by name), over records created in the window.

    ``taken_from``: (object, record id, owner it was taken from, when) of each applied SLA reassignment.
    """
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), as_of, owners)
    report = SlaReport(connection, as_of, since)
    for obj, found in new.items():
        mine = [(record_id, owner_id, at) for kind, record_id, owner_id, at in taken_from if kind == obj.value]
        first_owner: dict[str, str | None] = {}
        for record_id, owner_id, _ in mine:
            first_owner.setdefault(record_id, owner_id)
        suffered: dict[str | None, int] = defaultdict(int)
        for _, owner_id, at in mine:
            if since <= at <= as_of:
                suffered[owner_id] += 1
        rule = next((r for r in policy.rules if isinstance(r, SlaRule) and r.enabled and r.object == obj.value), None)
        judged = [_judge(ctx, rule, r, found, first_owner.get(r.id, r.owner_id))
                  for r in found.records if since <= r.created_at <= as_of]
        for scope, name, members in _scopes(ctx, judged):
            report.rows.append(_row(obj, scope, name, members, rule, _lost(scope, members, suffered)))
    return report


def _lost(scope: str, members: list[_Judged], suffered: Mapping[str | None, int]) -> int:
    if scope == "company":
        return sum(suffered.values())
    owners = {j.owner.id for j in members if j.owner is not None}
    return sum(n for owner_id, n in suffered.items() if owner_id in owners)


def _judge(ctx: RuleContext, rule: SlaRule | None, record: Lead | Opportunity, found: NewRecords,
           owner_id: str | None) -> _Judged:
    owner = ctx.owner(owner_id)
    zone = ctx.time_zone(owner)
    touched = _first_touch(record, found)
    hours = ctx.calendar.business_hours_between(record.created_at, touched, zone) if touched else None
    if rule is None:
        return _Judged(owner, hours, None)
    due = ctx.calendar.deadline(record.created_at, rule.within, zone)
    if touched is not None:
        return _Judged(owner, hours, touched <= due)
    return _Judged(owner, None, False if ctx.now >= due else None)


def _first_touch(record: Lead | Opportunity, found: NewRecords) -> datetime | None:
    moments = []
    if record.id in found.first_activity:
        moments.append(found.first_activity[record.id])
    history = found.histories.get(record.id, [])
    first_stage = history[0].stage if history else None
    moved = next((c.entered_at for c in history if c.stage != first_stage and c.entered_at > record.created_at), None)
    if moved is None and not history:
        changed = record.status_changed_at if isinstance(record, Lead) else record.stage_changed_at
        moved = changed if changed is not None and changed > record.created_at else None
    if moved is not None:
        moments.append(moved)
    return min(moments) if moments else None


def _scopes(ctx: RuleContext, judged: list[_Judged]) -> list[tuple[str, str, list[_Judged]]]:
    by_team: dict[str, list[_Judged]] = defaultdict(list)
    by_rep: dict[str, list[_Judged]] = defaultdict(list)
    for j in judged:
        if j.owner is None or j.owner.is_queue:
            continue
        by_rep[j.owner.name].append(j)
        team = ctx.team_of(j.owner)
        if team is not None:
            by_team[team.name].append(j)
    return [("company", "All teams", judged), *(("team", n, m) for n, m in sorted(by_team.items())),
            *(("rep", n, m) for n, m in sorted(by_rep.items()))]


def _row(obj: ObjectType, scope: str, name: str, members: list[_Judged], rule: SlaRule | None, lost: int) -> SpeedRow:
    hours = sorted(j.hours for j in members if j.hours is not None)
    judged = [j.attained for j in members if j.attained is not None]
    return SpeedRow(
        obj.value, scope, name, len(members), len(hours),
        round(statistics.median(hours), 2) if hours else None,
        round(_p90(hours), 2) if hours else None,
        round(100 * sum(judged) / len(judged), 1) if judged else None, len(judged), lost,
        rule.within.describe() if rule else None,
    )


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]
