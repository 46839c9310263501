"""The digest's sections beyond the open items: speed to first touch with its trend, and the monthly pipeline.

A manager's digest shows their reps' and team's speed-to-lead over the last 30 days, with the team's
median for new leads period by period; the first digest of each month also carries the pipeline's
shape (``notify.pipeline_report``) for their team.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from config.policy import Policy
from domain.records import Owner
from notify.periods import Period
from notify.pipeline_report import PipelineReport
from notify.reports import SLA_WINDOW_DAYS, SpeedData
from notify.sla_report import SlaReport, SpeedRow, sla_report

TREND_PERIODS = 6


@dataclass(frozen=True)
class SpeedSection:
    rows: list[SpeedRow]
    """The team's rows (then its reps'), leads first."""
    trend: list[tuple[str, float | None]]
    """(period, median business hours to first touch of the leads created in it), oldest first."""
    window_days: int = SLA_WINDOW_DAYS


def speed_window(now: datetime, period: Period) -> datetime:
    """The earliest creation time any section needs: 30 days back, or the oldest trend period."""
    return min(now - timedelta(days=SLA_WINDOW_DAYS), period.history(TREND_PERIODS)[0].starts)


class SpeedSections:
    """Each recipient's speed section, computing each company-wide window once."""

    def __init__(self, data: SpeedData, policy: Policy, connection: str, now: datetime) -> None:
        self._data, self._policy, self._connection, self._now = data, policy, connection, now
        self._reports: dict[tuple[datetime, datetime], SlaReport] = {}

    def section(self, owner_ids: set[str | None], period: Period) -> SpeedSection | None:
        """For the reps ``owner_ids``; None when none of them had new records in the window."""
        names, teams = _names_and_teams(self._data.owners, self._policy, owner_ids)
        recent = self._report(self._now - timedelta(days=SLA_WINDOW_DAYS), self._now)
        rows = [r for r in recent.rows
                if (r.scope == "team" and r.name in teams) or (r.scope == "rep" and r.name in names)]
        if not rows:
            return None
        rows.sort(key=lambda r: (r.object, r.scope != "team", r.name))
        scope, who = ("team", next(iter(teams))) if len(teams) == 1 else ("company", "All teams")
        trend = []
        for p in period.history(TREND_PERIODS):
            end = min(p.following().starts, self._now)
            row = next((r for r in self._report(p.starts, end).rows
                        if r.object == "lead" and r.scope == scope and r.name == who), None)
            trend.append(("now" if end == self._now else f"{p.day:%d %b}", row.median_hours if row else None))
        return SpeedSection(rows, trend if any(h is not None for _, h in trend) else [])

    def _report(self, since: datetime, until: datetime) -> SlaReport:
        if (since, until) not in self._reports:
            d = self._data
            self._reports[(since, until)] = sla_report(self._connection, until, since, self._policy, d.owners, d.new,
                                                       d.taken_from)
        return self._reports[(since, until)]


def pipeline_for(
    report: Callable[[], PipelineReport], owners: Mapping[str, Owner], policy: Policy, owner_ids: set[str | None],
) -> PipelineReport:
    """The pipeline report cut to a recipient's team and reps."""
    names, teams = _names_and_teams(owners, policy, owner_ids)
    return report().for_team(next(iter(teams)) if len(teams) == 1 else None, names)


def first_of_month(period: Period) -> bool:
    """The period whose digest carries the monthly pipeline section: the one a month's first day falls in."""
    days = 1 if period.cadence == "daily" else 7
    return any((period.day + timedelta(days=n)).day == 1 for n in range(days))


def _names_and_teams(
    owners: Mapping[str, Owner], policy: Policy, owner_ids: set[str | None]
) -> tuple[set[str], set[str]]:
    people = [owners[o] for o in owner_ids if o is not None and o in owners and not owners[o].is_queue]
    teams = {t.name for p in people if (t := policy.team_of(p.email)) is not None}
    return {p.name for p in people}, teams
