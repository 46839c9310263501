"""The digest run, which the CLI's ``warden digest`` calls.

Builds every manager's digest for the current period, writes previews, and sends through the
ledger so that each is delivered exactly once.
"""

from __future__ import annotations

import re
import ssl
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import structlog
from sqlalchemy.orm import Session, sessionmaker

from config.policy import DigestPolicy, Policy
from config.settings import SmtpSettings
from domain.connector import RecordLinks
from notify.assemble import assemble_digests
from notify.chart import render_chart
from notify.contents import Digest
from notify.delivery import deliver
from notify.render import compose, render_html
from notify.smtp import SmtpSender
from store.claims import already_sent
from store.ledger import UNSETTLEABLE_LEASE, Ledger

log = structlog.get_logger(__name__)
PREVIEW_SENDER = "crm-warden@localhost"
JOB = "digest"


class DigestConfigError(ValueError):
    """The digest cannot run as configured (no ``digest:`` block, no SMTP settings, a bad sender)."""


@dataclass(frozen=True)
class DigestOutcome:
    recipient: str
    subject: str
    key: str
    items: int
    status: str
    """``planned`` (dry run), ``previewed``, ``sent``, ``already sent``, ``failed``, ``not attempted``
    (the server went away first) or ``held`` (another run is sending it right now)."""
    error: str | None = None
    files: tuple[Path, ...] = ()
    """The preview's ``.eml`` and ``.html`` files."""


@dataclass
class DigestReport:
    connection: str
    now: datetime
    run_id: str | None = None
    """The ledger run that sent the digests (None when nothing was sent)."""
    digests: list[DigestOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[DigestOutcome]:
        return [d for d in self.digests if d.status in ("failed", "not attempted")]


def run_digest(
    sessions: sessionmaker[Session],
    policy: Policy,
    connection: str,
    now: datetime,
    *,
    smtp: SmtpSettings | None,
    preview_dir: Path | None,
    send: bool,
    link_base: RecordLinks,
    tls_context: ssl.SSLContext | None = None,
    run_id: str | None = None,
) -> DigestReport:
    """Build this period's digests of ``connection``; preview them into ``preview_dir``; send if ``send``.

    Without ``send`` nothing is written to the ledger. Deliveries go into a ledger run of their own,
    or into ``run_id`` when the caller opened one (the worker's digest job), which the caller ends.
    Problems (malformed manager addresses) are in the report and logged before anything is sent.
    """
    settings = _digest_settings(policy)
    sender = _check_sender(smtp, send)
    assembled = assemble_digests(sessions, policy, settings, connection, now, link_base)
    for problem in assembled.problems:
        log.warning("digest.address_problem", problem=problem)
    done = already_sent(sessions, connection, [d.key for d in assembled.digests]) if send else set()
    pending = [d for d in assembled.digests if d.key not in done]
    charts = {d.key: render_chart(d) for d in pending if not d.personal}
    letters = [(d, compose(d, sender or PREVIEW_SENDER, charts.get(d.key), now)) for d in pending]
    files = _write_previews(preview_dir, letters, charts) if preview_dir is not None else {}
    report = DigestReport(connection, now, problems=assembled.problems)
    statuses: dict[str, tuple[str, str | None]] = dict.fromkeys(done, ("already sent", None))
    if send and smtp is not None and letters:
        if run_id is None:
            report.run_id, delivered = _send(sessions, connection, now, letters, smtp, tls_context)
        else:
            ledger = Ledger(sessions, claim_lease=UNSETTLEABLE_LEASE)
            report.run_id, delivered = run_id, _deliver(ledger, run_id, letters, smtp, tls_context)
        statuses.update(delivered)
    unsent = ("previewed" if preview_dir is not None else "planned", None)
    report.digests = [
        DigestOutcome(d.recipient.email, d.subject, d.key, d.total, *statuses.get(d.key, unsent), files.get(d.key, ()))
        for d in assembled.digests
    ]
    return report


def _send(
    sessions: sessionmaker[Session],
    connection: str,
    now: datetime,
    letters: list[tuple[Digest, EmailMessage]],
    smtp: SmtpSettings,
    tls_context: ssl.SSLContext | None,
) -> tuple[str, dict[str, tuple[str, str | None]]]:
    """Deliver in a ledger run of its own; returns the run id and each digest's status and error."""
    ledger = Ledger(sessions, claim_lease=UNSETTLEABLE_LEASE)
    run_id = ledger.start_run(JOB, connection, dry_run=False, now=now)
    try:
        delivered = _deliver(ledger, run_id, letters, smtp, tls_context)
    except BaseException as exc:  # an interrupted run must end, so that its claims can be taken over
        ledger.finish_run(run_id, "failed", {}, error=f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish_run(run_id, "finished", {"digests": dict(Counter(status for status, _ in delivered.values()))})
    return run_id, delivered


def _deliver(
    ledger: Ledger,
    run_id: str,
    letters: list[tuple[Digest, EmailMessage]],
    smtp: SmtpSettings,
    tls_context: ssl.SSLContext | None,
) -> dict[str, tuple[str, str | None]]:
    with SmtpSender(smtp, tls_context) as transport:
        deliveries = deliver(ledger, run_id, letters, transport)
    return {d.key: (d.status, d.error) for d in deliveries}


def _digest_settings(policy: Policy) -> DigestPolicy:
    if policy.digest is None:
        raise DigestConfigError(
            "the policy has no digest: block; add one with at least fallback_recipient (and period, send_hour)"
        )
    return policy.digest


def _check_sender(smtp: SmtpSettings | None, send: bool) -> str | None:
    if smtp is None:
        if send:
            raise DigestConfigError("sending digests needs SMTP settings: set SMTP_HOST, SMTP_PORT and SMTP_SENDER")
        return None
    local, at, domain = smtp.sender.partition("@")
    if not (local and at and domain) or any(c.isspace() or c in "<>@," for c in local + domain):
        raise DigestConfigError(
            f"SMTP_SENDER={smtp.sender!r} is not an email address: set it to e.g. warden@example.com"
        )
    return smtp.sender


def _write_previews(
    folder: Path, letters: list[tuple[Digest, EmailMessage]], charts: dict[str, bytes]
) -> dict[str, tuple[Path, ...]]:
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, tuple[Path, ...]] = {}
    for digest, message in letters:
        stem = re.sub(r"[^a-z0-9]+", "-", digest.recipient.key).strip("-")
        stem = f"morning-{stem}" if digest.personal else stem
        eml, html, png = (folder / f"{stem}.{ext}" for ext in ("eml", "html", "png"))
        eml.write_bytes(message.as_bytes())
        if digest.key in charts:
            png.write_bytes(charts[digest.key])
        html.write_text(render_html(digest, png.name), encoding="utf-8")
        written[digest.key] = (eml, html)
    return written
