"""The matching pipeline: candidates in, proposed merges (with how each record joined) out.

Accounts of one name are grouped first (``dedupe.name_groups``); the groups and the other accounts
are blocked, scored and clustered as nodes, and each cluster of nodes is proposed with all their
accounts. Every cluster is proposed, however large: ``max_cluster`` only keeps large auto-tier
clusters from merging unattended (they are proposed for review instead), and review clusters come
largest first.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from dedupe.blocking import candidate_pairs
from dedupe.candidate import Candidate, Profile, build_profiles
from dedupe.cluster import Place, cluster
from dedupe.explain import Explanation, explain
from dedupe.name_groups import NameGroups, group_names
from dedupe.parallel import score_pairs
from dedupe.score import Match, Thresholds, Tier, shared_evidence
from domain.plan import Finding
from domain.progress import NO_PROGRESS, Phase, Progress

_SHARED_SHOWN = 3
"""Shared evidence values named in a cluster's summary, per kind (the most common first)."""


@dataclass(frozen=True, slots=True)
class MatchSettings:
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_block: int = 50
    """Domain, phone, street and word blocks with more nodes than this are not compared (see ``dedupe.blocking``)."""
    max_cluster: int = 30
    """Auto-tier clusters with more accounts than this are proposed for review instead of auto."""
    workers: int = 1
    """Processes that normalize, block and score (see ``dedupe.candidate``, ``dedupe.parallel``)."""


@dataclass(frozen=True, slots=True)
class ProposedMerge:
    """Accounts that are one company, the tier that may merge them, and the links that say so."""

    tier: Tier
    account_ids: tuple[str, ...]
    matches: tuple[Match, ...]
    """Scored links between accounts of the cluster (a name group is linked through its first member)."""
    positions: tuple[int, ...] = ()
    """The accounts' positions in the matched list, in ``account_ids`` order."""
    groups: tuple[tuple[int, ...], ...] = ()
    """Positions of the accounts of each name group inside the cluster, first member first."""
    group_keys: tuple[str, ...] = ()
    """The normalized name of each group."""
    group_evidence: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Evidence a group member shares with its group's first member, by position (none: left out)."""
    shared: tuple[str, ...] = ()
    """Evidence values more than one account of the cluster holds, e.g. ``domain acme.com (12 accounts)``."""

    def reasons(self, candidates: Sequence[Candidate]) -> list[str]:
        """One line per account after the first: through which link it joined (see ``joined``)."""
        lines = self.joined(candidates, self.account_ids[0])
        return [f"{account_id}: {line}" for account_id, line in lines.items() if account_id != self.account_ids[0]]

    def explain(self, candidates: Sequence[Candidate], root_id: str) -> Explanation:
        """How each account joined, walking the links from ``root_id``, and the counts by kind of link."""
        return explain(self, candidates, root_id)

    def joined(self, candidates: Sequence[Candidate], root_id: str) -> dict[str, str]:
        """One line per account saying through which link it joined, from ``root_id`` on."""
        return self.explain(candidates, root_id).lines


@dataclass(frozen=True, slots=True)
class DedupeResult:
    merges: list[ProposedMerge]
    findings: list[Finding]
    pairs_compared: int


def _shared(positions: Sequence[int], profiles: Sequence[Profile]) -> tuple[str, ...]:
    shown = []
    for kind in ("domain", "phone", "street"):
        counts = Counter(v for p in positions if (v := getattr(profiles[p], kind)) is not None)
        shown += [f"{'address' if kind == 'street' else kind} {value} ({count} accounts)"
                  for value, count in counts.most_common(_SHARED_SHOWN) if count > 1]
    return tuple(shown)


@dataclass(frozen=True, slots=True)
class _Clusters:
    auto: list[list[int]]
    review: list[list[int]]
    """Node clusters; review ones may hold auto ones."""


def node_places(groups: NameGroups) -> list[Place]:
    """Each node's postcode, city, country and website domain: clusters never hold two of one kind."""
    return [(node.postcode, node.city, node.country, node.domain) for node in groups.nodes]


