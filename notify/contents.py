"""What one digest says: a recipient's team, rep by rep and rule by rule, worst first.

Pure: built from the open findings, the routing, and a function giving the ledger's counts at a
moment (for the change since the last digest and the trend), so it is tested with plain data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from config.policy import Policy
from domain.connector import RecordLinks
from domain.records import Owner
from notify.collect import OpenFinding
from notify.periods import Period
from notify.recipients import Recipient, Routing

ITEMS_PER_RULE = 5
"""The oldest items shown per rep and rule; the count says how many there are in all."""
ITEM_BUDGET = 80
"""Items shown in one digest at most (fewer per rule for big teams), so that the HTML stays under
the ~100 KB at which Gmail clips a message."""
TREND_PERIODS = 6
KIND_TITLES: Mapping[str, str] = {
    "sla": "Not acted on in time",
    "stale_deal": "Stale deals",
    "stale_lead": "Stale qualified leads",
    "cadence": "Customers not called",
    "overdue": "Overdue tasks",
    "gates": "Stage data missing",
}
OBJECT_TITLES: Mapping[tuple[str, str], str] = {
    ("sla", "lead"): "New leads not contacted in time",
    ("sla", "opportunity"): "New opportunities not acted on in time",
    ("gates", "lead"): "Leads missing their stage's data",
    ("gates", "opportunity"): "Opportunities missing their stage's data",
}
CountsAt = Callable[[datetime], Counter[tuple[str | None, str]] | None]
"""Open findings per (owner id, rule id) at a moment; None before the ledger's first run."""


@dataclass(frozen=True)
class Item:
    object: str
    record_id: str
    reason: str
    url: str | None
    first_seen: datetime
    days_open: int
    done: tuple[str, ...]


@dataclass(frozen=True)
class RuleGroup:
    rule: str
    title: str
    count: int
    items: list[Item]


@dataclass(frozen=True)
class RepGroup:
    owner_id: str | None
    name: str
    email: str | None
    total: int
    previous: int
    rules: list[RuleGroup]

    @property
    def change(self) -> int:
        return self.total - self.previous


@dataclass(frozen=True)
class Digest:
    connection: str
    recipient: Recipient
    period: Period
    reps: list[RepGroup]
    previous_total: int
    trend: list[tuple[str, int]]
    """(date, open items) at the start of the last periods, oldest first, then ``now``."""
    notes: list[str]
    """Whose work reached this recipient only because nobody else could take it."""
    personal: bool = False
    """A rep's own morning list rather than a manager's digest of their team."""

    @property
    def total(self) -> int:
        return sum(r.total for r in self.reps)

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    @property
    def by_rule(self) -> list[tuple[str, int]]:
        """(rule title, open items) over the whole team, most first."""
        counts: Counter[str] = Counter()
        for rep in self.reps:
            counts.update({g.title: g.count for g in rep.rules})
        return sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))

    @property
    def key(self) -> str:
        """The ledger's idempotency key: one digest per recipient, connection and period."""
        kind = "morning" if self.personal else "digest"
        return f"{kind}:{self.connection}:{self.recipient.key}:{self.period.key}"

    @property
    def subject(self) -> str:
        items = f"{self.total} open item{'s' if self.total != 1 else ''}"
        if self.personal:
            return f"CRM Warden: your morning list, {items} ({signed(self.change)}), {self.period.label}"
        return f"CRM Warden: {items} on your team ({signed(self.change)}), {self.period.label}"


def signed(number: int) -> str:
    """``+3``, ``-2`` or ``no change``."""
    return "no change" if number == 0 else f"{number:+d}"


def rule_titles(policy: Policy) -> dict[str, str]:
    """Rule id -> what a manager calls that kind of problem; two rules of one kind add their id."""
    titles = {r.id: _title(r.kind, getattr(r, "object", None), r.id) for r in policy.rules}
    repeated = {t for t in titles.values() if list(titles.values()).count(t) > 1}
    return {rule: f"{t} ({rule})" if t in repeated else t for rule, t in titles.items()}


