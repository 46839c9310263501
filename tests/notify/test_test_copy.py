"""`warden digest --to ADDRESS`: a test copy of every digest to one address, leaving the real ones unsent."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from config.settings import SmtpSettings
from domain.connector import NoLinks
from notify.digest import DigestConfigError, run_digest
from store.models import ActionRow
from tests.notify.conftest import CONNECTION, NOW, Org, SmtpServer, make_policy


def smtp(port: int) -> SmtpSettings:
    return SmtpSettings.model_validate({"host": "127.0.0.1", "port": port, "sender": "warden@example.com"})


def test_test_copies_go_to_one_address_and_the_ledger_is_untouched(org: Org, smtp_server: SmtpServer) -> None:
    """Every digest goes to the tester, marked as a test copy; the managers still get theirs later."""
    report = run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=smtp(smtp_server.port), preview_dir=None,
                        send=False, link_base=NoLinks(), test_to="me@example.com")

    received = smtp_server.handler.messages
    assert [rcpts for rcpts, _ in received] == [["me@example.com"], ["me@example.com"]]
    assert all(m["Subject"].startswith("[Test copy for maria.lopez@example.com]")
               or m["Subject"].startswith("[Test copy for ops@example.com]") for _, m in received)
    assert {d.status for d in report.digests} == {"test copy sent"}
    with org.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ActionRow)) == 0
    real = run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=smtp(smtp_server.port), preview_dir=None,
                      send=True, link_base=NoLinks())
    assert {d.status for d in real.digests} == {"sent"}


def test_a_malformed_test_address_is_refused_before_anything_is_sent(org: Org, smtp_server: SmtpServer) -> None:
    """--to must be an email address."""
    with pytest.raises(DigestConfigError, match="--to 'me@' is not an email address"):
        run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=smtp(smtp_server.port), preview_dir=None,
                   send=False, link_base=NoLinks(), test_to="me@")
    assert smtp_server.handler.messages == []
