"""Gather from the ledger and the mirror everything a run's digests say, one digest per recipient."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from config.policy import DigestPolicy, Policy
from domain.connector import RecordLinks
from domain.records import Owner
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from notify.categories import rule_categories
from notify.collect import counts_at, open_findings, rule_jobs
from notify.contents import Digest, build_digest
from notify.morning import morning_lists
from notify.periods import period_at
from notify.recipients import Recipient, route
from notify.reports import load_lead_report, load_pipeline_report, load_speed_data
from notify.sections import SpeedSections, first_of_month, pipeline_for, speed_window
from store import mirror
from store.plan_history import current_holds


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
    digests = _with_sections(sessions, policy, connection, now, owners, digests)
    held = tuple(h.reason for h in current_holds(sessions, connection, rule_jobs(policy)))
    digests = [replace(d, held=held) for d in digests]
    digests = _with_lead_report(sessions, policy, settings, connection, now, ctx, digests)
    return Assembled([*digests, *personal], [*routing.problems, *unknown])


def _with_lead_report(
    sessions: sessionmaker[Session], policy: Policy, settings: DigestPolicy, connection: str, now: datetime,
    ctx: RuleContext, digests: list[Digest],
) -> list[Digest]:
    """Marketing's digests carry the lead acceptance report: added to a manager's, or a digest of its own.

    No report when no lead was created in its window (nothing to say to marketing).
    """
    if not settings.marketing:
        return digests
    report = load_lead_report(sessions, policy, connection, now)
    if not report.overall.leads:
        return digests
    wanted = {email.lower(): email for email in settings.marketing}
    with_report = [replace(d, leads=report) if d.recipient.key in wanted else d for d in digests]
    for key in sorted(wanted.keys() - {d.recipient.key for d in digests}):
        owner = ctx.owner_by_email(wanted[key])
        recipient = Recipient(wanted[key], owner.name if owner else wanted[key], owner)
        period = period_at(now, settings.period, _zone(ctx, recipient), settings.send_hour)
        with_report.append(Digest(connection, recipient, period, [], None, [], [], now, leads=report))
    return sorted(with_report, key=lambda d: d.recipient.key)


def _with_sections(
    sessions: sessionmaker[Session], policy: Policy, connection: str, now: datetime, owners: dict[str, Owner],
    digests: list[Digest],
) -> list[Digest]:
    """Each manager's digest with its team's speed to first touch and, monthly, the pipeline's shape."""
    if not digests:
        return digests
    since = min(speed_window(now, d.period) for d in digests)
    speed = SpeedSections(load_speed_data(sessions, policy, connection, since), policy, connection, now)
    pipeline = cache(lambda: load_pipeline_report(sessions, policy, connection, now))
    return [
        replace(d, speed=speed.section(d.owner_ids, d.period),
                pipeline=pipeline_for(pipeline, owners, policy, d.owner_ids) if first_of_month(d.period) else None)
        for d in digests
    ]


def _zone(ctx: RuleContext, recipient: Recipient) -> str:
    return ctx.time_zone(recipient.owner)