def _title(kind: str, object_name: str | None, rule_id: str) -> str:
    if object_name is not None and (kind, object_name) in OBJECT_TITLES:
        return OBJECT_TITLES[(kind, object_name)]
    return KIND_TITLES.get(kind, rule_id)


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
    rule_titles: Mapping[str, str],
) -> Digest:
    """The digest of one recipient: the open findings of the owners routed to them."""
    team = {owner for owner, r in routing.by_owner.items() if r.key == recipient.key}
    previous = Counter({k: n for k, n in (counts_at(period.starts) or {}).items() if k[0] in team})
    mine = [f for f in findings if f.finding.owner_id in team]
    by_owner: dict[str | None, list[OpenFinding]] = {owner: [] for owner in team}
    for f in mine:
        by_owner[f.finding.owner_id].append(f)
    reps = [rep_group(owner, owners, found, previous, links, now, rule_titles) for owner, found in by_owner.items()]
    reps = _within_budget([r for r in reps if r.total or r.previous])
    reps.sort(key=lambda r: (-r.total, -r.change, r.name))
    earlier = [(f"{p.day:%d %b}", counts_at(p.starts)) for p in period.history(TREND_PERIODS)]
    trend = [(label, _team_total(counts, team)) for label, counts in earlier if counts is not None]
    trend.append(("now", len(mine)))
    shown = {r.owner_id for r in reps}
    notes = [why for owner_id, why in routing.notes.items() if owner_id in shown]
    return Digest(connection, recipient, period, reps, sum(previous.values()), trend, notes)


def rep_group(
    owner_id: str | None,
    owners: Mapping[str, Owner],
    findings: Sequence[OpenFinding],
    previous: Counter[tuple[str | None, str]],
    links: RecordLinks,
    now: datetime,
    rule_titles: Mapping[str, str],
) -> RepGroup:
    """One rep's open items grouped by rule, biggest group first, with the change since ``previous``."""
    owner = owners.get(owner_id) if owner_id else None
    name = owner.name if owner else ("No owner" if owner_id is None else f"Unknown owner {owner_id}")
    by_rule: dict[str, list[OpenFinding]] = {}
    for f in findings:
        by_rule.setdefault(f.finding.rule, []).append(f)
    rules = [_rule_group(rule, found, links, now, rule_titles) for rule, found in by_rule.items()]
    rules.sort(key=lambda g: (-g.count, g.rule))
    earlier = sum(n for (o, _), n in previous.items() if o == owner_id)
    return RepGroup(owner_id, name, owner.email if owner else None, len(findings), earlier, rules)


def _rule_group(
    rule: str, found: list[OpenFinding], links: RecordLinks, now: datetime, rule_titles: Mapping[str, str]
) -> RuleGroup:
    oldest = sorted(found, key=lambda f: (f.first_seen, f.finding.record_id))[:ITEMS_PER_RULE]
    items = [
        Item(
            f.finding.object.value, f.finding.record_id, f.finding.reason,
            links.url(f.finding.object, f.finding.record_id), f.first_seen,
            max((now - f.first_seen).days, 0), f.done,
        )
        for f in oldest
    ]
    return RuleGroup(rule, rule_titles.get(rule, rule), len(found), items)


def _within_budget(reps: list[RepGroup]) -> list[RepGroup]:
    """Show fewer of the oldest items per rule when a big team would exceed ``ITEM_BUDGET``."""
    groups = sum(len(r.rules) for r in reps)
    shown = max(1, min(ITEMS_PER_RULE, ITEM_BUDGET // max(groups, 1)))
    return [replace(r, rules=[replace(g, items=g.items[:shown]) for g in r.rules]) for r in reps]


def _team_total(counts: Counter[tuple[str | None, str]], team: set[str | None]) -> int:
    return sum(n for (owner, _), n in counts.items() if owner in team)
