"""A reviewed cluster made true again: what survives, worked out for the master and records the reviewer kept.

The plan's surviving values were chosen for the master and members it proposed. When the reviewer
moves the master or leaves a record out (``approve=no``), those values may come from a record that
no longer merges, or suit a master that no longer survives; apply works them out again, and the
"why" says the reviewer chose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from config.policy import Policy
from dedupe.plan import ClusterPlan
from dedupe.survivor import AccountFacts, survivorship
from domain.records import Account


def reviewed_facts(cluster: ClusterPlan, accounts: Mapping[str, Account]) -> list[AccountFacts]:
    """The merging records as the CRM holds them now, with the counts the plan showed the reviewer."""
    facts = []
    for record_id in (cluster.master_id, *cluster.loser_ids):
        view = cluster.records.get(record_id)
        counts = (view.open_deals, view.tasks, view.contacts, view.opportunities) if view else (0, 0, 0, 0)
        facts.append(AccountFacts(accounts[record_id], *counts))
    return facts


def revise(cluster: ClusterPlan, facts: list[AccountFacts], policy: Policy) -> ClusterPlan:
    """``cluster`` with the master's values and the why worked out for its master and the records still merging."""
    chosen = survivorship(facts, policy.dedupe, policy.account_types, master_id=cluster.master_id)
    left_out = [i for i in cluster.names if i != cluster.master_id and i not in cluster.loser_ids]
    kept = f"{len(facts)} accounts merge" + (f"; left out by the reviewer: {', '.join(left_out)}" if left_out else "")
    return replace(cluster, fields=chosen.fields, reason=f"master {cluster.master_id}: {chosen.why}. {kept}.",
                   joined={**cluster.joined, cluster.master_id: f"master: {chosen.why}"}, revise=False)
