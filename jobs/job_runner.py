"""Run one job for one connection under its lock: the unit both the worker and Celery tasks execute."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from config.connections import ConnectionPolicy
from config.policy import FieldMaps, Policy
from connectors.base import Connector
from connectors.errors import ConnectorError
from jobs.digest_job import DigestJob
from jobs.locks import JobLocks
from jobs.pipeline import run_job
from jobs.recovery import finish_dependents, settle_shown_writes
from jobs.run_state import close_abandoned_runs, unfinished_runs
from jobs.shutdown import ShutdownFlag, ShutdownRequested, StoppingConnector
from notify.digest import JOB as DIGEST_JOB
from notify.links import links_for
from store import mirror

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    connection: str
    job: str
    status: str
    """finished, stopped (shutdown or API budget: resumes next run), failed, or locked (another
    process is running it)."""
    run_id: str | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class JobRunner:
    sessions: sessionmaker[Session]
    locks: JobLocks
    connector_for: Callable[[ConnectionPolicy, FieldMaps], Connector]
    """Opens a connection's connector with the policy's custom field maps."""
    apply: bool
    shutdown: ShutdownFlag = field(default_factory=ShutdownFlag)
    timer: Callable[[], float] = time.perf_counter
    digests: DigestJob | None = None
    """Builds and sends the digest job's emails; None: render only, as without SMTP settings."""

    def run(self, job: str, connection: ConnectionPolicy, policy: Policy, now: datetime) -> JobOutcome:
        """Run ``job`` once for ``connection`` unless another process holds its lock."""
        started = self.timer()
        with self.locks.hold(job, connection.name) as taken:
            if not taken:
                log.info("job.locked", job=job, crm=connection.name)
                return JobOutcome(connection.name, job, "locked")
            outcome = self._run_locked(job, connection, policy, now)
        seconds = self.timer() - started
        log.info("job.done", job=job, crm=connection.name, status=outcome.status, seconds=round(seconds, 3))
        return JobOutcome(outcome.connection, job, outcome.status, outcome.run_id, outcome.error, seconds)

    def _run_locked(self, job: str, connection: ConnectionPolicy, policy: Policy, now: datetime) -> JobOutcome:
        if job == DIGEST_JOB:
            return self._run_digest(connection, policy, now)
        try:
            inner = self.connector_for(connection, policy.fields)
        except (ConnectorError, ValueError) as exc:
            log.error("job.connector_unavailable", job=job, crm=connection.name, error=str(exc))
            return JobOutcome(connection.name, job, "failed", error=str(exc))
        connector = StoppingConnector(inner, self.shutdown)
        try:
            self._recover(job, connection.name, connector, now)
            result = run_job(job, connector=connector, connection=connection.name,
                             policy=policy, sessions=self.sessions, now=now, apply=self.apply)
        except ShutdownRequested as exc:
            return JobOutcome(connection.name, job, "stopped", error=str(exc))
        except Exception as exc:  # one job's failure must not stop the worker; run_job recorded it
            log.exception("job.failed", job=job, crm=connection.name)
            return JobOutcome(connection.name, job, "failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            _close(inner)
        status = "stopped" if result.stopped else "failed" if result.errors else "finished"
        return JobOutcome(connection.name, job, status, result.run_id, result.stopped or "; ".join(result.errors))

    def _run_digest(self, connection: ConnectionPolicy, policy: Policy, now: datetime) -> JobOutcome:
        digests = self.digests or DigestJob(self.sessions, None, lambda c: links_for(c.crm))
        try:
            run = digests.run(connection, policy, now, apply=self.apply)
        except Exception as exc:  # like a rule job's failure: logged, recorded, and the worker goes on
            log.exception("job.failed", job=DIGEST_JOB, crm=connection.name)
            return JobOutcome(connection.name, DIGEST_JOB, "failed", error=f"{type(exc).__name__}: {exc}")
        return JobOutcome(connection.name, DIGEST_JOB, run.status, run.run_id, run.error)

    def _recover(self, job: str, connection: str, connector: Connector, now: datetime) -> None:
        """Close runs a dead process left open and finish what stopped or dead runs left half done."""
        abandoned = close_abandoned_runs(self.sessions, job, connection, now)
        if abandoned:
            mirror.sync(connector, self.sessions, connection)
            settled = settle_shown_writes(self.sessions, connection, abandoned)
            log.warning("job.interrupted_runs_closed", job=job, crm=connection, runs=abandoned, writes_found=settled)
        unfinished = unfinished_runs(self.sessions, job, connection)
        if unfinished and self.apply:
            applied = finish_dependents(self.sessions, connector, unfinished)
            log.info("job.resumed", job=job, crm=connection, runs=unfinished, applied=applied)


def _close(connector: Connector) -> None:
    close = getattr(connector, "close", None)
    if callable(close):
        close()
