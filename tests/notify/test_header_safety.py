"""Names from the CRM reach email headers: a line break in one must neither inject a header nor stop the run."""

from __future__ import annotations

import warnings
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from connectors.hubspot import HubSpotLinks
from notify.digest import run_digest
from notify.render import header_safe
from store.models import OwnerRow
from tests.notify.conftest import CONNECTION, NOW, Org, finding, make_policy


def test_an_owner_name_with_a_line_break_still_gets_every_digest(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """A manager named "Maria\\nBcc: ..." gets her digest with the break removed, and everyone else gets theirs."""
    with sessions.begin() as session:
        session.execute(update(OwnerRow).where(OwnerRow.id == "005M1")
                        .values(name="Maria Lopez\r\nBcc: everyone@example.com"))
    org = Org(sessions)
    org.finding_run(NOW - timedelta(hours=1), [finding("sla-opp", "006A1", "005A"),
                                               finding("sla-opp", "006L1", "005L")])
    report = run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=None, preview_dir=tmp_path, send=False,
                        link_base=HubSpotLinks("4711"))
    assert [d.status for d in report.digests] == ["previewed", "previewed"]
    eml = message_from_bytes((tmp_path / "maria-lopez-example-com.eml").read_bytes(), policy=email_policy.default)
    (to,) = eml["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Maria Lopez Bcc: everyone@example.com", "maria.lopez@example.com")
    assert eml["Bcc"] is None


@given(st.text())
def test_header_safe_names_hold_no_control_or_line_break_characters(name: str) -> None:
    """Whatever the CRM holds, the cleaned name is one line of printable text with single spaces."""
    cleaned = header_safe(name)
    assert not any(c in cleaned for c in "\r\n\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    assert all(c.isprintable() for c in cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned


def test_a_rep_name_with_a_line_break_draws_the_chart_without_a_warning(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """The chart labels each bar with the rep's name: control characters become spaces, not missing glyphs."""
    with sessions.begin() as session:
        session.execute(update(OwnerRow).where(OwnerRow.id == "005A").values(name="Ann\r\nBcc: everyone@example.com"))
    org = Org(sessions)
    org.finding_run(NOW - timedelta(hours=1), [finding("sla-opp", "006A1", "005A")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=None, preview_dir=tmp_path, send=False,
                   link_base=HubSpotLinks("4711"))
    assert [str(w.message) for w in caught if "Glyph" in str(w.message)] == []
