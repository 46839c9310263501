"""A rep's morning list: their own open items and what was newly assigned to them, once a day.

Only reps named in the policy's ``digest.morning_list`` get one. It is a ``Digest`` marked
personal, so it is rendered, previewed and sent (exactly once per local day) like a manager's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from config.policy import DigestPolicy, looks_like_email
from domain.connector import RecordLinks
from domain.records import ObjectType
from enforcement.context import RuleContext
from notify.categories import NEWLY_ASSIGNED, Category
from notify.collect import OpenFinding
from notify.contents import CountsAt, Digest, Item, RuleGroup, name_and_text, rep_group
from notify.periods import period_at
from notify.recipients import Recipient
from store.findings import Assignment, assigned_since
from store.record_names import names_of


def morning_lists(
    session: Session,
    ctx: RuleContext,
    settings: DigestPolicy,
    connection: str,
    found: Sequence[OpenFinding],
    counts_at: CountsAt,
    links: RecordLinks,
    categories: Mapping[str, Category],
) -> tuple[list[Digest], list[str]]:
    """Each opted-in rep's list for today, and the problems with the opt-in list (unknown reps)."""
    lists: list[Digest] = []
    problems: list[str] = []
    for email in settings.morning_list:
        owner = ctx.owner_by_email(email)
        if owner is None or owner.email is None or not looks_like_email(owner.email):
            problems.append(f"digest.morning_list names {email}, who is not a user with a usable address in the "
                            f"{connection} CRM: fix the address or take them off the list")
            continue
        period = period_at(ctx.now, "daily", ctx.time_zone(owner), settings.send_hour)
        mine = [f for f in found if f.finding.owner_id == owner.id]
        before = counts_at(period.starts)
        rep = rep_group(owner.id, ctx.owners, mine, before, links, ctx.now, categories, personal=True)
        assigned = assigned_since(session, connection, owner.id, period.previous().starts)
        if assigned:
            names = names_of(session, connection, [(a.object, a.record_id) for a in assigned])
            group = _assigned_group(assigned, names, links, ctx.now)
            rep = replace(rep, rules=[group, *rep.rules], total=rep.total + group.count)
        if rep.total or rep.previous:
            recipient = Recipient(owner.email, owner.name, owner)
            lists.append(Digest(connection, recipient, period, [rep], rep.previous, [], [], ctx.now, personal=True))
    return lists, problems


def _assigned_group(
    assigned: list[Assignment], names: Mapping[tuple[ObjectType, str], str], links: RecordLinks, now: datetime
) -> RuleGroup:
    items = [
        Item(a.object.value, a.record_id, *name_and_text(a.reason, names.get((a.object, a.record_id))),
             links.url(a.object, a.record_id), a.at, max((now - a.at).days, 0), ("assigned to you",))
        for a in assigned
    ]
    return RuleGroup(NEWLY_ASSIGNED.key, NEWLY_ASSIGNED.title, NEWLY_ASSIGNED.colour, len(items), items)
