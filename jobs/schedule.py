"""When a job is due: cron expressions read on the company's wall clock, right across DST.

Pure: every function takes the moment it reasons about. Cron fields are matched on local wall-clock
time (``croniter`` on naive local datetimes), then turned into instants:

- a wall time skipped by a spring-forward change fires at the same offset past the change (02:30
  on the night clocks jump 02:00 -> 03:00 fires at 03:30), so a daily job still runs that day;
- a wall time repeated by a fall-back change fires once, on its first occurrence, unless the
  expression runs every hour (hour field ``*``): then the repeated hour fires too, so a
  ``*/15`` job does not sit idle for an hour.

After downtime the missed fires collapse into one run (:func:`decide`), never replayed one by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from croniter import croniter

from config.cron import cron_problem

MISSED_COUNT_CAP = 1000
"""Counting missed fires stops here: after months down, "1000+" says enough."""


class ScheduleError(ValueError):
    """A cron expression or time zone in the policy that cannot be scheduled."""


@dataclass(frozen=True)
class CronSchedule:
    """One or more cron expressions (a job fires when any of them does) in one time zone."""

    expressions: tuple[str, ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, expressions: tuple[str, ...] | list[str], time_zone: str, where: str) -> CronSchedule:
        """Validate ``expressions``; ``where`` names their place in the policy for the error message."""
        if not expressions:
            raise ScheduleError(f"{where}: no cron expression given")
        for expression in expressions:
            problem = cron_problem(expression)
            if problem is not None:
                raise ScheduleError(f"{where}: {problem}")
        try:
            zone = ZoneInfo(time_zone)
        except (KeyError, ValueError):
            raise ScheduleError(f"{where}: unknown time zone {time_zone!r}: use an IANA name") from None
        return cls(tuple(dict.fromkeys(expressions)), zone)

    def next_after(self, moment: datetime) -> datetime:
        """The first fire strictly after ``moment`` (aware), as an aware UTC datetime."""
        return min(_next_fire(expression, self.zone, moment) for expression in self.expressions)

    def fires_between(self, start: datetime, end: datetime, limit: int = MISSED_COUNT_CAP) -> list[datetime]:
        """Fires in ``(start, end]``, oldest first, at most ``limit`` of them."""
        return list(islice(self._fires_after(start, end), limit))

    def _fires_after(self, start: datetime, end: datetime) -> Iterator[datetime]:
        moment = start
        while (fire := self.next_after(moment)) <= end:
            yield fire
            moment = fire


@dataclass(frozen=True)
class Decision:
    """What the scheduler should do about one job now."""

    due: bool
    next_fire: datetime
    """When the job fires next after this decision (after ``now`` when it runs now)."""
    missed: int = 0
    """Fires since the last run that this one run stands for (0 for a first run)."""


def decide(schedule: CronSchedule, last_run: datetime | None, now: datetime) -> Decision:
    """Whether a job whose previous run was at ``last_run`` is due at ``now``, coalescing missed fires.

    A job that never ran is due at once; otherwise it is due when a fire fell after its last run,
    and however many fell, it runs once.
    """
    if last_run is None:
        return Decision(due=True, next_fire=schedule.next_after(now))
    first = schedule.next_after(last_run)
    if first > now:
        return Decision(due=False, next_fire=first)
    missed = len(schedule.fires_between(last_run, now))
    return Decision(due=True, next_fire=schedule.next_after(now), missed=missed)


def _next_fire(expression: str, zone: ZoneInfo, moment: datetime) -> datetime:
    every_hour = expression.split()[1] == "*"
    local = moment.astimezone(zone).replace(tzinfo=None)
    # An hour back, so that fires in the second pass of a repeated hour are seen from its first pass.
    candidates = croniter(expression, local - timedelta(hours=1) if every_hour else local)
    found: list[datetime] = []
    while True:
        wall: datetime = candidates.get_next(datetime)
        first = _instant(wall, zone, fold=0)
        found.append(first)
        if every_hour and _is_repeated(wall, zone):
            found.append(_instant(wall, zone, fold=1))
        if first > moment:
            return min(f for f in found if f > moment)


def _instant(wall: datetime, zone: ZoneInfo, fold: int) -> datetime:
    return wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def _is_repeated(wall: datetime, zone: ZoneInfo) -> bool:
    """True for a wall time that happens twice (the hour a fall-back change repeats)."""
    first, second = _instant(wall, zone, 0), _instant(wall, zone, 1)
    return first != second and all(
        i.astimezone(zone).replace(tzinfo=None) == wall for i in (first, second)
    )
