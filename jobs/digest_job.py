"""The managers' digests and reps' morning lists as a scheduled job of each connection.

Each run records itself in the ledger (so the schedule knows when it last ran) and builds the
digests of the period ``now`` falls in for every recipient. A dry run renders them and sends
nothing; an applying run sends those the ledger has not seen sent, so each goes out once per
recipient and period however often the job fires.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from config.policy import DigestPolicy, Policy
from config.policy_connections import ConnectionPolicy
from config.settings import Settings, SmtpSettings
from domain.connector import RecordLinks
from jobs.connections import ConnectionSettingsError, connection_links
from notify.chat_delivery import ChatTransport
from notify.digest import JOB, DigestConfigError, DigestReport, run_digest
from store.ledger import Ledger
from store.runs import close_abandoned_runs

log = structlog.get_logger(__name__)
EVERY_HOUR = "0 * * * *"
WEEKLY_SEND_DAYS = "0 * * * sun,mon,tue"
"""Every hour from Sunday to Tuesday in the company's zone covers Monday's send hour in any zone on Earth."""


def digest_schedule(settings: DigestPolicy) -> str:
    """The policy's ``schedule:``, else hourly: a period starts at ``send_hour`` in each recipient's zone."""
    if settings.schedule:
        return settings.schedule
    return EVERY_HOUR if settings.period == "daily" or settings.morning_list else WEEKLY_SEND_DAYS


def settings_links(settings: Settings) -> Callable[[ConnectionPolicy], RecordLinks]:
    """Record links of each connection's CRM, from its own settings (instance URL, portal id)."""
    return lambda connection: connection_links(settings, connection)


@dataclass(frozen=True)
class DigestRun:
    status: str
    """finished, or failed (a configuration problem, or a digest the server did not take)."""
    run_id: str
    error: str | None


@dataclass(frozen=True)
class DigestJob:
    sessions: sessionmaker[Session]
    smtp: SmtpSettings | None
    """None: the job can only render (a dry run); sending fails and says which settings are missing."""
    links: Callable[[ConnectionPolicy], RecordLinks]
    chat: ChatTransport | None = None
    """How team chat messages are posted (None: no chat, even for teams with a channel)."""

    def run(self, connection: ConnectionPolicy, policy: Policy, now: datetime, *, apply: bool) -> DigestRun:
        """Build this period's digests of ``connection``; send the unsent ones when ``apply``."""
        closed = close_abandoned_runs(self.sessions, JOB, connection.name, now)
        if closed:
            log.warning("digest.interrupted_runs_closed", crm=connection.name, runs=closed)
        ledger = Ledger(self.sessions)
        run_id = ledger.start_run(JOB, connection.name, dry_run=not apply, now=now)
        try:
            report = run_digest(self.sessions, policy, connection.name, now, smtp=self.smtp, preview_dir=None,
                                send=apply, link_base=self.links(connection), run_id=run_id, chat=self.chat)
        except (DigestConfigError, ConnectionSettingsError) as exc:
            ledger.finish_run(run_id, "failed", {}, error=str(exc))
            return DigestRun("failed", run_id, str(exc))
        except BaseException as exc:  # an interrupted run must end, so that its claims can be taken over
            ledger.finish_run(run_id, "failed", {}, error=f"{type(exc).__name__}: {exc}")
            raise
        error = _failures(report)
        ledger.finish_run(run_id, "failed" if error else "finished", _summary(report), error=error)
        return DigestRun("failed" if error else "finished", run_id, error)


def _summary(report: DigestReport) -> dict[str, object]:
    return {"digests": dict(Counter(d.status for d in report.digests)), "problems": report.problems}


def _failures(report: DigestReport) -> str | None:
    if not report.failed:
        return None
    return "; ".join(f"{d.recipient}: {d.status} ({d.error})" for d in report.failed)