def _node_clusters(groups: NameGroups, matches: Sequence[Match], max_cluster: int) -> _Clusters:
    clustering = cluster(matches, [len(members) for members in groups.members], node_places(groups))
    linked = {node for nodes in clustering.linked for node in nodes}
    lone = [[node] for node in range(len(groups.nodes)) if len(groups.members[node]) > 1 and node not in linked]
    auto = [c for c in clustering.auto + lone
            if all(groups.auto[n] for n in c) and sum(len(groups.members[n]) for n in c) <= max_cluster]
    auto_keys = {tuple(c) for c in auto}
    return _Clusters(auto, [c for c in clustering.linked + lone if tuple(c) not in auto_keys])


def _proposal(tier: Tier, nodes: list[int], groups: NameGroups, links: list[Match],
              candidates: Sequence[Candidate], profiles: Sequence[Profile]) -> ProposedMerge:
    positions = groups.expand(nodes)
    grouped = [groups.members[n] for n in nodes if len(groups.members[n]) > 1]
    evidence = {m: found for g in grouped for m in g[1:] if (found := shared_evidence(profiles[g[0]], profiles[m]))}
    return ProposedMerge(
        tier, tuple(candidates[p].id for p in positions), tuple(links), tuple(positions),
        groups=tuple(map(tuple, grouped)), group_keys=tuple(profiles[g[0]].key for g in grouped),
        group_evidence=evidence, shared=_shared(positions, profiles),
    )


def _proposals(tier: Tier, clusters: list[list[int]], matches: Sequence[Match], groups: NameGroups,
               candidates: Sequence[Candidate], profiles: Sequence[Profile]) -> list[ProposedMerge]:
    cluster_of = {node: index for index, nodes in enumerate(clusters) for node in nodes}
    links: list[list[Match]] = [[] for _ in clusters]
    for match in matches:
        index = cluster_of.get(match.left)
        wanted = tier is Tier.REVIEW or match.rule.tier is tier
        if wanted and index is not None and index == cluster_of.get(match.right):
            links[index].append(replace(match, left=groups.members[match.left][0],
                                        right=groups.members[match.right][0]))
    return [_proposal(tier, nodes, groups, found, candidates, profiles)
            for nodes, found in zip(clusters, links, strict=True)]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, which re-walks millions of fresh, cycle-free profiles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def find_duplicates(candidates: Sequence[Candidate], settings: MatchSettings | None = None,
                    progress: Progress = NO_PROGRESS) -> DedupeResult:
    """Propose merges for ``candidates``: auto clusters, then review clusters largest first.

    ``progress`` hears of each step (normalize, block, score, cluster) with what it found.
    """
    with cyclic_gc_paused(), progress.phase("match accounts", total=4, unit="steps") as phase:
        return _find_duplicates(candidates, settings or MatchSettings(), phase)


def match_nodes(profiles: Sequence[Profile], settings: MatchSettings,
                phase: Phase) -> tuple[NameGroups, list[Match], int]:
    """Name groups, the scored links between their nodes, and the pairs compared."""
    groups = group_names(profiles)
    blocking = candidate_pairs(groups.nodes, settings.max_block, workers=settings.workers)
    phase.update(2, pairs=len(blocking.pairs))
    matches = score_pairs(groups.nodes, blocking, settings.thresholds, settings.workers)
    phase.update(3, matches=len(matches))
    return groups, matches, len(blocking.pairs)


def _find_duplicates(candidates: Sequence[Candidate], settings: MatchSettings, phase: Phase) -> DedupeResult:
    profiles = build_profiles(candidates, settings.workers)
    phase.update(1, accounts=len(profiles))
    groups, matches, compared = match_nodes(profiles, settings, phase)
    clusters = _node_clusters(groups, matches, settings.max_cluster)
    phase.update(4, clusters=len(clusters.auto) + len(clusters.review))
    merges = _proposals(Tier.AUTO, clusters.auto, matches, groups, candidates, profiles)
    review = _proposals(Tier.REVIEW, clusters.review, matches, groups, candidates, profiles)
    merges += sorted(review, key=lambda m: (-len(m.account_ids), m.account_ids))
    return DedupeResult(merges=merges, findings=[], pairs_compared=compared)
