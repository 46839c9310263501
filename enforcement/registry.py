"""Which rule kinds exist, which job runs them, and the function that evaluates each.

Adding a rule family is one ``register`` line here plus its module and its policy schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from config.policy import (
    AcceptanceRule,
    ActivityScoreRule,
    CadenceRule,
    DedupeRule,
    ExistingLeadRule,
    GateRule,
    OverdueRule,
    Policy,
    RouteRule,
    SlaRule,
    StaleDealRule,
    StaleLeadRule,
)
from domain.org import OrgData
from domain.plan import RuleResult
from enforcement import (
    acceptance,
    activity_score,
    cadence,
    duplicates,
    existing_leads,
    gates,
    overdue,
    routing,
    sla,
    stale,
)
from enforcement.context import RuleContext

Evaluate = Callable[[Any, RuleContext, OrgData], RuleResult]


@dataclass(frozen=True)
class Family:
    kind: str
    job: str
    rule_type: type
    evaluate: Evaluate


FAMILIES: dict[str, Family] = {}
JOBS = ("sla", "stale", "cadence", "overdue", "gates", "dedupe", "route", "accept", "activity")


def register(kind: str, job: str, rule_type: type, evaluate: Evaluate) -> None:
    FAMILIES[kind] = Family(kind, job, rule_type, evaluate)


register("sla", "sla", SlaRule, sla.evaluate)
register("stale_deal", "stale", StaleDealRule, stale.evaluate_deals)
register("stale_lead", "stale", StaleLeadRule, stale.evaluate_leads)
register("cadence", "cadence", CadenceRule, cadence.evaluate)
register("overdue", "overdue", OverdueRule, overdue.evaluate)
register("gates", "gates", GateRule, gates.evaluate)
register("dedupe", "dedupe", DedupeRule, duplicates.evaluate)
register("route", "route", RouteRule, routing.evaluate)
register("acceptance", "accept", AcceptanceRule, acceptance.evaluate)
register("activity_score", "activity", ActivityScoreRule, activity_score.evaluate)
register("existing_lead", "route", ExistingLeadRule, existing_leads.evaluate)


def rules_for(policy: Policy, job: str) -> list[tuple[Any, Family]]:
    """The enabled rules of the policy that ``job`` runs (``all``: every registered family)."""
    return [
        (rule, FAMILIES[rule.kind])
        for rule in policy.rules
        if rule.enabled and rule.kind in FAMILIES and (job == "all" or FAMILIES[rule.kind].job == job)
    ]
