"""What goes to a team's chat: the digest summary with the 'who didn't' list, and SLA reminders.

Messages are built from the digests and the reminders the SLA rules applied, then shaped for the
channel: Slack's ``text`` + Block Kit ``blocks``, or a Teams message carrying an Adaptive Card.
Each has a ledger key, so it is posted once per team and period (a summary) or once ever (a reminder).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config.policy import ChatChannel, Policy, Team
from domain.records import Owner
from notify.contents import Digest, RepGroup, signed
from store.findings import Reminder

WHO_DIDNT = ("cadence", "overdue")
"""The categories whose per-rep counts make the 'who didn't' list (seed 001's calls, seed 002's tasks)."""


@dataclass(frozen=True)
class ChatMessage:
    key: str
    team: str
    channel: ChatChannel
    title: str
    lines: tuple[str, ...]

    @property
    def payload(self) -> dict[str, Any]:
        return slack_payload(self.title, self.lines) if self.channel.kind == "slack" else teams_payload(
            self.title, self.lines)


def slack_payload(title: str, lines: Sequence[str]) -> dict[str, Any]:
    """Block Kit: a header and one mrkdwn section; ``text`` is the notification's fallback."""
    body = "\n".join(_slack_escape(line) for line in lines)
    return {"text": f"{title}\n{body}",
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
                       {"type": "section", "text": {"type": "mrkdwn", "text": body[:3000] or " "}}]}


def teams_payload(title: str, lines: Sequence[str]) -> dict[str, Any]:
    """A message with one Adaptive Card, as Teams incoming webhooks and Workflows accept."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
                 *({"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"} for line in lines)],
    }
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                             "content": card}]}


def summaries(policy: Policy, connection: str, digests: Sequence[Digest]) -> list[ChatMessage]:
    """Each chat-enabled team's summary of its part of its manager's digest, once per period."""
    messages = []
    for digest in (d for d in digests if not d.personal):
        for team in (t for t in policy.teams if t.chat is not None):
            reps = [r for r in digest.reps if r.email and r.email.lower() in _members(team)]
            if reps and team.chat is not None:
                key = f"chat:{connection}:{team.name}:{digest.period.key}"
                messages.append(ChatMessage(key, team.name, team.chat, *_summary(team, digest, reps)))
    return list({m.key: m for m in messages}.values())


def reminders(
    policy: Policy, connection: str, owners: Mapping[str, Owner], due: Sequence[Reminder]
) -> list[ChatMessage]:
    """A chat copy of each SLA reminder applied, in its owner's team channel."""
    messages = []
    for reminder in due:
        owner = owners.get(reminder.owner_id or "")
        team = policy.team_of(owner.email) if owner else None
        if owner is None or team is None or team.chat is None:
            continue
        messages.append(ChatMessage(f"chat:{connection}:{reminder.key}", team.name, team.chat,
                                    f"Reminder for {owner.name}", (reminder.reason,)))
    return messages


def _summary(team: Team, digest: Digest, reps: list[RepGroup]) -> tuple[str, tuple[str, ...]]:
    total = sum(r.total for r in reps)
    previous = None if any(r.previous is None for r in reps) else sum(r.previous or 0 for r in reps)
    title = f"{team.name}: {total} open item{'s' if total != 1 else ''}, {digest.label}"
    lines = []
    if previous is not None:
        lines.append(f"{signed(total - previous)} since the last digest ({previous} then).")
    by_title: dict[str, int] = {}
    for rep in reps:
        for group in rep.rules:
            by_title[group.title] = by_title.get(group.title, 0) + group.count
    lines.extend(f"{title}: {count}" for title, count in sorted(by_title.items(), key=lambda tc: (-tc[1], tc[0])))
    lines.extend(_who_didnt(reps))
    if digest.speed is not None:
        row = next((r for r in digest.speed.rows if r.object == "lead" and r.scope == "team" and r.name == team.name),
                   None)
        if row is not None and row.median_hours is not None:
            within = f", {row.attainment:.0f}% within the SLA of {row.sla_hours}" if row.attainment is not None else ""
            lines.append(f"New leads: first touch after {row.median_hours:.1f} business hours (median){within}.")
    lines.append(f"The full digest went to {digest.recipient.name} by email.")
    return title, tuple(lines)


def _who_didnt(reps: list[RepGroup]) -> list[str]:
    said = []
    for category in WHO_DIDNT:
        counts = [(r.name, g.count, g.title) for r in reps for g in r.rules if g.category == category]
        if counts:
            title = counts[0][2]
            listed = ", ".join(f"{name} {count}" for name, count, _ in sorted(counts, key=lambda c: (-c[1], c[0])))
            said.append(f"Who didn't ({title.lower()}): {listed}")
    return said


def _members(team: Team) -> set[str]:
    return {m.lower() for m in team.members}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
