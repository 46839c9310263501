"""Send each digest exactly once per period, through the ledger's claims.

Each digest is a ``notify`` action keyed ``digest:<connection>:<recipient>:<period>``: recorded,
claimed before the SMTP call, marked applied once the server accepted it, failed if it did not.
A failed or never-attempted digest keeps its key free, so the next run delivers it; an applied
one blocks every later attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import structlog

from domain.plan import Action, ActionKind
from domain.records import ObjectType
from notify.contents import Digest
from notify.smtp import MessageRefused, ServerUnavailable
from store.ledger import Ledger

log = structlog.get_logger(__name__)
RULE = "digest"


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver one message or raise ``notify.smtp.DeliveryError``."""
        ...


@dataclass(frozen=True)
class Delivery:
    key: str
    status: str
    """``sent``, ``failed``, ``not attempted`` or ``held`` (another run holds or used its claim)."""
    error: str | None = None


def deliver(
    ledger: Ledger, run_id: str, letters: Sequence[tuple[Digest, EmailMessage]], sender: Sender
) -> list[Delivery]:
    """Record, claim and send each letter; stop sending (not recording) when the server is gone."""
    ids = ledger.record_actions(run_id, [_action(digest) for digest, _ in letters])
    deliveries: list[Delivery] = []
    unavailable: str | None = None
    for action_id, (digest, message) in zip(ids, letters, strict=True):
        if unavailable is not None:
            ledger.mark_skipped(action_id, f"not attempted: {unavailable}")
            deliveries.append(Delivery(digest.key, "not attempted", unavailable))
            continue
        claim = ledger.claim(action_id)
        if not claim.proceed:
            deliveries.append(Delivery(digest.key, "held", claim.reason))
            continue
        try:
            sender.send(message)
        except ServerUnavailable as exc:
            unavailable = str(exc)
            deliveries.append(_failed(ledger, action_id, digest, unavailable))
        except MessageRefused as exc:
            deliveries.append(_failed(ledger, action_id, digest, str(exc)))
        else:
            ledger.mark_applied(action_id)
            log.info("digest.sent", key=digest.key, to=digest.recipient.email, items=digest.total)
            deliveries.append(Delivery(digest.key, "sent"))
    return deliveries


def _failed(ledger: Ledger, action_id: int, digest: Digest, error: str) -> Delivery:
    ledger.mark_failed(action_id, error)
    log.warning("digest.failed", key=digest.key, to=digest.recipient.email, error=error)
    return Delivery(digest.key, "failed", error)


def _action(digest: Digest) -> Action:
    recipient = digest.recipient
    return Action(
        kind=ActionKind.NOTIFY,
        object=ObjectType.OWNER,
        record_id=recipient.owner.id if recipient.owner else recipient.email,
        key=digest.key,
        reason=f"{digest.period.label} digest to {recipient.email}: {digest.total} open items",
        rule=RULE,
        payload={"to": recipient.email, "subject": digest.subject, "period": digest.period.key, "items": digest.total},
    )
