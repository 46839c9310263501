"""Digests sent to a real SMTP server on localhost (aiosmtpd), read back and checked."""

from __future__ import annotations

import re
import ssl
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import SmtpSettings
from connectors.salesforce import SalesforceLinks
from notify.digest import DigestReport, run_digest
from store.models import ActionRow
from tests.notify.conftest import CONNECTION, NOW, Org, SmtpServer, make_policy

LINKS = SalesforceLinks("acme.my.salesforce.com")


def send(sessions: sessionmaker[Session], port: int, **smtp: object) -> DigestReport:
    settings = SmtpSettings.model_validate({"host": "127.0.0.1", "port": port, "sender": "warden@example.com", **smtp})
    return run_digest(sessions, make_policy(), CONNECTION, NOW, smtp=settings, preview_dir=None, send=True,
                      link_base=LINKS)


def by_recipient(server: SmtpServer) -> dict[str, EmailMessage]:
    return {rcpts[0]: message for rcpts, message in server.handler.messages}


def parts(message: EmailMessage) -> tuple[str, str, EmailMessage]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    return text.get_content(), html.get_content(), images[0]


def test_each_manager_gets_one_digest_with_their_teams_numbers(org: Org, smtp_server: SmtpServer) -> None:
    """Maria gets her team's 4 items (+1 since Monday), the fallback gets the unmanaged ones, once each."""
    report = send(org.sessions, smtp_server.port)

    received = by_recipient(smtp_server)
    assert sorted(received) == ["maria.lopez@example.com", "ops@example.com"]
    maria = received["maria.lopez@example.com"]
    assert maria["Subject"] == "CRM Warden: 4 open items on your team (+1), week of 16 Nov"
    text, html, image = parts(maria)
    assert "Alex Carter" in text and "Jordan Blake" in text and "Chris Nguyen" not in text
    assert re.search(r"Alex Carter\s+3\s+\+1", text) and re.search(r"Jordan Blake\s+1\s+no change", text)
    assert "New opportunities not acted on in time: 2" in text
    assert "https://acme.my.salesforce.com/lightning/r/Opportunity/006A1/view" in html
    assert "https://acme.my.salesforce.com/lightning/r/Lead/00QA1/view" in text
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [d.status for d in report.digests] == ["sent", "sent"]
    for record_id in ("006A1", "006A3", "00QA1", "006J2"):
        assert record_id in text and record_id in html
    assert "Trend: 16 Nov: 3, now: 4" in text


def test_fallback_digest_names_whose_work_it_is(org: Org, smtp_server: SmtpServer) -> None:
    """The fallback recipient is told which reps have no manager or a manager without a usable address."""
    report = send(org.sessions, smtp_server.port)

    text, html, _ = parts(by_recipient(smtp_server)["ops@example.com"])
    assert "Lone Ranger, who has no manager in the CRM or in the policy's teams" in text
    assert "Chris Nguyen, whose manager Kenji Sato has the malformed address &#39;kenji.sato@&#39;" in html
    assert "records without an owner" in text
    assert "4 open items" in text
    assert report.problems == [
        "manager Kenji Sato (user 005M2) has the malformed address 'kenji.sato@': fix the email on their CRM "
        "user; meanwhile their team's digest goes to the fallback recipient"
    ]


def test_second_run_in_the_same_period_sends_nothing(org: Org, smtp_server: SmtpServer) -> None:
    """Running the digest twice in one week delivers each manager's digest once."""
    send(org.sessions, smtp_server.port)
    again = send(org.sessions, smtp_server.port)

    assert len(smtp_server.handler.messages) == 2
    assert [d.status for d in again.digests] == ["already sent", "already sent"]
    assert again.run_id is None


@pytest.mark.parametrize("reply", ["451 4.3.0 try again later", "554 5.7.1 rejected by policy"])
def test_refused_digest_stays_pending_and_the_next_run_delivers_it(
    org: Org, smtp_server: SmtpServer, reply: str
) -> None:
    """A 4xx or 5xx answer fails that digest only; the next run sends it and not the other one again."""
    smtp_server.handler.fail = lambda n, env: reply if env.rcpt_tos == ["maria.lopez@example.com"] else None
    first = send(org.sessions, smtp_server.port)
    smtp_server.handler.fail = lambda n, env: None
    second = send(org.sessions, smtp_server.port)

    assert {d.recipient: d.status for d in first.digests} == {
        "maria.lopez@example.com": "failed", "ops@example.com": "sent"}
    assert reply.split()[0] in (first.digests[0].error or "")
    assert {d.recipient: d.status for d in second.digests} == {
        "maria.lopez@example.com": "sent", "ops@example.com": "already sent"}
    assert sorted(r[0] for r, _ in smtp_server.handler.messages) == ["maria.lopez@example.com", "ops@example.com"]


