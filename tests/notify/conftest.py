"""Fixtures for the digest tests: a ledger on a SQLite file, a small org, and a real SMTP server."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy.orm import Session, sessionmaker

from config.policy import DigestPolicy, Policy, SlaRule, Team
from domain.plan import Finding
from domain.records import ObjectType
from store.db import make_engine, migrate, session_factory
from store.ledger import Ledger
from store.models import OwnerRow

CONNECTION = "crm"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
"""A Friday afternoon in New York; the weekly period started Monday 16 Nov at 08:00 local."""

OWNERS = [
    # id, name, email, manager_id
    ("005M1", "Maria Lopez", "maria.lopez@example.com", None),
    ("005M2", "Kenji Sato", "kenji.sato@", None),
    ("005A", "Alex Carter", "alex.carter@example.com", "005M1"),
    ("005J", "Jordan Blake", "jordan.blake@example.com", None),
    ("005C", "Chris Nguyen", "chris.nguyen@example.com", "005M2"),
    ("005L", "Lone Ranger", "lone.ranger@example.com", None),
]
"""Alex reports to Maria in the CRM; Jordan through the policy's East team; Chris's manager Kenji
has a malformed address in the CRM; Lone Ranger has no manager at all."""


def make_policy(**digest: Any) -> Policy:
    rules = [
        SlaRule.model_validate({"id": "sla-opp", "kind": "sla", "object": "opportunity",
                                "within": {"business_days": 4}, "reassign_to": {"kind": "manager"},
                                "task": {"subject": "Act on it"}}),
        SlaRule.model_validate({"id": "sla-lead", "kind": "sla", "object": "lead",
                                "within": {"business_hours": 2}, "reassign_to": {"kind": "manager"},
                                "task": {"subject": "Call it"}}),
    ]
    teams = [
        Team(name="East", manager="maria.lopez@example.com",
             members=("alex.carter@example.com", "jordan.blake@example.com")),
    ]
    settings = {"period": "weekly", "send_hour": 8, "fallback_recipient": "ops@example.com", **digest}
    return Policy(teams=tuple(teams), rules=tuple(rules), digest=DigestPolicy.model_validate(settings))


@dataclass
class Org:
    """A ledger and mirror to write findings into, run by run."""

    sessions: sessionmaker[Session]
    runs: list[str] = field(default_factory=list)

    def finding_run(self, at: datetime, findings: list[Finding], job: str = "all") -> str:
        ledger = Ledger(self.sessions, clock=lambda: at)
        run_id = ledger.start_run(job, CONNECTION, dry_run=True, now=at)
        ledger.record_findings(run_id, findings)
        ledger.finish_run(run_id, "finished", {})
        self.runs.append(run_id)
        return run_id


def finding(rule: str, record_id: str, owner_id: str | None, obj: ObjectType = ObjectType.OPPORTUNITY) -> Finding:
    label = f"{obj.value.capitalize()} 'Record {record_id}'"
    return Finding(rule, obj, record_id, owner_id, f"{label}: its owner did not act on it in time", {})


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'warden.db'}")
    migrate(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        for owner_id, name, email, manager_id in OWNERS:
            session.add(OwnerRow(connection=CONNECTION, id=owner_id, name=name, email=email, active=True,
                                 is_queue=False, manager_id=manager_id, time_zone=None, updated_at=None))
    return factory


@pytest.fixture
def org(sessions: sessionmaker[Session]) -> Org:
    """Last week: Alex 2, Jordan 1. This week: Alex 3 (2 opp + 1 lead), Jordan 1, Chris 2, Lone 1, unowned 1."""
    org = Org(sessions)
    week_ago = NOW - timedelta(days=7)
    org.finding_run(week_ago, [finding("sla-opp", "006A1", "005A"), finding("sla-opp", "006A2", "005A"),
                               finding("sla-opp", "006J1", "005J")])
    org.finding_run(NOW - timedelta(hours=1), [
        finding("sla-opp", "006A1", "005A"), finding("sla-opp", "006A3", "005A"),
        finding("sla-lead", "00QA1", "005A", ObjectType.LEAD), finding("sla-opp", "006J2", "005J"),
        finding("sla-opp", "006C1", "005C"), finding("sla-opp", "006C2", "005C"),
        finding("sla-opp", "006L1", "005L"), finding("sla-lead", "00QX1", None, ObjectType.LEAD),
    ])
    return org


class RecordingHandler:
    """Keeps every accepted message; ``fail`` decides per message whether to refuse or hang up."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.fail: Callable[[int, Envelope], str | None] = lambda n, env: None

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        verdict = self.fail(len(self.messages), envelope)
        if verdict == "hang up":
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        if verdict is not None:
            return verdict
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=email_policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    handler: RecordingHandler
    port: int


def _accept_login(server: SMTP, session: SmtpSession, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"warden" and data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer(handler, port)
    controller.stop()


@pytest.fixture(params=["starttls", "ssl"])
def tls_smtp_server(request: pytest.FixtureRequest) -> Iterator[tuple[SmtpServer, ssl.SSLContext, str]]:
    """A server speaking STARTTLS or implicit TLS and requiring a login (warden / s3cret); a test CA is trusted."""
    import trustme

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    handler = RecordingHandler()
    port = free_port()
    security = str(request.param)
    tls: dict[str, Any] = (
        {"tls_context": server_context, "require_starttls": True} if security == "starttls"
        else {"ssl_context": server_context, "auth_require_tls": False}  # aiosmtpd only counts STARTTLS as TLS
    )
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=_accept_login,
                            auth_required=True, **tls)
    controller.start()
    yield SmtpServer(handler, port), client_context, security
    controller.stop()
