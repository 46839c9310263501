"""Clusters from links: union-find, and no transitive chaining of name-only links.

Chaining rule (chosen and tested): links backed by independent evidence (same domain, phone or
address) join clusters by union-find. Name-only links ("same name", "similar name") are weak: one
joins two clusters only when every member of one is linked to every member of the other (complete
linkage), strongest first. So "Acme Prod" ~ "Acme Products" ~ "Acme Productions" never pulls the
first and last together unless they match each other too, and "Acme" in Boston never joins "Acme"
in Denver through an "Acme" with no address. Auto clusters use auto-tier links only; review
clusters use all. Linked items are nodes: an account, or a group of accounts of one name (see
``dedupe.name_groups``), so a group and its typo twins are linked once, not member by member.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dedupe.score import Match, Tier


class UnionFind:
    """Disjoint sets over positions; each root of a set larger than one knows its members."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}
        self._members: dict[int, list[int]] = {}

    def find(self, item: int) -> int:
        """The root of ``item``'s set."""
        parent = self._parent
        root = parent.get(item, item)
        if root == item:
            return item
        while (above := parent.get(root, root)) != root:
            root = above
        while item != root:
            parent[item], item = root, parent[item]
        return root

    def members(self, item: int) -> list[int]:
        """All positions in ``item``'s set."""
        root = self.find(item)
        return self._members.get(root) or [root]

    def union(self, left: int, right: int) -> None:
        """Join the sets of ``left`` and ``right``."""
        large, small = self.find(left), self.find(right)
        if large == small:
            return
        large_members, small_members = self.members(large), self.members(small)
        if len(large_members) < len(small_members):
            large, small, large_members, small_members = small, large, small_members, large_members
        large_members.extend(small_members)
        self._members[large] = large_members
        self._members.pop(small, None)
        self._parent[small] = large

    def groups(self) -> list[list[int]]:
        """Every set with more than one member, members sorted."""
        return [sorted(members) for members in self._members.values()]


@dataclass(frozen=True, slots=True)
class Clustering:
    auto: list[list[int]]
    """Clusters held together by evidence-backed links only."""
    review: list[list[int]]
    """Clusters that need an admin: some link below the auto tier (an auto cluster may lie inside)."""
    linked: list[list[int]]
    """Every cluster by all links: the review clusters and the auto clusters no review cluster holds."""


def _linked_pairs(matches: Iterable[Match], size: int) -> set[int]:
    return {m.left * size + m.right if m.left < m.right else m.right * size + m.left for m in matches}


def _fully_linked(left: list[int], right: list[int], linked: set[int], size: int) -> bool:
    return all((a * size + b if a < b else b * size + a) in linked for a in left for b in right)


def cluster(matches: Sequence[Match]) -> Clustering:
    """Group matched positions into auto clusters and review clusters."""
    auto_sets = UnionFind()
    all_sets = UnionFind()
    for match in matches:
        if match.rule.tier is Tier.AUTO:
            auto_sets.union(match.left, match.right)
        if match.rule.chains:
            all_sets.union(match.left, match.right)
    weak = sorted((m for m in matches if not m.rule.chains), key=lambda m: -m.score)
    size = 1 + max((max(m.left, m.right) for m in matches), default=0)
    linked = _linked_pairs(matches, size) if weak else set()
    for match in weak:
        if all_sets.find(match.left) == all_sets.find(match.right):
            continue
        if _fully_linked(all_sets.members(match.left), all_sets.members(match.right), linked, size):
            all_sets.union(match.left, match.right)
    auto, every = auto_sets.groups(), all_sets.groups()
    auto_keys = {tuple(group) for group in auto}
    review = [group for group in every if tuple(group) not in auto_keys]
    return Clustering(auto=auto, review=review, linked=every)
