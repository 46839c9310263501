"""What one digest says: a recipient's team, rep by rep and category by category, worst first.

Pure: built from the open findings, the routing, and a function giving the ledger's counts at a
moment (for the change since the last digest and the trend), so it is tested with plain data.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.connector import RecordLinks
from domain.records import Owner
from notify.categories import DEACTIVATED, Category, category_of_kind
from notify.collect import OpenFinding
from notify.lead_report import LeadReport
from notify.periods import Period
from notify.pipeline_report import PipelineReport
from notify.recipients import Recipient, Routing
from notify.sections import SpeedSection

ITEMS_PER_RULE = 5
"""The worst items shown per rep and category; the count says how many there are in all."""
ITEM_BUDGET = 80
"""Items shown in one digest at most (fewer per category for big teams), so that the HTML stays under
the ~100 KB at which Gmail clips a message."""
TREND_PERIODS = 6
CountsAt = Callable[[datetime], Counter[tuple[str | None, str]] | None]
"""Open findings per (owner id, rule id) at a moment; None before the ledger's first run."""
_LABEL = re.compile(r"^(Lead|Opportunity|Account|Task) (?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")")
"""``Opportunity 'Acme - 50 seats'`` at the start of a reason, as ``enforcement.wording.record_label`` writes it."""


@dataclass(frozen=True)
class Item:
    object: str
    record_id: str
    name: str | None
    """The record's name: the link's text (None: unknown, the text says what it is)."""
    text: str
    """The reason after the name, starting with its own punctuation or a space."""
    url: str | None
    since: datetime
    """When the problem began."""
    days_open: int
    done: tuple[str, ...]

    @property
    def age(self) -> str:
        """``open 12 days``, counted from when the problem began; ``since today`` for a fresh one."""
        if self.days_open == 0:
            return "since today"
        return f"open {self.days_open} day{'s' if self.days_open != 1 else ''}"

    @property
    def status(self) -> str:
        """The age and what was done about it, as one line."""
        return " · ".join((self.age, *self.done))


@dataclass(frozen=True)
class RuleGroup:
    """One rep's open items of one category (``notify.categories``)."""

    category: str
    """The category's key (``overdue``, ``sla:lead``...)."""
    title: str
    colour: str
    count: int
    items: list[Item]


@dataclass(frozen=True)
class RepGroup:
    owner_id: str | None
    name: str
    email: str | None
    total: int
    previous: int | None
    """Open at the period's start; None before the ledger's first run."""
    rules: list[RuleGroup]

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.total - self.previous


@dataclass(frozen=True)
class Digest:
    connection: str
    recipient: Recipient
    period: Period
    reps: list[RepGroup]
    previous_total: int | None
    """Open at the period's start; None on a first digest (no run before it to compare with)."""
    trend: list[tuple[str, int]]
    """(date, open items) at the start of the last periods, oldest first, then ``now``; empty with one point."""
    notes: list[str]
    """Whose work reached this recipient only because nobody else could take it."""
    written_at: datetime
    personal: bool = False
    """A rep's own morning list rather than a manager's digest of their team."""
    speed: SpeedSection | None = None
    """Speed to first touch of the team and its reps, with its trend."""
    pipeline: PipelineReport | None = None
    """The pipeline's shape for the team: in the first digest of each month."""
    held: tuple[str, ...] = ()
    """Rules whose plan a run held back as too large (blast-radius limits): nothing of it was applied."""
    leads: LeadReport | None = None
    """Lead acceptance by source and campaign: in the digest of a marketing recipient (``digest.marketing``)."""

    @property
    def marketing_only(self) -> bool:
        """A marketing recipient's digest with no team's work in it: only the lead acceptance report."""
        return self.leads is not None and not self.reps and not self.personal

    @property
    def owner_ids(self) -> set[str | None]:
        return {r.owner_id for r in self.reps}

    @property
    def total(self) -> int:
        return sum(r.total for r in self.reps)

    @property
    def change(self) -> int | None:
        return None if self.previous_total is None else self.total - self.previous_total

    @property
    def by_rule(self) -> list[tuple[str, int]]:
        """(category title, open items) over the whole team, most first."""
        counts: Counter[str] = Counter()
        for rep in self.reps:
            counts.update({g.title: g.count for g in rep.rules})
        return sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))

    @property
    def colours(self) -> dict[str, str]:
        """Category title -> its fixed colour."""
        return {g.title: g.colour for rep in self.reps for g in rep.rules}

    @property
    def key(self) -> str:
        """The ledger's idempotency key: one digest per recipient, connection and period."""
        kind = "morning" if self.personal else "digest"
        return f"{kind}:{self.connection}:{self.recipient.key}:{self.period.key}"

    @property
    def label(self) -> str:
        """The day the recipient reads it on (``Thu 03 Dec``), or the week (``week of 30 Nov``)."""
        if self.period.cadence == "weekly":
            return self.period.label
        return f"{self.written_at.astimezone(ZoneInfo(self.period.zone)):%a %d %b}"

    @property
    def subject(self) -> str:
        if self.marketing_only and self.leads is not None:
            rate = self.leads.overall.acceptance_rate
            accepted = f"{rate:.0f}% of decided leads accepted" if rate is not None else "no leads decided yet"
            return f"CRM Warden: your leads, {accepted}, {self.label}"
        items = f"{self.total} open item{'s' if self.total != 1 else ''}"
        change = "" if self.change is None else f" ({signed(self.change)})"
        if self.personal:
            return f"CRM Warden: your morning list, {items}{change}, {self.label}"
        return f"CRM Warden: {items} on your team{change}, {self.label}"


