"""The scheduled dedupe rule: new duplicates flagged the day they appear, and unattended merges if allowed.

Every account created within ``new_within_days`` that a proposed merge joins to others is a finding,
so it reaches the digest. When the policy's ``dedupe.auto_merge`` allows it, auto-tier clusters (the
names agree and independent evidence backs them) are also planned as merges, at most
``dedupe.max_auto_merges`` a run, with the master and field values ``warden dedupe plan`` would
choose; apply carries them out like ``warden dedupe apply`` (claimed, snapshotted, undoable with
``warden dedupe undo``). Review-tier clusters, and accounts an admin took apart with undo, are left
to the admin's plan.
"""

from __future__ import annotations

from datetime import timedelta

from config.policy import DedupeRule
from dedupe.candidate import Candidate
from dedupe.matcher import DedupeResult, MatchSettings, ProposedMerge, find_duplicates
from dedupe.plan import ClusterPlan, distinct, facts_from_org, merge_action, merge_key, propose
from dedupe.score import Tier
from domain.org import OrgData
from domain.plan import Finding, RuleResult
from domain.records import Account, ObjectType
from enforcement.context import RuleContext
from enforcement.wording import record_label


def _next_step(merge: ProposedMerge, merging: dict[str, ClusterPlan], ctx: RuleContext) -> str:
    cluster = next((merging[i] for i in merge.account_ids if i in merging), None)
    if cluster is not None:
        key = merge_key(ctx.connection, cluster.master_id, cluster.loser_ids)
        return f"planned to merge into {cluster.master_id} unattended; an admin can undo it (key {key})"
    if not set(ctx.history.taken_apart).isdisjoint(merge.account_ids):
        return "an admin undid their merge before, so only an admin merges them again"
    return "an admin reviews and merges them"


def _finding(rule: DedupeRule, account: Account, merge: ProposedMerge, names: dict[str, str],
             reasons: list[str], next_step: str) -> Finding:
    # In id order: the cluster's own order follows the order the mirror read the accounts in, which a sync of an
    # unrelated change can alter, and a finding must say the same while its accounts stay the same.
    others = sorted(i for i in merge.account_ids if i != account.id)
    listed = ", ".join(f"{names[i]!r} ({i})" for i in others)
    return Finding(
        rule=rule.id,
        object=ObjectType.ACCOUNT,
        record_id=account.id,
        owner_id=account.owner_id,
        reason=(f"{record_label(account)}, created {account.created_at:%Y-%m-%d}, duplicates {listed} "
                f"({merge.tier.value} tier): {next_step}"),
        evidence={
            "cluster": sorted(merge.account_ids),
            "tier": merge.tier.value,
            "reasons": reasons,
            "policy": f"rules[{rule.id}].new_within_days = {rule.new_within_days}",
            "since": account.created_at.isoformat(),
        },
    )


def _auto_merges(result: DedupeResult, candidates: list[Candidate], ctx: RuleContext,
                 org: OrgData) -> list[ClusterPlan]:
    """The auto-tier clusters this run may merge: none an admin took apart, at most the policy's limit."""
    taken_apart = set(ctx.history.taken_apart)
    allowed = sorted(
        (m for m in distinct(result.merges) if m.tier is Tier.AUTO and taken_apart.isdisjoint(m.account_ids)),
        key=lambda m: m.account_ids,
    )[: ctx.policy.dedupe.max_auto_merges]
    if not allowed:
        return []
    facts = {f.account.id: f for f in facts_from_org(org, {i for m in allowed for i in m.account_ids})}
    return propose(allowed, candidates, facts, ctx.policy)


def _widest(result: DedupeResult) -> dict[str, ProposedMerge]:
    """Each clustered account's largest proposed merge (a review cluster holds the auto ones it grew from)."""
    widest: dict[str, ProposedMerge] = {}
    for merge in result.merges:
        for account_id in merge.account_ids:
            known = widest.get(account_id)
            if known is None or len(merge.account_ids) > len(known.account_ids):
                widest[account_id] = merge
    return widest


def evaluate(rule: DedupeRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Findings for new accounts that duplicate others; merge actions for auto-tier clusters if allowed."""
    accounts = [a for a in org.records(ObjectType.ACCOUNT) if isinstance(a, Account)]
    new_since = ctx.now - timedelta(days=rule.new_within_days)
    auto_merge = ctx.policy.dedupe.auto_merge
    if not auto_merge and not any(a.created_at >= new_since for a in accounts):
        return RuleResult()
    candidates = [Candidate.from_account(a) for a in accounts]
    result = find_duplicates(candidates, MatchSettings(max_cluster=ctx.policy.dedupe.max_cluster))
    merges = _auto_merges(result, candidates, ctx, org) if auto_merge else []
    merging = {account_id: c for c in merges for account_id in c.names}
    widest, names = _widest(result), {a.id: a.name for a in accounts}
    findings = [
        _finding(rule, a, widest[a.id], names, widest[a.id].reasons(candidates), _next_step(widest[a.id], merging, ctx))
        for a in accounts
        if a.created_at >= new_since and a.id in widest
    ]
    planned = RuleResult(findings=findings, actions=[merge_action(ctx.connection, c, rule.id) for c in merges])
    for account in accounts:
        if account.created_at >= new_since:  # a new account's finding ends when it stops being new
            planned.due_again(account.id, account.created_at + timedelta(days=rule.new_within_days))
    return planned
