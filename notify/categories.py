"""What managers call each kind of problem, and the one colour it has in every digest's chart.

A category is a rule family (and, for families that judge leads and opportunities alike, the object),
so two rules of one family share a title and a colour, and a colour never depends on which other
categories a digest happens to contain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from config.policy import Policy


@dataclass(frozen=True)
class Category:
    key: str
    title: str
    colour: str


CATEGORIES: Mapping[str, Category] = {
    c.key: c
    for c in (
        Category("sla:lead", "New leads not contacted in time", "#c0392b"),
        Category("sla:opportunity", "New opportunities not acted on in time", "#e67e22"),
        Category("deactivated", "Work of deactivated owners to hand over", "#7f8c8d"),
        Category("overdue", "Overdue tasks", "#16a085"),
        Category("stale_deal", "Stale deals", "#8e44ad"),
        Category("stale_lead", "Stale qualified leads", "#d35400"),
        Category("cadence", "Customers not called", "#2980b9"),
        Category("gates:opportunity", "Opportunities missing their stage's data", "#f1c40f"),
        Category("gates:lead", "Leads missing their stage's data", "#e84393"),
        Category("dedupe", "New duplicate accounts", "#27ae60"),
        Category("existing_lead", "New leads already in the system", "#8d6e63"),
        Category("route:lead", "New leads routed", "#0984e3"),
        Category("acceptance", "Leads to accept or reject", "#6d214f"),
        Category("activity_score", "Leads and follow-ups from activity", "#00b894"),
        Category("newly-assigned", "Newly assigned to you", "#2c3e50"),
    )
}
"""Every category the shipped rule families produce, in the order a digest lists equal counts."""
SPARE_COLOURS = ("#00cec9", "#6c5ce7", "#b33771", "#3b3b98", "#fd7272", "#58b19f")
DEACTIVATED = CATEGORIES["deactivated"]
NEWLY_ASSIGNED = CATEGORIES["newly-assigned"]


def category_of_kind(kind: str, object_name: str | None) -> Category:
    """The category of a rule family (and object); a family without one gets a stable title and colour."""
    for key in (f"{kind}:{object_name}", kind):
        if key in CATEGORIES:
            return CATEGORIES[key]
    digest = int(hashlib.sha256(kind.encode()).hexdigest(), 16)
    return Category(kind, kind.replace("_", " ").replace("-", " ").capitalize(), SPARE_COLOURS[digest % 6])


def rule_categories(policy: Policy) -> dict[str, Category]:
    """Rule id -> the category its findings are shown under."""
    return {r.id: category_of_kind(r.kind, getattr(r, "object", None)) for r in policy.rules}
