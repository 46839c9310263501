"""Which account of a cluster survives a merge, which field values it keeps, and what it is called.

Pure: the caller gathers each account's facts (open opportunities, activity) and the policy decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial
from typing import Any

from config.dedupe_policy import DedupePolicy, FieldRule, NamingConvention, SurvivorCriterion
from config.policy import AccountTypes
from domain.records import Account

NOT_SURVIVORSHIP_FIELDS = frozenset({"id", "name", "created_at", "updated_at", "extra", "deleted"})
"""Account fields that are not values to choose between (``name`` follows the naming convention)."""
ACCOUNT_FIELDS = frozenset(f.name for f in fields(Account)) - NOT_SURVIVORSHIP_FIELDS


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """One account of a cluster and what the survivor rules weigh besides its fields."""

    account: Account
    open_opportunities: int = 0
    activities: int = 0
    contacts: int = 0
    """Shown to the reviewer, not weighed (like ``opportunities``, open or closed)."""
    opportunities: int = 0


@dataclass(frozen=True, slots=True)
class Survivorship:
    master_id: str
    loser_ids: tuple[str, ...]
    fields: dict[str, Any]
    """Values to set on the master (only those that differ from what it holds), ``name`` included."""
    why: str
    """Why this account is the master, e.g. ``most open opportunities (3 vs 1)``."""


def field_value(account: Account, name: str) -> Any:
    """An account field by name, looking in ``extra`` for custom fields."""
    return getattr(account, name) if name in ACCOUNT_FIELDS else account.extra.get(name)


def _filled(value: Any) -> bool:
    return value is not None and value != ""


def _completeness(facts: AccountFacts) -> int:
    account = facts.account
    return sum(_filled(field_value(account, n)) for n in ACCOUNT_FIELDS) + sum(map(_filled, account.extra.values()))


def _criterion(name: SurvivorCriterion, types: AccountTypes) -> Callable[[AccountFacts], float]:
    """A score per criterion: higher wins."""
    def category_rank(facts: AccountFacts) -> float:
        category = types.category_of(partial(field_value, facts.account))
        return 2 if category == "customer" else 1 if category else 0

    scores: dict[SurvivorCriterion, Callable[[AccountFacts], float]] = {
        "most_open_opportunities": lambda f: f.open_opportunities,
        "most_activity": lambda f: f.activities,
        "oldest": lambda f: -f.account.created_at.timestamp(),
        "customer_over_prospect": category_rank,
        "most_complete": _completeness,
    }
    return scores[name]


_DESCRIPTIONS: dict[SurvivorCriterion, Callable[[AccountFacts, AccountFacts], str]] = {
    "most_open_opportunities": lambda m, r: f"most open deals ({m.open_opportunities} vs {r.open_opportunities})",
    "most_activity": lambda m, r: f"most activity ({m.activities} vs {r.activities} tasks)",
    "oldest": lambda m, r: f"oldest (created {m.account.created_at:%Y-%m-%d} vs {r.account.created_at:%Y-%m-%d})",
    "customer_over_prospect": lambda m, r: f"customer ({m.account.account_type} vs {r.account.account_type})",
    "most_complete": lambda m, r: "most complete (more fields filled)",
}


def choose_master(members: Sequence[AccountFacts], criteria: Sequence[SurvivorCriterion],
                  types: AccountTypes) -> tuple[AccountFacts, str]:
    """The master by the policy's ordered criteria (ties: the smallest id), and why it won."""
    if len(members) < 2:
        raise ValueError(f"a cluster needs at least two accounts, got {[m.account.id for m in members]}")
    scorers = [(name, _criterion(name, types)) for name in criteria]
    ranked = sorted(members, key=lambda f: (*(-score(f) for _, score in scorers), f.account.id))
    master, runner_up = ranked[0], ranked[1]
    for name, score in scorers:
        if score(master) != score(runner_up):
            return master, _DESCRIPTIONS[name](master, runner_up)
    return master, "all survivor criteria tie: smallest id"


def _winning_value(rule: FieldRule, name: str, master: Account, members: Sequence[Account]) -> Any:
    filled = [(m, v) for m in members if _filled(v := field_value(m, name))]
    if rule == "master" or not filled:
        return field_value(master, name)
    if rule == "newest_non_empty":
        return max(filled, key=lambda pair: (pair[0].updated_at, pair[0] is master))[1]
    if rule == "longest":
        return max(filled, key=lambda pair: (len(str(pair[1])), pair[0] is master))[1]
    numbers = [v for _, v in filled if isinstance(v, int | float) and not isinstance(v, bool)]
    return sum(numbers) if numbers else field_value(master, name)


def surviving_fields(master: Account, members: Sequence[Account], rules: dict[str, FieldRule]) -> dict[str, Any]:
    """The field values the master must take so each policy field rule holds; unchanged fields left out."""
    chosen = {name: _winning_value(rule, name, master, members) for name, rule in rules.items()}
    return {name: _plain(value) for name, value in chosen.items() if value != field_value(master, name)}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def conventional_name(name: str, naming: NamingConvention) -> str:
    """``name`` with its legal suffix written the canonical way ("Acme Products, Incorporated" -> "..., Inc.")."""
    for canonical, variants in naming.suffixes.items():
        for variant in sorted(variants, key=len, reverse=True):
            match = re.search(rf"(?:,\s*|\s+){re.escape(variant)}\s*$", name, flags=re.IGNORECASE)
            core = name[: match.start()].rstrip(" ,") if match else ""
            if core:
                return f"{core}{naming.separator}{canonical}"
    return name


def survivorship(members: Sequence[AccountFacts], policy: DedupePolicy, types: AccountTypes,
                 master_id: str | None = None) -> Survivorship:
    """Master, losers and the master's new field values for one cluster; ``master_id``: the reviewer's pick."""
    master, why = choose_master(members, policy.survivor, types)
    if master_id is not None:
        agrees = master.account.id == master_id
        why = f"chosen by the reviewer; the policy {'agrees' if agrees else f'would choose {master.account.id}'}: {why}"
        master = next(m for m in members if m.account.id == master_id)
    accounts = [m.account for m in members]
    values = surviving_fields(master.account, accounts, dict(policy.fields))
    if policy.rename is not None:
        renamed = conventional_name(master.account.name, policy.rename)
        if renamed != master.account.name:
            values["name"] = renamed
    losers = tuple(a.id for a in accounts if a.id != master.account.id)
    return Survivorship(master.account.id, losers, values, why)
