"""The digest run, which the CLI's ``warden digest`` calls.

Builds every manager's digest for the current period, writes previews, and sends through the
ledger so that each is delivered exactly once.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import ssl
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import structlog
from sqlalchemy.orm import Session, sessionmaker

from config.policy import DigestPolicy, Policy, looks_like_email
from config.settings import SmtpSettings
from domain.connector import RecordLinks
from notify.assemble import assemble_digests
from notify.chart import render_chart
from notify.chat import ChatMessage, reminders, summaries
from notify.chat_delivery import ChatTransport, deliver_chat
from notify.contents import Digest
from notify.delivery import deliver
from notify.render import compose, render_html
from notify.smtp import DeliveryError, SmtpSender
from store import mirror
from store.claims import already_sent
from store.findings import reminders_applied
from store.ledger import UNSETTLEABLE_LEASE, Ledger

log = structlog.get_logger(__name__)
PREVIEW_SENDER = "crm-warden@localhost"
REMINDER_LOOKBACK = timedelta(days=1)
"""SLA reminders applied this recently get their chat copy (each once, by its key)."""
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
    (the server went away first), ``held`` (another run is sending it right now) or ``test copy sent``."""
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
    chats: list[DigestOutcome] = field(default_factory=list)
    """Team chat messages: digest summaries and SLA reminders."""

    @property
    def failed(self) -> list[DigestOutcome]:
        return [d for d in (*self.digests, *self.chats) if d.status in ("failed", "not attempted")]


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
    test_to: str | None = None,
    chat: ChatTransport | None = None,
) -> DigestReport:
    """Build this period's digests of ``connection``; preview them into ``preview_dir``; send if ``send``.

    Without ``send`` nothing is written to the ledger. Deliveries go into a ledger run of their own,
    or into ``run_id`` when the caller opened one (the worker's digest job), which the caller ends.
    Problems (malformed manager addresses) are in the report and logged before anything is sent.
    ``test_to`` sends a copy of every digest to that one address instead, outside the ledger, so the
    real digests still go out. With ``chat``, teams with a chat channel also get their summary and the
    SLA reminders of the last day, each once.
    """
    settings = _digest_settings(policy)
    if test_to is not None and not looks_like_email(test_to):
        raise DigestConfigError(f"--to {test_to!r} is not an email address: write it as name@example.com")
    sender = _check_sender(smtp, send or test_to is not None)
    assembled = assemble_digests(sessions, policy, settings, connection, now, link_base)
    for problem in assembled.problems:
        log.warning("digest.address_problem", problem=problem)
    chats = _chat_messages(sessions, policy, connection, now, assembled.digests)
    keys = [d.key for d in assembled.digests] + [c.key for c in chats]
    done = already_sent(sessions, connection, keys) if send else set()
    pending = [d for d in assembled.digests if d.key not in done]
    pending_chats = [c for c in chats if c.key not in done] if chat is not None else []
    charts = {d.key: render_chart(d) for d in pending if not d.personal and not d.marketing_only}
    letters = [(d, compose(d, sender or PREVIEW_SENDER, charts.get(d.key), now)) for d in pending]
    files = _write_previews(preview_dir, letters, charts) if preview_dir is not None else {}
    report = DigestReport(connection, now, problems=assembled.problems)
    statuses: dict[str, tuple[str, str | None]] = dict.fromkeys(done, ("already sent", None))
    if test_to is not None and smtp is not None:
        statuses.update(_send_test_copies(letters, test_to, smtp, tls_context))
    if send and smtp is not None and (letters or pending_chats):
        outgoing = _Outgoing(letters, smtp, tls_context, pending_chats, chat)
        if run_id is None:
            report.run_id, delivered = _send(sessions, connection, now, outgoing)
        else:
            ledger = Ledger(sessions, claim_lease=UNSETTLEABLE_LEASE)
            report.run_id, delivered = run_id, _deliver(ledger, run_id, outgoing)
        statuses.update(delivered)
    unsent = ("previewed" if preview_dir is not None else "planned", None)
    report.digests = [
        DigestOutcome(d.recipient.email, d.subject, d.key, d.total, *statuses.get(d.key, unsent), files.get(d.key, ()))
        for d in assembled.digests
    ]
    report.chats = [DigestOutcome(f"team {c.team} ({c.channel.kind})", c.title, c.key, len(c.lines),
                                  *statuses.get(c.key, ("planned", None))) for c in chats]
    return report


