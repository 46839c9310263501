"""Who reads about whose work: each owner's manager, or the policy's fallback recipient.

The manager comes from the CRM's manager field, then the policy's teams
(``RuleContext.manager_of``). Work whose owner has no manager, or whose manager has no usable
address, goes to the fallback recipient, and that digest says whose work it is and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from config.policy import looks_like_email
from domain.records import Owner
from enforcement.context import RuleContext


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    owner: Owner | None
    """The recipient's CRM user (for their time zone); None for the fallback address."""

    @property
    def key(self) -> str:
        return self.email.lower()


@dataclass
class Routing:
    by_owner: dict[str | None, Recipient] = field(default_factory=dict)
    """Owner id (None: records without an owner) -> who reads about that owner's work."""
    notes: dict[str | None, str] = field(default_factory=dict)
    """Owner id -> why that owner's work went to the fallback recipient."""
    problems: list[str] = field(default_factory=list)
    """Malformed addresses, reported before anything is sent."""


def route(owner_ids: Iterable[str | None], ctx: RuleContext, fallback_email: str) -> Routing:
    """Decide the recipient of each owner's findings."""
    fallback = Recipient(fallback_email, fallback_email, ctx.owner_by_email(fallback_email))
    routing = Routing()
    for owner_id in sorted(set(owner_ids), key=lambda i: i or ""):
        owner = ctx.owner(owner_id)
        recipient, why = _recipient_of(owner, owner_id, ctx, routing.problems)
        if recipient is None:
            recipient = fallback
            routing.notes[owner_id] = why
        routing.by_owner[owner_id] = recipient
    return routing


def _recipient_of(
    owner: Owner | None, owner_id: str | None, ctx: RuleContext, problems: list[str]
) -> tuple[Recipient | None, str]:
    if owner_id is None:
        return None, "records without an owner"
    if owner is None:
        return None, f"owner id {owner_id}, who is not a user or queue in the CRM any more"
    if owner.is_queue:
        return None, f"work waiting in the queue {owner.name}"
    manager = ctx.manager_of(owner)
    if manager is None:
        return None, f"{owner.name}, who has no manager in the CRM or in the policy's teams"
    if manager.email is None or not looks_like_email(manager.email):
        address = "no email address" if manager.email is None else f"the malformed address {manager.email!r}"
        problem = (
            f"manager {manager.name} (user {manager.id}) has {address}: fix the email on their CRM user; "
            "meanwhile their team's digest goes to the fallback recipient"
        )
        if problem not in problems:
            problems.append(problem)
        return None, f"{owner.name}, whose manager {manager.name} has {address}"
    return Recipient(manager.email, manager.name, manager), ""

