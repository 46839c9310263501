"""Run one job (or, for Celery, one object's sync) for one connection under its lock.

The unit both the worker and Celery tasks execute.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from config.policy import FieldMaps, Policy
from config.policy_connections import ConnectionPolicy
from domain.connector import Connector, NoLinks
from domain.errors import BudgetExhausted, ConnectorError
from domain.progress import NO_PROGRESS, Progress
from domain.records import ObjectType
from jobs.aliases import with_aliases
from jobs.digest_job import DigestJob
from jobs.pipeline import run_job
from jobs.recovery import locks_of, rule_jobs, settle_interrupted
from jobs.shutdown import ShutdownFlag, ShutdownRequested, StoppingConnector
from notify.digest import JOB as DIGEST_JOB
from store import mirror
from store.locks import JobLocks, LockError

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
    findings: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    """How many planned actions ended in each status (applied, failed, would apply...)."""
    api_calls: int = 0
    api_calls_left: int | None = None
    """The CRM's daily API calls left after the run, when it says (Salesforce, HubSpot)."""


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
    progress: Progress = NO_PROGRESS
    """Hears how far each sync, rule pass and apply has come (``jobs.progress`` shows it)."""

    def run(self, job: str, connection: ConnectionPolicy, policy: Policy, now: datetime, *,
            fresh_since: datetime | None = None) -> JobOutcome:
        """Run ``job`` once for ``connection`` unless another process holds its lock.

        ``fresh_since``: the start of the pass (or flow) the job runs in; the object types a sync has
        covered since then are not synced again, so the jobs due together share one sync.
        """
        return self._under_lock(job, connection.name,
                                lambda: self._run_locked(job, connection, policy, now, fresh_since))

    def sync(self, obj: ObjectType, connection: ConnectionPolicy, policy: Policy, *,
             fresh_since: datetime | None = None) -> JobOutcome:
        """Bring one object type of the connection's mirror up to date, under the lock of that object's sync.

        Celery runs one such task per object type side by side before a connection's jobs; the
        jobs then read the mirror those syncs brought up to date. ``fresh_since`` as for ``run``.
        """
        job = f"sync:{obj.value}"
        return self._under_lock(job, connection.name,
                                lambda: self._sync_locked(job, (obj,), connection, policy, fresh_since))

    def _under_lock(self, job: str, connection: str, body: Callable[[], JobOutcome]) -> JobOutcome:
        started = self.timer()
        try:
            with self.locks.hold(job, connection) as taken:
                if not taken:
                    log.info("job.locked", job=job, connection=connection)
                    return JobOutcome(connection, job, "locked")
                outcome = body()
        except LockError as exc:  # a full disk may be freed: the next pass tries again
            log.error("job.failed", job=job, connection=connection, error=str(exc))
            return JobOutcome(connection, job, "failed", error=str(exc))
        seconds = self.timer() - started
        log.info("job.done", job=job, connection=connection, status=outcome.status, seconds=round(seconds, 3))
        return dataclasses.replace(outcome, job=job, seconds=seconds)

    def _sync_locked(self, job: str, objects: tuple[ObjectType, ...], connection: ConnectionPolicy,
                     policy: Policy, fresh_since: datetime | None) -> JobOutcome:
        try:
            inner = self.connector_for(connection, policy.fields)
        except (ConnectorError, ValueError) as exc:
            return JobOutcome(connection.name, job, "failed", error=str(exc))
        try:
            reader = with_aliases(StoppingConnector(inner, self.shutdown), policy)
            mirror.sync(reader, self.sessions, connection.name, objects, fresh_since=fresh_since,
                        progress=self.progress)
        except BudgetExhausted as exc:  # a shutdown too: the next sync resumes from the watermark
            return JobOutcome(connection.name, job, "stopped", error=str(exc))
        except Exception as exc:  # like a job's failure: logged, and the worker goes on
            return _failed(connection.name, job, exc)
        finally:
            _close(inner)
        return JobOutcome(connection.name, job, "finished")

    def _run_locked(self, job: str, connection: ConnectionPolicy, policy: Policy, now: datetime,
                    fresh_since: datetime | None) -> JobOutcome:
        if job == DIGEST_JOB:
            return self._run_digest(connection, policy, now)
        try:
            inner = self.connector_for(connection, policy.fields)
        except (ConnectorError, ValueError) as exc:
            log.error("job.connector_unavailable", job=job, connection=connection.name, error=str(exc))
            return JobOutcome(connection.name, job, "failed", error=str(exc))
        connector = StoppingConnector(inner, self.shutdown)
        try:
            self._recover(job, connection.name, connector, policy, now)
            result = run_job(job, connector=connector, connection=connection.name,
                             policy=policy, sessions=self.sessions, now=now, apply=self.apply,
                             fresh_since=fresh_since, outcomes=False, progress=self.progress)
        except ShutdownRequested as exc:
            return JobOutcome(connection.name, job, "stopped", error=str(exc))
        except Exception as exc:  # one job's failure must not stop the worker; run_job recorded it
            return _failed(connection.name, job, exc)
        finally:
            _close(inner)
        status = "stopped" if result.stopped else "failed" if result.errors else "finished"
        return JobOutcome(connection.name, job, status, result.run_id, result.stopped or "; ".join(result.errors),
                          findings=len(result.findings), actions=result.summary()["actions_by_status"],
                          api_calls=result.api_calls.get("total", 0), api_calls_left=inner.usage.daily_remaining)

    def _run_digest(self, connection: ConnectionPolicy, policy: Policy, now: datetime) -> JobOutcome:
        digests = self.digests or DigestJob(self.sessions, None, lambda c: NoLinks())
        try:
            run = digests.run(connection, policy, now, apply=self.apply)
        except Exception as exc:  # like a rule job's failure: logged, recorded, and the worker goes on
            return _failed(connection.name, DIGEST_JOB, exc)
        return JobOutcome(connection.name, DIGEST_JOB, run.status, run.run_id, run.error)

    def _recover(self, job: str, connection: str, connector: Connector, policy: Policy, now: datetime) -> None:
        """Close runs a dead process left open and settle from the CRM what earlier runs left in flight."""
        closed, settled = settle_interrupted(self.sessions, with_aliases(connector, policy), connection,
                                             locks_of(job), now, apply=self.apply, planned_by=rule_jobs(policy))
        if settled.runs:
            log.info("job.resumed", job=job, connection=connection, closed=closed, runs=settled.runs,
                     found_applied=settled.shown, applied=settled.applied, failed=settled.failed)


def _failed(connection: str, job: str, exc: Exception) -> JobOutcome:
    """A job that raised: logged with what went wrong in words (a JSON log line shows no traceback), and its outcome."""
    said = f"{type(exc).__name__}: {exc}"
    log.exception("job.failed", job=job, connection=connection, error=said)
    return JobOutcome(connection, job, "failed", error=said)


def _close(connector: Connector) -> None:
    close = getattr(connector, "close", None)
    if callable(close):
        close()
