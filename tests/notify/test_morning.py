"""Reps' morning lists: their own open items and newly assigned work, for reps who opted in."""

from __future__ import annotations

from datetime import timedelta

from config.settings import SmtpSettings
from connectors.salesforce import SalesforceLinks
from domain.plan import Action, ActionKind
from domain.records import ObjectType
from notify.digest import DigestReport, run_digest
from store.ledger import Ledger
from tests.notify.conftest import CONNECTION, NOW, Org, SmtpServer, make_policy


def assign_to_alex(org: Org, record_id: str, hours_ago: float) -> None:
    at = NOW - timedelta(hours=hours_ago)
    ledger = Ledger(org.sessions, clock=lambda: at)
    run_id = ledger.start_run("dedupe", CONNECTION, dry_run=False, now=at)  # a job without findings of its own
    action = Action(ActionKind.REASSIGN, ObjectType.OPPORTUNITY, record_id, f"sla-opp:{record_id}:1",
                    f"Opportunity {record_id}: reassigned to Alex Carter (round-robin)", "sla-opp",
                    {"owner_id": "005A"})
    [action_id] = ledger.record_actions(run_id, [action])
    assert ledger.claim(action_id).proceed
    ledger.mark_applied(action_id)
    ledger.finish_run(run_id, "finished", {})


def send(org: Org, port: int) -> DigestReport:
    smtp = SmtpSettings.model_validate({"host": "127.0.0.1", "port": port, "sender": "warden@example.com"})
    policy = make_policy(morning_list=["alex.carter@example.com", "nobody@example.com"])
    return run_digest(org.sessions, policy, CONNECTION, NOW, smtp=smtp, preview_dir=None, send=True,
                      link_base=SalesforceLinks("acme.my.salesforce.com"))


def test_opted_in_rep_gets_own_items_and_new_assignments(org: Org, smtp_server: SmtpServer) -> None:
    """Alex's morning list has his 3 open items plus the deal assigned to him since yesterday morning."""
    assign_to_alex(org, "006NEW", hours_ago=5)
    assign_to_alex(org, "006OLD", hours_ago=60)
    report = send(org, smtp_server.port)

    lists = {rcpts[0]: m for rcpts, m in smtp_server.handler.messages if "morning list" in m["Subject"]}
    assert list(lists) == ["alex.carter@example.com"]
    message = lists["alex.carter@example.com"]
    assert message["Subject"] == "CRM Warden: your morning list, 4 open items (+2), Fri 20 Nov"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Good morning Alex Carter, you have 4 open items." in text
    assert "Newly assigned to you: 1" in text and "006NEW" in text and "006OLD" not in text
    assert "https://acme.my.salesforce.com/lightning/r/Opportunity/006NEW/view" in text
    assert not [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert "morning:crm:alex.carter@example.com:2026-11-20" in [d.key for d in report.digests]
    assert any("digest.morning_list names nobody@example.com" in p for p in report.problems)


def test_morning_list_is_sent_once_a_day(org: Org, smtp_server: SmtpServer) -> None:
    """A second run the same day sends no second morning list."""
    send(org, smtp_server.port)
    again = send(org, smtp_server.port)

    subjects = [m["Subject"] for _, m in smtp_server.handler.messages]
    assert sum("morning list" in s for s in subjects) == 1
    assert {d.status for d in again.digests} == {"already sent"}
