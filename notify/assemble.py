"""Gather from the ledger and the mirror everything a run's digests say, one digest per recipient."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from config.policy import DigestPolicy, Policy
from domain.connector import RecordLinks
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from notify.categories import rule_categories
from notify.collect import counts_at, open_findings
from notify.contents import Digest, build_digest
from notify.morning import morning_lists
from notify.periods import period_at
from notify.recipients import Recipient, route
from store import mirror


@dataclass(frozen=True)
class Assembled:
    digests: list[Digest]
    problems: list[str]
    """Malformed or missing manager addresses, to report before anything is sent."""


def assemble_digests(
    sessions: sessionmaker[Session],
    policy: Policy,
    settings: DigestPolicy,
    connection: str,
    now: datetime,
    links: RecordLinks,
) -> Assembled:
    """Every manager's digest for the period ``now`` falls in, then the reps' morning lists.

    Recipients with nothing to say (no open items now or at the period's start) get none.
    """
    categories = rule_categories(policy)
    with sessions() as session:
        owners = mirror.owners(session, connection)
        found = open_findings(session, connection, policy, now)
        ctx = RuleContext(policy, BusinessCalendar(policy.calendar), now, owners)
        routing = route([*owners, None, *(f.finding.owner_id for f in found)], ctx, settings.fallback_recipient)
        cached: dict[datetime, Counter[tuple[str | None, str]] | None] = {}

        def counts(at: datetime) -> Counter[tuple[str | None, str]] | None:
            if at not in cached:
                cached[at] = counts_at(session, connection, policy, at)
            return cached[at]

        personal, unknown = morning_lists(session, ctx, settings, connection, found, counts, links, categories)
        recipients = {r.key: r for r in routing.by_owner.values()}
        digests = []
        for recipient in sorted(recipients.values(), key=lambda r: r.key):
            period = period_at(now, settings.period, _zone(ctx, recipient), settings.send_hour)
            digest = build_digest(connection, recipient, period, found, owners, routing, links, counts, now, categories)
            if digest.total or digest.previous_total:
                digests.append(digest)
    return Assembled([*digests, *personal], [*routing.problems, *unknown])


def _zone(ctx: RuleContext, recipient: Recipient) -> str:
    return ctx.time_zone(recipient.owner)
