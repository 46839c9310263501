"""Blast-radius limits: which rules' plans are too large to apply before a person has looked.

A rule may change at most its ``max_actions`` records in one run (the policy's ``limits.max_actions``
when it sets none), and no more than ``limits.unusual_factor`` times its usual plan. A held rule's
plan is applied by nothing until ``--allow-large``; its actions stay free for the next run. Only
changes still to make count: actions an earlier run already applied do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import median_low

from config.policy import Policy
from domain.invocation import warden_command
from enforcement.registry import FAMILIES

MIN_HISTORY = 3
"""Non-empty plans a rule needs behind it before its usual size means anything."""


def usual_size(sizes: Sequence[int]) -> int | None:
    """The median of a rule's recent non-empty plan sizes; None while it has too few of them."""
    return median_low(sizes) if len(sizes) >= MIN_HISTORY else None


def held_rules(policy: Policy, planned: Mapping[str, int], history: Mapping[str, Sequence[int]]) -> dict[str, str]:
    """By rule id, why its plan of ``planned[rule]`` changes is held, in one line; rules within limits are absent."""
    held: dict[str, str] = {}
    limits = policy.limits
    for rule in (r for r in policy.rules if planned.get(r.id, 0) > 0):
        count, again = planned[rule.id], _override(rule.kind)
        cap = rule.max_actions if rule.max_actions is not None else limits.max_actions
        usual = usual_size(history.get(rule.id, ()))
        if count > cap:
            source = "its max_actions" if rule.max_actions is not None else "limits.max_actions"
            held[rule.id] = (f"{rule.id} plans {count} changes, above {source} {cap}: "
                             f"none applied; check the plan, then {again}")
        elif usual is not None and count > limits.unusual_floor and count > limits.unusual_factor * usual:
            held[rule.id] = (f"{rule.id} plans {count} changes, usually {usual} (more than {limits.unusual_factor:g} "
                             f"times, limits.unusual_factor): none applied; check the plan, then {again}")
    return held


def _override(kind: str) -> str:
    job = FAMILIES[kind].job if kind in FAMILIES else "all"
    return f"`{warden_command()} run {job} --apply --allow-large` applies it once"
