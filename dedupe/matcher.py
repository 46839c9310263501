"""The matching pipeline: candidates in, proposed merges (with their reasons) and findings out."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from dedupe.blocking import candidate_pairs
from dedupe.candidate import Candidate, build_profiles
from dedupe.cluster import cluster
from dedupe.parallel import score_pairs
from dedupe.score import Match, Thresholds, Tier
from domain.plan import Finding
from domain.records import ObjectType

OVERSIZED_RULE = "dedupe.oversized_cluster"


@dataclass(frozen=True, slots=True)
class MatchSettings:
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_block: int = 50
    """Blocks with more accounts than this are not compared (see ``dedupe.blocking``)."""
    max_cluster: int = 30
    """Clusters with more accounts than this become a finding instead of a merge."""
    workers: int = 1
    """Processes that normalize, block and score (see ``dedupe.candidate``, ``dedupe.parallel``)."""


@dataclass(frozen=True, slots=True)
class ProposedMerge:
    """Accounts that are one company, the tier that may merge them, and the links that say so."""

    tier: Tier
    account_ids: tuple[str, ...]
    matches: tuple[Match, ...]

    def reasons(self, candidates: Sequence[Candidate]) -> list[str]:
        """One sentence per link, naming the two accounts."""
        return [
            f"{candidates[m.left].id} and {candidates[m.right].id}: {m.sentence()}" for m in self.matches
        ]


@dataclass(frozen=True, slots=True)
class DedupeResult:
    merges: list[ProposedMerge]
    findings: list[Finding]
    pairs_compared: int


def _oversized_finding(group: list[int], candidates: Sequence[Candidate]) -> Finding:
    ids = [candidates[position].id for position in group]
    return Finding(
        rule=OVERSIZED_RULE,
        object=ObjectType.ACCOUNT,
        record_id=ids[0],
        owner_id=None,
        reason=(
            f"{len(ids)} accounts like {candidates[group[0]].name!r} look alike, more than one merge should "
            "take: review them by hand, or raise dedupe's max_cluster if they really are one company"
        ),
        evidence={"account_ids": ids},
    )


def _proposals(
    tier: Tier, groups: list[list[int]], matches: Sequence[Match], candidates: Sequence[Candidate]
) -> list[ProposedMerge]:
    group_of = {position: index for index, group in enumerate(groups) for position in group}
    links: list[list[Match]] = [[] for _ in groups]
    for match in matches:
        index = group_of.get(match.left)
        wanted = tier is Tier.REVIEW or match.rule.tier is tier
        if wanted and index is not None and index == group_of.get(match.right):
            links[index].append(match)
    return [
        ProposedMerge(tier, tuple(candidates[p].id for p in group), tuple(group_links))
        for group, group_links in zip(groups, links, strict=True)
    ]


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


def find_duplicates(candidates: Sequence[Candidate], settings: MatchSettings | None = None) -> DedupeResult:
    """Propose merges for ``candidates``: auto clusters, review clusters, and oversized-cluster findings."""
    with cyclic_gc_paused():
        return _find_duplicates(candidates, settings or MatchSettings())


def _find_duplicates(candidates: Sequence[Candidate], settings: MatchSettings) -> DedupeResult:
    profiles = build_profiles(candidates, settings.workers)
    blocking = candidate_pairs(profiles, settings.max_block, workers=settings.workers)
    matches = score_pairs(profiles, blocking, settings.thresholds, settings.workers)
    clustering = cluster(matches, settings.max_cluster)
    merges = _proposals(Tier.AUTO, clustering.auto, matches, candidates)
    merges += _proposals(Tier.REVIEW, clustering.review, matches, candidates)
    oversized = clustering.oversized + blocking.oversized_names
    findings = [_oversized_finding(group, candidates) for group in oversized]
    return DedupeResult(merges=merges, findings=findings, pairs_compared=len(blocking.pairs))
