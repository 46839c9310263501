"""``warden worker``: one process that runs every job of every connection on the policy's schedule.

Each pass re-reads the policy, asks the schedule which jobs are due (missed fires collapse into
one run), and runs them one after another under their locks. Between passes it sleeps until the
next fire (at most ``idle_seconds``, so heartbeats keep coming; during a job a background thread beats
at the same interval). SIGTERM stops it after the current
CRM call; a job interrupted that way, or by a crash, runs again as soon as the worker starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import structlog
from sqlalchemy.exc import SQLAlchemyError

from jobs.heartbeat import beating
from jobs.job_runner import JobOutcome, JobRunner
from jobs.job_table import ScheduledJob
from jobs.policy_keeper import LoadedPolicy, PolicyKeeper
from jobs.schedule import Decision, decide
from store import collector
from store.db import checkpoint
from store.heartbeats import Heartbeat
from store.run_report import RunInfo
from store.runs import latest_runs

log = structlog.get_logger(__name__)


@dataclass
class Worker:
    keeper: PolicyKeeper
    runner: JobRunner
    heartbeat: Heartbeat
    clock: Callable[[], datetime]
    idle_seconds: float = 30.0
    on_outcome: Callable[[JobOutcome], None] = lambda _outcome: None
    on_progress: Callable[[bool, ScheduledJob | None], None] = lambda _policy_ok, _job: None
    """Called at each job start, every ``idle_seconds`` during a job and at each pass end, with whether
    the latest policy edit loaded and the job running (None at a pass end)."""
    settle: Callable[[], None] = collector.settle
    """Run after a pass that ran jobs, before the worker idles (``store.collector.settle``)."""
    _seen: set[str] = field(default_factory=set, init=False)

    def tick(self) -> list[JobOutcome]:
        """Run every job that is due now, once each; returns what happened to each.

        Jobs due together share one sync per connection: the first syncs the mirror, and the ones after
        it sync only what no sync has covered since the pass began (nothing, unless that sync stopped).
        """
        outcomes: list[JobOutcome] = []
        began = datetime.now(UTC)
        for scheduled in self._due(self._refresh()):
            if self.runner.shutdown.requested:
                break
            loaded = self._refresh()  # an edit made while earlier jobs ran applies to this one
            current = next((j for j in loaded.jobs if j.name == scheduled.name), None)
            if current is None:
                continue
            self._still_running(current)
            with beating(partial(self._still_running, current), self.idle_seconds):
                outcome = self.runner.run(current.job, current.connection, loaded.policy, self.clock(),
                                          fresh_since=began)
            self.on_outcome(outcome)
            outcomes.append(outcome)
        if outcomes:  # what would otherwise fall inside the next run: a full collection, copying SQLite's log
            self.settle()
            self._checkpoint()
        self._beat("stopping" if self.runner.shutdown.requested else "idle")
        self.on_progress(self.keeper.error is None, None)
        return outcomes

    def _checkpoint(self) -> None:
        """Copy SQLite's log into the database; if the database refuses, SQLite copies it later (nothing is lost)."""
        try:
            checkpoint(self.runner.sessions.kw["bind"])
        except SQLAlchemyError as exc:
            log.warning("worker.checkpoint_failed", error=str(exc).splitlines()[0])

    def run_forever(self) -> None:
        """Tick until SIGTERM; sleep between ticks until the next fire or the heartbeat interval."""
        log.info("worker.started", worker=self.heartbeat.worker_id, apply=self.runner.apply)
        while not self.runner.shutdown.requested:
            self.tick()
            self.runner.shutdown.wait(self.seconds_until_next_fire())
        self._beat("stopped")
        log.info("worker.stopped", worker=self.heartbeat.worker_id, reason=self.runner.shutdown.signal_name)

    def seconds_until_next_fire(self) -> float:
        now = self.clock()
        decisions = [d for _, d in self._decisions(self._refresh(), now)]
        soonest = min((d.next_fire for d in decisions), default=now + timedelta(seconds=self.idle_seconds))
        return min(max((soonest - now).total_seconds(), 0.0), self.idle_seconds)

    def _due(self, loaded: LoadedPolicy) -> list[ScheduledJob]:
        due = [job for job, decision in self._decisions(loaded, self.clock()) if decision.due]
        self._seen.update(job.name for job in loaded.jobs)
        return due

    def _decisions(self, loaded: LoadedPolicy, now: datetime) -> list[tuple[ScheduledJob, Decision]]:
        runs = latest_runs(self.runner.sessions)
        return [(job, self._decide(job, runs.get((job.connection.name, job.job)), now)) for job in loaded.jobs]

    def _decide(self, job: ScheduledJob, last: RunInfo | None, now: datetime) -> Decision:
        if last is not None and last.status != "finished" and job.name not in self._seen:
            log.info("job.resuming", job=job.job, connection=job.connection.name, last_run=last.id,
                     last_status=last.status)
            return Decision(due=True, next_fire=job.schedule.next_after(now))
        decision = decide(job.schedule, last.now if last else None, now)
        if decision.missed > 1:
            log.info("job.coalesced", job=job.job, connection=job.connection.name, missed=decision.missed)
        return decision

    def _refresh(self) -> LoadedPolicy:
        return self.keeper.refresh()

    def _still_running(self, job: ScheduledJob) -> None:
        self._beat("running", job)
        self.on_progress(self.keeper.error is None, job)

    def _beat(self, state: str, job: ScheduledJob | None = None) -> None:
        """Record the worker's state; a ledger that refuses the write (a full disk) is logged, not fatal."""
        try:
            self.heartbeat.beat(
                state, job=job.job if job else None, connection=job.connection.name if job else None,
                policy_source=str(self.keeper.path), policy_error=self.keeper.error,
            )
        except SQLAlchemyError as exc:
            log.warning("heartbeat.failed", error=str(exc))