def signed(number: int | None) -> str:
    """``+3``, ``-2``, ``no change``, or ``new`` when there is nothing to compare with."""
    if number is None:
        return "new"
    return "no change" if number == 0 else f"{number:+d}"


def build_digest(
    connection: str,
    recipient: Recipient,
    period: Period,
    findings: Sequence[OpenFinding],
    owners: Mapping[str, Owner],
    routing: Routing,
    links: RecordLinks,
    counts_at: CountsAt,
    now: datetime,
    categories: Mapping[str, Category],
) -> Digest:
    """The digest of one recipient: the open findings of the owners routed to them."""
    team = {owner for owner, r in routing.by_owner.items() if r.key == recipient.key}
    before = counts_at(period.starts)
    previous = None if before is None else Counter({k: n for k, n in before.items() if k[0] in team})
    mine = [f for f in findings if f.finding.owner_id in team]
    by_owner: dict[str | None, list[OpenFinding]] = {owner: [] for owner in team}
    for f in mine:
        by_owner[f.finding.owner_id].append(f)
    reps = [rep_group(owner, owners, found, previous, links, now, categories) for owner, found in by_owner.items()]
    reps = _within_budget([r for r in reps if r.total or r.previous])
    reps.sort(key=lambda r: (-r.total, -(r.change or 0), r.name))
    earlier = [(f"{p.day:%d %b}", counts_at(p.starts)) for p in period.history(TREND_PERIODS)]
    trend = [(label, _team_total(counts, team)) for label, counts in earlier if counts is not None]
    trend = [*trend, ("now", len(mine))] if trend else []
    shown = {r.owner_id for r in reps}
    notes = [why for owner_id, why in routing.notes.items() if owner_id in shown]
    total_before = None if previous is None else sum(previous.values())
    return Digest(connection, recipient, period, reps, total_before, trend, notes, now)


def rep_group(
    owner_id: str | None,
    owners: Mapping[str, Owner],
    findings: Sequence[OpenFinding],
    previous: Counter[tuple[str | None, str]] | None,
    links: RecordLinks,
    now: datetime,
    categories: Mapping[str, Category],
    *,
    personal: bool = False,
) -> RepGroup:
    """One rep's open items by category, biggest first, worst items first, with the change since ``previous``."""
    owner = owners.get(owner_id) if owner_id else None
    by_category: dict[Category, list[OpenFinding]] = {}
    for f in findings:
        by_category.setdefault(_category(f, categories), []).append(f)
    rules = [_rule_group(c, found, links, now, personal) for c, found in by_category.items()]
    rules.sort(key=lambda g: (-g.count, g.title))
    earlier = None if previous is None else sum(n for (o, _), n in previous.items() if o == owner_id)
    return RepGroup(owner_id, _rep_name(owner, owner_id), owner.email if owner else None, len(findings), earlier,
                    rules)


def item(
    found: OpenFinding, links: RecordLinks, now: datetime, *, personal: bool = False
) -> Item:
    """How one finding reads: the record's name (linked), then the rest of the reason, aged from its start."""
    f = found.finding
    name, text = name_and_text(f.reason, found.name)
    step = f.evidence.get("next_step")
    if personal and isinstance(step, str) and step:
        text = text.replace(f" {step}", "").replace(step, "")
    return Item(f.object.value, f.record_id, name, text, links.url(f.object, f.record_id), found.since,
                max((now - found.since).days, 0), found.done)


def name_and_text(reason: str, name: str | None) -> tuple[str | None, str]:
    """The record's name (the mirror's, else the one the reason quotes) and the reason's words after it."""
    label = _LABEL.match(reason)
    if label is None:
        return (name, f": {reason}") if name else (None, reason)
    quoted = label.group(2) if label.group(2) is not None else label.group(3)
    return name or quoted, reason[label.end():]


def _category(found: OpenFinding, categories: Mapping[str, Category]) -> Category:
    category = categories.get(found.finding.rule) or category_of_kind(found.finding.rule, None)
    if category.key.startswith("sla:") and found.finding.evidence.get("owner_active") is False:
        return DEACTIVATED
    return category


def _rep_name(owner: Owner | None, owner_id: str | None) -> str:
    if owner is None:
        return "No owner" if owner_id is None else f"Unknown owner {owner_id}"
    return owner.name if owner.active else f"{owner.name} (deactivated)"


def _rule_group(category: Category, found: list[OpenFinding], links: RecordLinks, now: datetime,
                personal: bool) -> RuleGroup:
    worst = sorted(found, key=lambda f: (f.since, -f.amount, f.finding.record_id))[:ITEMS_PER_RULE]
    items = [item(f, links, now, personal=personal) for f in worst]
    return RuleGroup(category.key, category.title, category.colour, len(found), items)


def _within_budget(reps: list[RepGroup]) -> list[RepGroup]:
    """Show fewer of the worst items per category when a big team would exceed ``ITEM_BUDGET``."""
    groups = sum(len(r.rules) for r in reps)
    shown = max(1, min(ITEMS_PER_RULE, ITEM_BUDGET // max(groups, 1)))
    return [replace(r, rules=[replace(g, items=g.items[:shown]) for g in r.rules]) for r in reps]


def _team_total(counts: Counter[tuple[str | None, str]], team: set[str | None]) -> int:
    return sum(n for (owner, _), n in counts.items() if owner in team)
