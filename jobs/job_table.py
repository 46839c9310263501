"""Which jobs run for which CRM connection, and on what schedule, as the policy says.

Shared by the single worker, the Celery beat schedule and ``warden status`` so that all three
agree. A job's schedule is its connection's override if any, else every schedule its enabled
rules carry (the job fires when any of them does), in the company's time zone. With a ``digest:``
block each connection also runs the digest job, after its rule jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.policy import DigestPolicy, Policy
from config.policy_connections import ConnectionPolicy
from enforcement.registry import JOBS, rules_for
from jobs.digest_job import digest_schedule
from jobs.schedule import CronSchedule
from notify.digest import JOB as DIGEST_JOB


@dataclass(frozen=True)
class ScheduledJob:
    connection: ConnectionPolicy
    job: str
    schedule: CronSchedule

    @property
    def name(self) -> str:
        return f"{self.connection.name}/{self.job}"


def connections_of(policy: Policy, default_crm: str) -> tuple[ConnectionPolicy, ...]:
    """The policy's enabled connections; without a block, one named after ``default_crm`` (WARDEN_CRM)."""
    if policy.connections:
        return tuple(c for c in policy.connections if c.enabled)
    return (ConnectionPolicy.model_validate({"name": default_crm, "crm": default_crm}),)


def job_table(policy: Policy, default_crm: str) -> list[ScheduledJob]:
    """Every (connection, job) the policy schedules, connection by connection, jobs in a fixed order.

    Raises:
        ScheduleError: a rule's or connection's cron expression cannot be scheduled.
    """
    table: list[ScheduledJob] = []
    zone = policy.calendar.time_zone
    for connection in connections_of(policy, default_crm):
        for job in JOBS:
            rules = rules_for(policy, job)
            if not rules:
                continue
            override = connection.schedules.get(job)  # type: ignore[call-overload]
            expressions = (override,) if override else tuple(rule.schedule for rule, _ in rules)
            where = f"connections[{connection.name}].schedules.{job}" if override else f"rules of job {job!r}"
            table.append(ScheduledJob(connection, job, CronSchedule.parse(expressions, zone, where)))
        if policy.digest is not None:
            table.append(_digest_job(connection, policy.digest, zone))
    return table


def _digest_job(connection: ConnectionPolicy, settings: DigestPolicy, zone: str) -> ScheduledJob:
    override = connection.schedules.get("digest")
    where = f"connections[{connection.name}].schedules.digest" if override else "digest.schedule"
    expression = override or digest_schedule(settings)
    return ScheduledJob(connection, DIGEST_JOB, CronSchedule.parse((expression,), zone, where))