def test_dropped_connection_leaves_the_rest_pending(org: Org, smtp_server: SmtpServer) -> None:
    """When the server hangs up mid-run the remaining digests wait for the next run, none is lost."""
    smtp_server.handler.fail = lambda n, env: "hang up"
    first = send(org.sessions, smtp_server.port)
    smtp_server.handler.fail = lambda n, env: None
    second = send(org.sessions, smtp_server.port)

    assert [d.status for d in first.digests] == ["failed", "not attempted"]
    assert [d.status for d in second.digests] == ["sent", "sent"]
    assert len(smtp_server.handler.messages) == 2


def test_server_down_fails_every_digest_with_the_address(org: Org) -> None:
    """With no server listening, the report says which server could not be reached."""
    from tests.notify.conftest import free_port

    port = free_port()
    report = send(org.sessions, port)

    assert [d.status for d in report.digests] == ["failed", "not attempted"]
    assert f"SMTP server 127.0.0.1:{port}" in (report.digests[0].error or "")


def test_rerun_after_a_crash_sends_nothing_twice(
    org: Org, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the first delivery: the rerun sends only the digest that was not delivered."""
    from notify import smtp as smtp_module

    real_send = smtp_module.SmtpSender.send
    calls: list[str] = []

    def crash_on_second(self: smtp_module.SmtpSender, message: EmailMessage) -> None:
        calls.append(message["To"])
        if len(calls) == 2:
            raise KeyboardInterrupt("operator pressed Ctrl-C")
        real_send(self, message)

    monkeypatch.setattr(smtp_module.SmtpSender, "send", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        send(org.sessions, smtp_server.port)
    monkeypatch.setattr(smtp_module.SmtpSender, "send", real_send)
    rerun = send(org.sessions, smtp_server.port)

    assert sorted(r[0] for r, _ in smtp_server.handler.messages) == ["maria.lopez@example.com", "ops@example.com"]
    assert {d.recipient: d.status for d in rerun.digests} == {
        "maria.lopez@example.com": "already sent", "ops@example.com": "sent"}
    with org.sessions() as session:
        applied = session.scalars(select(ActionRow.key).where(ActionRow.status == "applied")).all()
    assert sorted(applied) == [
        f"digest:{CONNECTION}:maria.lopez@example.com:2026-W47", f"digest:{CONNECTION}:ops@example.com:2026-W47"]


def tls_settings(server: SmtpServer, security: str, password: str) -> SmtpSettings:
    return SmtpSettings.model_validate({"host": "127.0.0.1", "port": server.port, "sender": "warden@example.com",
                                        "security": security, "username": "warden", "password": password})


IMPLICIT_TLS_AUTH = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
"""aiosmtpd warns because it only counts STARTTLS as TLS; the ssl variant is encrypted from the start."""


@IMPLICIT_TLS_AUTH
def test_encrypted_session_with_login(org: Org, tls_smtp_server: tuple[SmtpServer, ssl.SSLContext, str]) -> None:
    """With SMTP_SECURITY=starttls or ssl and credentials, digests go through an encrypted, authenticated session."""
    server, context, security = tls_smtp_server
    report = run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=tls_settings(server, security, "s3cret"),
                        preview_dir=None, send=True, link_base=LINKS, tls_context=context)

    assert [d.status for d in report.digests] == ["sent", "sent"]
    assert len(server.handler.messages) == 2


@IMPLICIT_TLS_AUTH
def test_wrong_password_is_reported_without_the_password(
    org: Org, tls_smtp_server: tuple[SmtpServer, ssl.SSLContext, str]
) -> None:
    """A refused login names SMTP_USERNAME and never echoes the password."""
    server, context, security = tls_smtp_server
    report = run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=tls_settings(server, security, "wrong-pw"),
                        preview_dir=None, send=True, link_base=LINKS, tls_context=context)

    error = report.digests[0].error or ""
    assert "SMTP_USERNAME='warden'" in error and "wrong-pw" not in error
    assert [d.status for d in report.digests] == ["failed", "not attempted"]
    assert server.handler.messages == []


@pytest.mark.parametrize(
    ("smtp", "message"),
    [
        (None, "sending digests needs SMTP settings: set SMTP_HOST"),
        (SmtpSettings.model_construct(sender="Warden Bot"), "SMTP_SENDER='Warden Bot' is not an email address"),
    ],
)
def test_send_without_usable_smtp_settings_stops_before_anything(
    org: Org, smtp: SmtpSettings | None, message: str
) -> None:
    """Missing SMTP settings or a sender that is not an address stop the run, naming the variable."""
    from notify.digest import DigestConfigError

    with pytest.raises(DigestConfigError, match=re.escape(message)):
        run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=smtp, preview_dir=None, send=True,
                   link_base=LINKS)
    with org.sessions() as session:
        assert session.scalars(select(ActionRow)).all() == []
