"""A merge plan: each cluster with its master, losers, the master's new values, score, tier and reason.

The plan is what an admin reviews (as CSV, JSON or HTML, see ``dedupe.plan_files``) and what
``jobs.apply.merges`` carries out. Built from accounts and their facts; nothing here calls a CRM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from config.policy import Policy
from dedupe.candidate import Candidate
from dedupe.matcher import MatchSettings, ProposedMerge, find_duplicates
from dedupe.plan_source import PlanSource
from dedupe.record_view import RecordView, view_of
from dedupe.score import Tier
from dedupe.survivor import AccountFacts, survivorship
from domain.connector import RecordLinks
from domain.org import OrgData
from domain.plan import Action, ActionKind, Finding
from domain.progress import NO_PROGRESS, Progress
from domain.records import Account, Contact, ObjectType, Opportunity, Task

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ClusterPlan:
    """One proposed merge, as the admin sees it and apply carries it out."""

    cluster_id: str
    tier: Tier
    score: float
    """The weakest link's score: the cluster is only as sure as its least similar pair."""
    master_id: str
    loser_ids: tuple[str, ...]
    names: dict[str, str]
    """Record id -> account name, master first."""
    fields: dict[str, Any]
    """Values set on the master before the merge (survivorship and renaming)."""
    reason: str
    """Why: the master's criterion, then a summary of how the cluster holds together (counts, shared evidence)."""
    approved: bool = False
    joined: dict[str, str] = field(default_factory=dict)
    """Record id -> how it joined the cluster (the master: why it is the master)."""
    records: dict[str, RecordView] = field(default_factory=dict)
    """Record id -> what the reviewer decides by (website, phone, owner, open deals, children, link...)."""
    revise: bool = False
    """The reviewer moved the master or left records out: the master's values are worked out again before
    apply (see ``dedupe.revise``), from the records that still merge."""
    object: ObjectType = ObjectType.ACCOUNT
    """What the cluster's records are: accounts, contacts or leads (``dedupe.people_plan``)."""


@dataclass(frozen=True, slots=True)
class MergePlan:
    clusters: list[ClusterPlan]
    findings: list[Finding] = field(default_factory=list)
    """Anything matching found that is not a merge, for a person to look at."""
    accounts: int = 0
    """Records matched (accounts, or contacts or leads: see ``object``)."""
    pairs_compared: int = 0
    object: ObjectType = ObjectType.ACCOUNT
    source: PlanSource | None = None
    """Where the plan was made; apply refuses another CRM (see ``dedupe.plan_source``)."""

    def approved(self) -> list[ClusterPlan]:
        return [c for c in self.clusters if c.approved and c.loser_ids]

    def summary(self) -> str:
        tiers = Counter(c.tier.value for c in self.clusters)
        merged = sum(len(c.loser_ids) for c in self.clusters)
        noun = f"{self.object.value}s"
        return (f"{self.accounts} {noun}, {self.pairs_compared} pairs compared: {len(self.clusters)} clusters "
                f"({tiers['auto']} auto, {tiers['review']} review) would merge {merged} {noun} away; "
                f"{len(self.approved())} approved")


def merge_key(connection: str, master_id: str, loser_ids: Sequence[str], generation: int = 0,
              object_type: ObjectType = ObjectType.ACCOUNT) -> str:
    """The idempotency key of one merge: the same cluster on the same connection merges once per generation.

    ``generation`` counts this cluster's merges that an applied undo took back: once undone, the cluster
    merges again under a new key (``...#1``); until the undo has finished, it lands on the applied key
    and is skipped. Contacts and leads carry their type (``merge:<connection>:contact:...``): on
    HubSpot a contact and a company may share an id.
    """
    kind = "" if object_type is ObjectType.ACCOUNT else f"{object_type.value}:"
    key = f"merge:{connection}:{kind}{master_id}:{','.join(sorted(loser_ids))}"
    return f"{key}#{generation}" if generation else key


def merge_action(connection: str, cluster: ClusterPlan, rule: str, generation: int = 0) -> Action:
    """The ledger action that records one cluster's merge (``jobs.apply.merges`` carries it out)."""
    return Action(
        kind=ActionKind.MERGE, object=cluster.object, record_id=cluster.master_id,
        key=cluster_key(connection, cluster, generation), reason=cluster.reason, rule=rule,
        payload={"cluster_id": cluster.cluster_id, "loser_ids": list(cluster.loser_ids), "fields": cluster.fields,
                 "cluster_key": cluster_key(connection, cluster)},
    )


def cluster_key(connection: str, cluster: ClusterPlan, generation: int = 0) -> str:
    """``merge_key`` of a planned cluster."""
    return merge_key(connection, cluster.master_id, cluster.loser_ids, generation, cluster.object)


