"""The pipeline's shape: the waterfall of consecutive stages and each rep's forecasting habit.

Seed 000 asks for "a waterfall model that indicates each major phases of lead and deal maturation,
with approximate times and conversion ratios for each major step"; seed 002 for knowing "the
tendencies of each salesperson" when reading a forecast. Pure: built from each record's stage
history, its current state, and the policy, so a test recomputes the same figures from the records.

- A record reached a stage if its history shows it in that stage or any later one (a skipped stage
  was passed through). Of those that reached a stage and are decided there, the conversion is the
  share that went on to a later stage; a record is decided at its furthest stage once it closed
  there without winning. Records still open in a stage are not counted for that step yet.
- Time in a stage is from entering it to entering the next different stage (closing lost included),
  over the stays that ended: the median in days, with how many stays it is taken over.
- A rep's tendency is over their won deals: slip is the days from the close date first forecast to
  the day the deal was won; the amount change is from the first amount forecast to the amount won.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from config.policy import Policy, Stage, StaleDealRule, StaleLeadRule
from domain.records import Lead, ObjectType, Opportunity, Owner, StageChange


@dataclass(frozen=True)
class Step:
    stage: str
    next_stage: str
    reached: int
    advanced: int
    dropped: int
    conversion: float | None
    """Percent of the decided records that went on; None when none is decided yet."""
    benchmark_conversion: float | None
    """What the policy's fixed stage probabilities (seed 002) imply, percent; None without them."""
    median_days: float | None
    stays: int
    benchmark_days: float | None
    """The policy's limit on time in this stage (a stale rule's days), if any."""


@dataclass(frozen=True)
class Waterfall:
    object: str
    scope: str
    """``company``, ``team`` or ``rep``."""
    name: str
    steps: list[Step]


@dataclass(frozen=True)
class Tendency:
    rep: str
    owner_id: str
    team: str | None
    won_deals: int
    median_slip_days: float | None
    """Positive: won later than first forecast."""
    median_amount_change: float | None
    """Percent; negative: won for less than first forecast."""


@dataclass
class PipelineReport:
    connection: str
    as_of: datetime
    waterfalls: list[Waterfall] = field(default_factory=list)
    tendencies: list[Tendency] = field(default_factory=list)

    def for_team(self, team: str | None, reps: Iterable[str]) -> PipelineReport:
        """The part of the report about one team (None: the company's) and its reps (``reps``: owner names)."""
        names = set(reps)
        wanted = ("team", team) if team is not None else ("company", "All teams")
        return PipelineReport(
            self.connection, self.as_of,
            [w for w in self.waterfalls if (w.scope, w.name) == wanted or (w.scope == "rep" and w.name in names)],
            [t for t in self.tendencies if t.rep in names],
        )


def pipeline_report(
    connection: str,
    as_of: datetime,
    policy: Policy,
    owners: Mapping[str, Owner],
    records: Mapping[ObjectType, Sequence[Lead | Opportunity]],
    histories: Mapping[ObjectType, Mapping[str, list[StageChange]]],
) -> PipelineReport:
    """The waterfall per object for the company, each team and each rep, and each rep's tendency."""
    report = PipelineReport(connection, as_of)
    for obj, found in records.items():
        for label, stages, cycle in _cycles(policy, obj, found):
            order = _stage_order(stages)
            if len(order) < 2 or not cycle:
                continue
            paths = {r.id: _path(obj, r, histories.get(obj, {}).get(r.id, []), order) for r in cycle}
            for scope, name, members in _scopes(policy, owners, cycle):
                steps = _steps(order, [paths[r.id] for r in members], policy, obj)
                report.waterfalls.append(Waterfall(label, scope, name, steps))
    deals = [r for r in records.get(ObjectType.OPPORTUNITY, ()) if isinstance(r, Opportunity)]
    report.tendencies = _tendencies(policy, owners, deals, histories.get(ObjectType.OPPORTUNITY, {}))
    return report


def _cycles(
    policy: Policy, obj: ObjectType, records: Sequence[Lead | Opportunity]
) -> list[tuple[str, tuple[Stage, ...], list[Lead | Opportunity]]]:
    """(label, stages, records) per sales cycle: the leads; deals of the default stages; each pipeline's own."""
    if obj is ObjectType.LEAD:
        return [("lead", policy.stages.lead, list(records))]
    own = {p.name.strip().lower(): p for p in policy.stages.pipelines}
    by_pipeline: dict[str, list[Lead | Opportunity]] = defaultdict(list)
    for record in records:
        pipeline = (getattr(record, "pipeline", None) or "").strip().lower()
        by_pipeline[pipeline if pipeline in own else ""].append(record)
    return [("opportunity", policy.stages.opportunity, by_pipeline[""]),
            *((f"opportunity ({own[key].name})", own[key].opportunity, by_pipeline[key]) for key in sorted(own))]


def _stage_order(stages: tuple[Stage, ...]) -> list[Stage]:
    """The open stages in the policy's order, then the won ones: the steps of the waterfall."""
    return [s for s in stages if not s.closed] + [s for s in stages if s.won]


@dataclass(frozen=True)
class _Path:
    stays: list[tuple[int, float]]
    """(index in the stage order, days) of each ended stay in a step of the waterfall."""
    furthest: int
    closed_lost: bool


