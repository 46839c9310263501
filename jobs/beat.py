"""Celery beat on the policy's schedule, re-read while beat runs: a schedule edit needs no restart.

``PolicyScheduler`` is beat's usual persistent scheduler (last run times kept in the schedule
file) whose entries come from the policy file. Every ``policy_check_seconds`` it asks the
:class:`~jobs.policy_keeper.PolicyKeeper` for the policy; when the file changed and validates, the
entries are rebuilt (an entry whose cron did not change keeps its last run time); when an
edit does not validate the last good schedule goes on and the keeper logs why. Only a change of
``calendar.time_zone`` needs a restart, because Celery reads its time zone once. At each check beat
also leaves a heartbeat on a Redis broker, which ``warden status`` reads.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import structlog
from celery.beat import PersistentScheduler
from celery.schedules import crontab

from jobs.celery_flow import RUN_FLOW
from jobs.celery_watch import announce_beat
from jobs.policy_keeper import LoadedPolicy, NoGoodPolicyError, PolicyKeeper

log = structlog.get_logger(__name__)


def beat_schedule(loaded: LoadedPolicy) -> dict[str, dict[str, Any]]:
    """One beat entry per connection and cron expression, sending ``warden.run_flow`` for the jobs it fires.

    Jobs of one connection that fire together share one flow, so its objects are synced once.
    """
    fired: dict[tuple[str, str], list[str]] = {}
    for scheduled in loaded.jobs:
        for expression in scheduled.schedule.expressions:
            fired.setdefault((scheduled.connection.name, expression), []).append(scheduled.job)
    return {
        f"{connection}: {expression}": {
            "task": RUN_FLOW, "schedule": _crontab(expression), "args": (connection, tuple(jobs)),
        }
        for (connection, expression), jobs in fired.items()
    }


def _crontab(expression: str) -> crontab:
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    return crontab(minute, hour, day_of_week, day_of_month, month_of_year)


class PolicyScheduler(PersistentScheduler):  # type: ignore[misc]  # celery ships no type hints
    """Beat's persistent scheduler whose entries follow the policy file (``app.conf.warden_policy``)."""

    policy_check_seconds = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.keeper = PolicyKeeper(Path(kwargs["app"].conf.warden_policy), kwargs["app"].conf.warden_crm)
        self._loaded: LoadedPolicy | None = None
        self._checked_at = float("-inf")
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        super().setup_schedule()
        self.follow_policy()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Check the policy when it is time, then let beat send what is due; sleep no longer than the check interval."""
        if time.monotonic() - self._checked_at >= self.policy_check_seconds:
            self.follow_policy()
            self.announce()
        return min(float(super().tick(*args, **kwargs)), self.policy_check_seconds)

    def announce(self) -> None:
        """Leave beat's heartbeat on a Redis broker for ``warden status``; a missed one is logged, not fatal."""
        broker = str(self.app.conf.broker_url)
        if not broker.startswith(("redis://", "rediss://")):
            return
        try:
            announce_beat(broker, f"{socket.gethostname()}:{os.getpid()}", len(self.schedule), datetime.now(UTC))
        except redis.RedisError as exc:
            log.warning("beat.heartbeat_failed", error=str(exc))

    def follow_policy(self) -> bool:
        """Rebuild the entries if the policy changed and validates; True when they were rebuilt."""
        self._checked_at = time.monotonic()
        try:
            loaded = self.keeper.refresh()
        except NoGoodPolicyError as exc:
            log.error("beat.no_policy", reason=str(exc))
            return False
        if loaded is self._loaded:
            return False
        if self._loaded and loaded.policy.calendar.time_zone != self._loaded.policy.calendar.time_zone:
            log.warning("beat.time_zone_changed", zone=loaded.policy.calendar.time_zone,
                        running=str(self.app.conf.timezone), fix="restart celery-beat to use the new time zone")
        self._loaded = loaded
        self.merge_inplace(beat_schedule(loaded))
        self.install_default_entries(self.schedule)
        self.sync()
        log.info("beat.schedule_loaded", entries=len(self.schedule), policy=str(self.keeper.path))
        return True