def facts_from_org(org: OrgData, only: Collection[str] | None = None) -> list[AccountFacts]:
    """Live accounts (all, or those in ``only``) with their open opportunities and tasks counted."""
    wanted: Callable[[str | None], bool] = (lambda _: True) if only is None else set(only).__contains__
    deals = [o for o in _of(org.records(ObjectType.OPPORTUNITY), Opportunity) if wanted(o.account_id)]
    open_deals = Counter(o.account_id for o in deals if not o.is_closed)
    all_deals = Counter(o.account_id for o in deals)
    activity = Counter(t.what_id for t in _of(org.records(ObjectType.TASK), Task) if wanted(t.what_id))
    contacts = Counter(c.account_id for c in _of(org.records(ObjectType.CONTACT), Contact) if wanted(c.account_id))
    return [
        AccountFacts(a, open_deals[a.id], activity[a.id], contacts[a.id], all_deals[a.id])
        for a in _of(org.records(ObjectType.ACCOUNT), Account) if wanted(a.id)
    ]


def _of(records: Iterable[object], kind: type[T]) -> Iterable[T]:
    return (r for r in records if isinstance(r, kind))


def distinct(merges: Sequence[ProposedMerge]) -> list[ProposedMerge]:
    """Each account in one proposal: an auto cluster that a review cluster grew out of goes with it."""
    review_of: dict[str, set[str]] = {}
    for review in (set(m.account_ids) for m in merges if m.tier is Tier.REVIEW):
        review_of.update(dict.fromkeys(review, review))

    def inside_review(merge: ProposedMerge) -> bool:
        review = review_of.get(merge.account_ids[0])
        return review is not None and set(merge.account_ids) < review

    return [m for m in merges if m.tier is Tier.REVIEW or not inside_review(m)]


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What the plan shows beside the matching: owners' names and the records' CRM links."""

    owners: Mapping[str, str] = field(default_factory=dict)
    links: RecordLinks | None = None


def _cluster(number: int, merge: ProposedMerge, candidates: Sequence[Candidate],
             facts: Mapping[str, AccountFacts], policy: Policy, review: ReviewContext) -> ClusterPlan:
    chosen = survivorship([facts[i] for i in merge.account_ids], policy.dedupe, policy.account_types)
    ordered = (chosen.master_id, *chosen.loser_ids)
    explained = merge.explain(candidates, chosen.master_id)
    shared = f"; shared: {', '.join(merge.shared)}" if merge.shared else "; no shared domain, phone or address"
    summary = (f"{len(ordered)} accounts: {explained.same_name} joined by the same name, "
               f"{explained.similar_name} by a similar name{shared}")
    joined = {i: explained.lines[i] for i in ordered}
    joined[chosen.master_id] = f"master: {chosen.why}"
    return ClusterPlan(
        cluster_id=f"c{number:04d}",
        tier=merge.tier,
        score=min((m.score for m in merge.matches), default=0.0),
        master_id=chosen.master_id,
        loser_ids=chosen.loser_ids,
        names={i: facts[i].account.name for i in ordered},
        fields=chosen.fields,
        reason=f"master {chosen.master_id}: {chosen.why}. {summary}.",
        approved=merge.tier is Tier.AUTO and policy.dedupe.auto_merge,
        joined=joined,
        records={i: view_of(facts[i], review.owners, review.links) for i in ordered},
    )


def propose(merges: Sequence[ProposedMerge], candidates: Sequence[Candidate], facts: Mapping[str, AccountFacts],
            policy: Policy, review: ReviewContext | None = None, progress: Progress = NO_PROGRESS) -> list[ClusterPlan]:
    """One cluster per merge (auto tier first, then largest first), master and field values by the policy.

    ``facts`` by account id.
    """
    ordered = sorted(merges, key=lambda m: (m.tier is not Tier.AUTO, -len(m.account_ids), m.account_ids))
    shown = review or ReviewContext()
    clusters: list[ClusterPlan] = []
    with progress.phase("propose clusters", total=len(ordered), unit="clusters") as phase:
        for number, merge in enumerate(ordered, start=1):
            clusters.append(_cluster(number, merge, candidates, facts, policy, shown))
            phase.update(number)
    return clusters


def build_plan(facts: Sequence[AccountFacts], policy: Policy, workers: int = 1, links: RecordLinks | None = None,
               owners: Mapping[str, str] | None = None, progress: Progress = NO_PROGRESS) -> MergePlan:
    """Match the accounts and propose one merge per cluster, master and field values by the policy.

    ``links`` and ``owners`` (id -> name) only add to what the plan shows the reviewer; ``progress``
    hears of the matching and the proposing.
    """
    candidates = [Candidate.from_account(f.account) for f in facts]
    by_id = {f.account.id: f for f in facts}
    settings = MatchSettings(max_cluster=policy.dedupe.max_cluster, workers=workers)
    result = find_duplicates(candidates, settings, progress)
    clusters = propose(distinct(result.merges), candidates, by_id, policy, ReviewContext(owners or {}, links),
                       progress)
    return MergePlan(clusters, result.findings, len(facts), result.pairs_compared)
