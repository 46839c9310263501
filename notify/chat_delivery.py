"""Post each chat message exactly once, through the ledger's claims, as email digests are sent.

Each message is a ``notify`` action keyed ``chat:<connection>:...``: recorded, claimed before the
webhook call, marked applied once the webhook took it, failed (and retried by the next run) if it did
not. The webhook URL is read from the variable the team's ``chat.webhook_env`` names; it is never
recorded, only the variable's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from domain.plan import Action, ActionKind
from domain.records import ObjectType
from notify.chat import ChatMessage
from notify.delivery import Delivery
from notify.smtp import DeliveryError
from store.ledger import Ledger

log = structlog.get_logger(__name__)
RULE = "chat"


class Poster(Protocol):
    def post(self, url: str, payload: dict[str, Any], where: str) -> None:
        """Deliver one JSON message or raise ``notify.smtp.DeliveryError``."""
        ...


@dataclass(frozen=True)
class ChatTransport:
    """How chat messages leave: the poster, and the environment holding the webhook URLs."""

    poster: Poster
    environ: Mapping[str, str]


def deliver_chat(
    ledger: Ledger, run_id: str, messages: Sequence[ChatMessage], transport: ChatTransport
) -> list[Delivery]:
    """Record, claim and post each message; a missing webhook variable fails only its own messages."""
    ids = ledger.record_actions(run_id, [_action(m) for m in messages])
    deliveries = []
    for action_id, message in zip(ids, messages, strict=True):
        claim = ledger.claim(action_id)
        if not claim.proceed:
            deliveries.append(Delivery(message.key, "held", claim.reason))
            continue
        where = message.channel.webhook_env
        url = transport.environ.get(where, "").strip()
        try:
            if not url:
                raise DeliveryError(f"{where} is not set: put the {message.channel.kind} webhook URL of team "
                                    f"{message.team} in it")
            transport.poster.post(url, message.payload, where)
        except DeliveryError as exc:
            ledger.mark_failed(action_id, str(exc))
            log.warning("chat.failed", key=message.key, team=message.team, error=str(exc))
            deliveries.append(Delivery(message.key, "failed", str(exc)))
        else:
            ledger.mark_applied(action_id)
            log.info("chat.sent", key=message.key, team=message.team, channel=message.channel.kind)
            deliveries.append(Delivery(message.key, "sent"))
    return deliveries


def _action(message: ChatMessage) -> Action:
    return Action(
        kind=ActionKind.NOTIFY,
        object=ObjectType.OWNER,
        record_id=message.team,
        key=message.key,
        reason=f"{message.channel.kind} message to team {message.team}: {message.title}",
        rule=RULE,
        payload={"team": message.team, "channel": message.channel.kind, "webhook_env": message.channel.webhook_env,
                 "title": message.title, "lines": list(message.lines)},
    )
