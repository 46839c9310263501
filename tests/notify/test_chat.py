"""Slack and Teams delivery to a local webhook server that checks each payload, including a 500 and a retry."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from config.policy import ChatChannel, OverdueRule, Policy, Team
from config.settings import SmtpSettings
from domain.connector import NoLinks
from domain.plan import Action, ActionKind, Finding
from domain.records import ObjectType
from notify.chat_delivery import ChatTransport
from notify.digest import DigestReport, run_digest
from notify.webhook import WebhookSender
from store.ledger import Ledger
from tests.notify.conftest import CONNECTION, NOW, Org, SmtpServer, make_policy


@dataclass
class Webhook:
    """A local incoming-webhook endpoint: records each JSON body, answers with the next scripted status."""

    url: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert self.headers["Content-Type"] == "application/json"
            status = hook.statuses.pop(0) if hook.statuses else 200
            if status == 200:
                hook.received.append((self.path, body))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"rollup_error")

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


def chat_policy(kind: str = "slack") -> Policy:
    base = make_policy()
    east = base.teams[0].model_copy(update={"chat": ChatChannel(kind=kind, webhook_env="EAST_CHAT_WEBHOOK")})  # type: ignore[arg-type]
    return base.model_copy(update={"teams": (east, *base.teams[1:]),
                                   "rules": (*base.rules, OverdueRule(id="overdue", kind="overdue"))})


def send(org: Org, smtp: SmtpServer, hook: Webhook, policy: Policy, waits: list[float],
         environ: dict[str, str] | None = None) -> DigestReport:
    settings = SmtpSettings.model_validate({"host": "127.0.0.1", "port": smtp.port, "sender": "warden@example.com"})
    transport = ChatTransport(WebhookSender(sleep=waits.append),
                              {"EAST_CHAT_WEBHOOK": f"{hook.url}/hooks/east"} if environ is None else environ)
    return run_digest(org.sessions, policy, CONNECTION, NOW, smtp=settings, preview_dir=None, send=True,
                      link_base=NoLinks(), chat=transport)


@pytest.fixture
def overdue_for_jordan(org: Org) -> None:
    org.finding_run(NOW - timedelta(minutes=30), [
        Finding("overdue", ObjectType.TASK, f"00T{i}", "005J", f"Task 'Call {i}' is overdue", {}) for i in range(3)
    ] + [Finding("sla-opp", ObjectType.OPPORTUNITY, "006A1", "005A", "Opportunity 'A1': late", {})], job="overdue")


def test_slack_gets_the_teams_summary_with_who_didnt(
    org: Org, smtp_server: SmtpServer, webhook: Webhook, overdue_for_jordan: None
) -> None:
    """East's channel gets one Block Kit message: its open items, the who-didn't list, and where the digest went."""
    report = send(org, smtp_server, webhook, chat_policy("slack"), [])

    [(path, body)] = webhook.received
    assert path == "/hooks/east"
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text",
                                                            "text": "East: 7 open items, week of 16 Nov"}}
    section = body["blocks"][1]["text"]
    assert section["type"] == "mrkdwn"
    assert "Who didn't (overdue tasks): Jordan Blake 3" in section["text"]
    assert "The full digest went to Maria Lopez by email." in section["text"]
    assert body["text"].startswith("East: 7 open items")
    assert [(c.recipient, c.status) for c in report.chats] == [("team East (slack)", "sent")]


def test_teams_gets_an_adaptive_card(
    org: Org, smtp_server: SmtpServer, webhook: Webhook, overdue_for_jordan: None
) -> None:
    """A Teams channel gets a message whose one attachment is an Adaptive Card with the same facts."""
    send(org, smtp_server, webhook, chat_policy("teams"), [])

    [(_, body)] = webhook.received
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["text"] == "East: 7 open items, week of 16 Nov" and card["body"][0]["weight"] == "Bolder"
    assert any(b["text"] == "Who didn't (overdue tasks): Jordan Blake 3" for b in card["body"])


def test_a_500_is_retried_and_the_message_posted_once(
    org: Org, smtp_server: SmtpServer, webhook: Webhook, overdue_for_jordan: None
) -> None:
    """The webhook fails once with a 500; the retry posts it; the next run posts nothing again."""
    webhook.statuses = [500]
    waits: list[float] = []
    report = send(org, smtp_server, webhook, chat_policy(), waits)

    assert len(webhook.received) == 1 and len(waits) == 1
    assert report.chats[0].status == "sent"
    again = send(org, smtp_server, webhook, chat_policy(), waits)
    assert len(webhook.received) == 1
    assert again.chats[0].status == "already sent"


def test_a_webhook_that_keeps_failing_is_retried_by_the_next_run(
    org: Org, smtp_server: SmtpServer, webhook: Webhook, overdue_for_jordan: None
) -> None:
    """Three 500s fail the message (the run says so, naming the variable, never the URL); the next run posts it."""
    webhook.statuses = [500, 500, 500]
    failed = send(org, smtp_server, webhook, chat_policy(), [])

    [chat] = failed.chats
    assert chat.status == "failed" and "EAST_CHAT_WEBHOOK answered HTTP 500" in (chat.error or "")
    assert webhook.url not in (chat.error or "") and failed.failed == [chat]
    retried = send(org, smtp_server, webhook, chat_policy(), [])
    assert retried.chats[0].status == "sent" and len(webhook.received) == 1


def test_a_missing_webhook_variable_is_named(
    org: Org, smtp_server: SmtpServer, webhook: Webhook, overdue_for_jordan: None
) -> None:
    """Without the variable the message fails with what to set; the email digests still go out."""
    report = send(org, smtp_server, webhook, chat_policy(), [], environ={})

    assert "EAST_CHAT_WEBHOOK is not set" in (report.chats[0].error or "")
    assert {d.status for d in report.digests} == {"sent"}


def test_sla_reminders_reach_the_owners_team_channel_once(
    org: Org, smtp_server: SmtpServer, webhook: Webhook
) -> None:
    """A reminder task created for Alex is copied to East's channel, once across runs."""
    at = NOW - timedelta(minutes=20)
    ledger = Ledger(org.sessions, clock=lambda: at)
    run_id = ledger.start_run("sla", CONNECTION, dry_run=False, now=at)
    reminder = Action(ActionKind.CREATE_TASK, ObjectType.LEAD, "00Q9", "sla-lead:lead:00Q9:2026-11-20T14:00:00+00:00"
                      ":remind", "Lead 'Lee': Alex Carter has until Fri 20 Nov 10:00 EST to act on it.", "sla-lead",
                      {"owner_id": "005A"})
    [action_id] = ledger.record_actions(run_id, [reminder])
    assert ledger.claim(action_id).proceed
    ledger.mark_applied(action_id)
    ledger.finish_run(run_id, "finished", {})
    send(org, smtp_server, webhook, chat_policy(), [])
    send(org, smtp_server, webhook, chat_policy(), [])

    reminders = [b for _, b in webhook.received if b["blocks"][0]["text"]["text"] == "Reminder for Alex Carter"]
    assert len(reminders) == 1
    assert "Alex Carter has until Fri 20 Nov 10:00 EST" in reminders[0]["blocks"][1]["text"]["text"]


def test_chat_settings_reject_a_url_in_the_policy() -> None:
    """The webhook is named by its variable: a URL in the policy is refused before it can leak."""
    with pytest.raises(ValueError, match="webhook_env"):
        Team(name="East", manager="m@x.com", members=(), chat={"kind": "slack", "webhook_env": "https://hooks.slack.com/x"})  # type: ignore[arg-type]