@dataclass(frozen=True)
class _Outgoing:
    letters: list[tuple[Digest, EmailMessage]]
    smtp: SmtpSettings
    tls_context: ssl.SSLContext | None
    chats: list[ChatMessage]
    chat: ChatTransport | None


def _chat_messages(
    sessions: sessionmaker[Session], policy: Policy, connection: str, now: datetime, digests: list[Digest]
) -> list[ChatMessage]:
    if not any(t.chat for t in policy.teams):
        return []
    with sessions() as session:
        due = reminders_applied(session, connection, now - REMINDER_LOOKBACK)
        owners = mirror.owners(session, connection)
    return [*summaries(policy, connection, digests), *reminders(policy, connection, owners, due)]


def _send(
    sessions: sessionmaker[Session], connection: str, now: datetime, outgoing: _Outgoing
) -> tuple[str, dict[str, tuple[str, str | None]]]:
    """Deliver in a ledger run of its own; returns the run id and each digest's status and error."""
    ledger = Ledger(sessions, claim_lease=UNSETTLEABLE_LEASE)
    run_id = ledger.start_run(JOB, connection, dry_run=False, now=now)
    try:
        delivered = _deliver(ledger, run_id, outgoing)
    except BaseException as exc:  # an interrupted run must end, so that its claims can be taken over
        ledger.finish_run(run_id, "failed", {}, error=f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish_run(run_id, "finished", {"digests": dict(Counter(status for status, _ in delivered.values()))})
    return run_id, delivered


def _deliver(ledger: Ledger, run_id: str, outgoing: _Outgoing) -> dict[str, tuple[str, str | None]]:
    deliveries = []
    if outgoing.letters:
        with SmtpSender(outgoing.smtp, outgoing.tls_context) as transport:
            deliveries = deliver(ledger, run_id, outgoing.letters, transport)
    if outgoing.chats and outgoing.chat is not None:
        deliveries += deliver_chat(ledger, run_id, outgoing.chats, outgoing.chat)
    return {d.key: (d.status, d.error) for d in deliveries}


def _send_test_copies(
    letters: list[tuple[Digest, EmailMessage]], to: str, smtp: SmtpSettings, tls_context: ssl.SSLContext | None
) -> dict[str, tuple[str, str | None]]:
    """Each letter to ``to`` with a subject saying whose it is; nothing recorded, so nothing counts as sent."""
    statuses: dict[str, tuple[str, str | None]] = {}
    with SmtpSender(smtp, tls_context) as transport:
        for digest, message in letters:
            copy = copy_for(message, to, digest.recipient.email)
            try:
                transport.send(copy)
            except DeliveryError as exc:
                statuses[digest.key] = ("failed", str(exc))
            else:
                statuses[digest.key] = ("test copy sent", None)
    return statuses


def copy_for(message: EmailMessage, to: str, meant_for: str) -> EmailMessage:
    """``message`` readdressed to ``to``, its subject marked as a test copy of ``meant_for``'s."""
    copy = email.message_from_bytes(message.as_bytes(), _class=EmailMessage, policy=email.policy.default)
    assert isinstance(copy, EmailMessage)
    subject = str(copy["Subject"])
    del copy["To"], copy["Subject"], copy["Message-ID"]
    copy["To"] = to
    copy["Subject"] = f"[Test copy for {meant_for}] {subject}"
    copy["Message-ID"] = email.utils.make_msgid(domain="crm-warden")
    return copy


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
