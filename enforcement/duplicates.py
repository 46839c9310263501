"""Prevention: a newly created account that duplicates an existing one is flagged the day it appears.

Findings only (they reach the managers' digests): merging stays with ``warden dedupe plan`` and
``warden dedupe apply``, where the admin reviews it and the ledger keeps snapshots for undo.
"""

from __future__ import annotations

from datetime import timedelta

from config.policy import DedupeRule
from connectors.records import Account, ObjectType
from dedupe.candidate import Candidate
from dedupe.matcher import MatchSettings, ProposedMerge, find_duplicates
from enforcement.context import OrgData, RuleContext
from enforcement.findings import Finding, RuleResult


def _finding(rule: DedupeRule, account: Account, merge: ProposedMerge, names: dict[str, str],
             reasons: list[str]) -> Finding:
    others = [i for i in merge.account_ids if i != account.id]
    listed = ", ".join(f"{names[i]!r} ({i})" for i in others)
    return Finding(
        rule=rule.id,
        object=ObjectType.ACCOUNT,
        record_id=account.id,
        owner_id=account.owner_id,
        reason=(f"new account {account.name!r}, created {account.created_at:%Y-%m-%d}, duplicates {listed} "
                f"({merge.tier.value} tier): merge them with `warden dedupe plan` and `warden dedupe apply`"),
        evidence={
            "cluster": list(merge.account_ids),
            "tier": merge.tier.value,
            "reasons": reasons,
            "policy": f"rules[{rule.id}].new_within_days = {rule.new_within_days}",
        },
    )


def evaluate(rule: DedupeRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """One finding per account created within ``new_within_days`` that a proposed merge joins to others."""
    accounts = [a for a in org.records(ObjectType.ACCOUNT) if isinstance(a, Account)]
    new_since = ctx.now - timedelta(days=rule.new_within_days)
    if not any(a.created_at >= new_since for a in accounts):
        return RuleResult()
    candidates = [Candidate.from_account(a) for a in accounts]
    settings = MatchSettings(max_cluster=ctx.policy.dedupe.max_cluster)
    widest: dict[str, ProposedMerge] = {}
    for merge in find_duplicates(candidates, settings).merges:
        for account_id in merge.account_ids:
            known = widest.get(account_id)
            if known is None or len(merge.account_ids) > len(known.account_ids):
                widest[account_id] = merge
    names = {a.id: a.name for a in accounts}
    findings = [
        _finding(rule, a, widest[a.id], names, widest[a.id].reasons(candidates))
        for a in accounts
        if a.created_at >= new_since and a.id in widest
    ]
    return RuleResult(findings=findings)