def _path(obj: ObjectType, record: Lead | Opportunity, history: list[StageChange], order: list[Stage]) -> _Path:
    index = {s.name: i for i, s in enumerate(order)}
    changes = history or [StageChange(obj, record.id, _changed(record) or record.created_at, _stage(record))]
    visits: list[tuple[str | None, datetime]] = []
    for change in changes:
        if not visits or visits[-1][0] != change.stage:
            visits.append((change.stage, change.entered_at))
    stays = [(index[stage], (left - entered).total_seconds() / 86400)
             for (stage, entered), (_, left) in pairwise(visits) if stage is not None and stage in index]
    furthest = max((index[stage] for stage, _ in visits if stage is not None and stage in index), default=-1)
    return _Path(stays, furthest, _is_lost(record, order))


def _stage(record: Lead | Opportunity) -> str | None:
    return record.status if isinstance(record, Lead) else record.stage


def _changed(record: Lead | Opportunity) -> datetime | None:
    return record.status_changed_at if isinstance(record, Lead) else record.stage_changed_at


def _is_lost(record: Lead | Opportunity, order: list[Stage]) -> bool:
    if isinstance(record, Opportunity):
        return record.is_closed and not record.is_won
    return record.status is not None and record.status not in {s.name for s in order}


def _steps(order: list[Stage], paths: list[_Path], policy: Policy, obj: ObjectType) -> list[Step]:
    stays = _stays(paths)
    steps = []
    for i, (stage, following) in enumerate(pairwise(order)):
        reached = [p for p in paths if p.furthest >= i]
        advanced = sum(p.furthest > i for p in reached)
        dropped = sum(p.furthest == i and p.closed_lost for p in reached)
        decided = advanced + dropped
        days = stays.get(i, [])
        steps.append(Step(
            stage.name, following.name, len(reached), advanced, dropped,
            round(100 * advanced / decided, 1) if decided else None,
            _implied(stage, following),
            round(statistics.median(days), 1) if days else None, len(days),
            _limit(policy, obj, stage.name),
        ))
    return steps


def _stays(paths: list[_Path]) -> dict[int, list[float]]:
    stays: dict[int, list[float]] = defaultdict(list)
    for path in paths:
        for stage, days in path.stays:
            stays[stage].append(days)
    return stays


def _implied(stage: Stage, following: Stage) -> float | None:
    if not stage.probability or not following.probability:
        return None
    return round(min(100.0, 100 * stage.probability / following.probability), 1)


def _limit(policy: Policy, obj: ObjectType, stage: str) -> float | None:
    for rule in policy.rules:
        if not rule.enabled:
            continue
        if obj is ObjectType.OPPORTUNITY and isinstance(rule, StaleDealRule):
            return float(rule.after_days)
        if obj is ObjectType.LEAD and isinstance(rule, StaleLeadRule) and stage in rule.statuses:
            return float(rule.after_days)
    return None


def _scopes(
    policy: Policy, owners: Mapping[str, Owner], records: Sequence[Lead | Opportunity]
) -> list[tuple[str, str, list[Lead | Opportunity]]]:
    by_team: dict[str, list[Lead | Opportunity]] = defaultdict(list)
    by_rep: dict[str, list[Lead | Opportunity]] = defaultdict(list)
    for record in records:
        owner = owners.get(record.owner_id or "")
        if owner is None or owner.is_queue:
            continue
        by_rep[owner.name].append(record)
        team = policy.team_of(owner.email)
        if team is not None:
            by_team[team.name].append(record)
    return [("company", "All teams", list(records)),
            *(("team", name, found) for name, found in sorted(by_team.items())),
            *(("rep", name, found) for name, found in sorted(by_rep.items()))]


def _tendencies(policy: Policy, owners: Mapping[str, Owner], deals: Sequence[Opportunity],
                histories: Mapping[str, list[StageChange]]) -> list[Tendency]:
    slips: dict[str, list[float]] = defaultdict(list)
    changes: dict[str, list[float]] = defaultdict(list)
    won: dict[str, int] = defaultdict(int)
    for deal in deals:
        history = histories.get(deal.id, [])
        owner_id = deal.owner_id
        if not deal.is_won or owner_id is None or owner_id not in owners or not history:
            continue
        won[owner_id] += 1
        first_close = next((c.close_date for c in history if c.close_date is not None), None)
        won_on = next((c.entered_at for c in history if c.stage == deal.stage), deal.stage_changed_at)
        if first_close is not None and won_on is not None:
            slips[owner_id].append(float((won_on.date() - first_close).days))
        amounts = [c.amount for c in history if c.amount is not None]
        if amounts and amounts[0]:
            changes[owner_id].append(100 * (amounts[-1] - amounts[0]) / amounts[0])
    tendencies = []
    for owner_id in sorted(won, key=lambda o: owners[o].name):
        owner = owners[owner_id]
        team = policy.team_of(owner.email)
        tendencies.append(Tendency(
            owner.name, owner_id, team.name if team else None, won[owner_id],
            round(statistics.median(slips[owner_id]), 1) if slips[owner_id] else None,
            round(statistics.median(changes[owner_id]), 1) if changes[owner_id] else None,
        ))
    return tendencies
