"""Clusters from links: union-find, and no transitive chaining of name-only links.

Chaining rule (chosen and tested): links backed by independent evidence (same domain, phone or
address) join clusters by union-find. Name-only links ("same name", "similar name") are weak: one
joins two clusters only when every member of one is linked to every member of the other (complete
linkage), strongest first. So "Acme Prod" ~ "Acme Products" ~ "Acme Productions" never pulls the
first and last together unless they match each other too, and "Acme" in Boston never joins "Acme"
in Denver through an "Acme" with no address. Auto clusters use auto-tier links only; review
clusters use all.

Linked items are nodes: an account, or a group of accounts of one name (see ``dedupe.name_groups``).
Each cluster has an *anchor*, its node with the most accounts. A name-only link between the anchors
of two clusters also joins them when the larger anchor is a name group: a name written alike by
many records is established, so its typo and suffix variants (and their own small groups) each join
it by a link *to it*, never through one another. "Cushmman and Wakefield" joins the 400 records of
"Cushman & Wakefield" by matching that name; a variant of the variant does not ride along.

No link, of any kind, joins two clusters whose places conflict: once a cluster holds an account with a
postcode, city, country or website domain, an account with another one does not join it through an
account that has none. "Easter Seals" with no postcode links the one in 60608 and the one in 81559 (the
pair guard keeps those two apart), but joins only one of them. Links are tried strongest first (the
highest score, then the most evidence), so the account joins the one it matches best.
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


Place = tuple[str | None, ...]
"""A node's postcode, city, country and website domain, normalized (``None``: not known)."""


class _Places:
    """What each cluster's accounts say about where it is: the known value of each place field."""

    def __init__(self, sets: UnionFind, places: Sequence[Place] | None) -> None:
        self._sets, self._places, self._known = sets, places, dict[int, Place]()

    def _merged(self, left_root: int, right_root: int) -> Place | None:
        """The place of two clusters as one; ``None`` when a field known to both differs."""
        assert self._places is not None
        mine = self._known.get(left_root) or self._places[left_root]
        theirs = self._known.get(right_root) or self._places[right_root]
        if mine == theirs:
            return mine
        merged = []
        for a, b in zip(mine, theirs, strict=True):
            if a is None:
                merged.append(b)
            elif b is None or a == b:
                merged.append(a)
            else:
                return None
        return tuple(merged)

    def agree(self, left: int, right: int) -> bool:
        """Whether the clusters of two nodes may be one: no place field known to both differs."""
        if self._places is None:
            return True
        left_root, right_root = self._sets.find(left), self._sets.find(right)
        return left_root == right_root or self._merged(left_root, right_root) is not None

    def link(self, left: int, right: int) -> None:
        """Join the clusters of two nodes unless their places conflict; the joined one knows what either knew."""
        if self._places is None:
            self._sets.union(left, right)
            return
        left_root, right_root = self._sets.find(left), self._sets.find(right)
        if left_root == right_root:
            return
        merged = self._merged(left_root, right_root)
        if merged is not None:
            self._sets.union(left_root, right_root)
            self._known[self._sets.find(left_root)] = merged


class _Anchors:
    """Each cluster's anchor: its node with the most accounts (the lowest position on a tie)."""

    def __init__(self, sets: UnionFind, weights: Sequence[int]) -> None:
        self._sets, self._weights, self._anchor = sets, weights, dict[int, int]()

    def of(self, node: int) -> int:
        root = self._sets.find(node)
        if root not in self._anchor:
            self._anchor[root] = min(self._sets.members(root), key=lambda n: (-self._weights[n], n))
        return self._anchor[root]

    def heavy(self, node: int) -> bool:
        return self._weights[node] > 1

    def join(self, left: int, right: int, places: _Places) -> None:
        heavier = min(self.of(left), self.of(right), key=lambda n: (-self._weights[n], n))
        places.link(left, right)
        self._anchor[self._sets.find(left)] = heavier


def _strongest_first(match: Match) -> tuple[float, int]:
    return -match.score, -len(match.evidence)


def cluster(
    matches: Sequence[Match], weights: Sequence[int] | None = None, places: Sequence[Place] | None = None
) -> Clustering:
    """Group matched positions into auto clusters and review clusters.

    ``weights``: accounts per node (1 each); ``places``: each node's place (without it, no place check).
    """
    auto_sets, all_sets = UnionFind(), UnionFind()
    all_places = _Places(all_sets, places)
    for match in sorted(matches, key=_strongest_first) if places is not None else matches:
        if match.rule.chains:
            all_places.link(match.left, match.right)
    for match in matches:  # an auto link the place check refused joins no auto cluster either
        if match.rule.tier is Tier.AUTO and all_sets.find(match.left) == all_sets.find(match.right):
            auto_sets.union(match.left, match.right)
    weak = sorted((m for m in matches if not m.rule.chains), key=lambda m: -m.score)
    size = 1 + max((max(m.left, m.right) for m in matches), default=0)
    linked = _linked_pairs(matches, size) if weak else set()
    anchors = _Anchors(all_sets, weights or [1] * size)
    for match in weak:
        left, right = match.left, match.right
        if all_sets.find(left) == all_sets.find(right) or not all_places.agree(left, right):
            continue
        anchored = {left, right} == {anchors.of(left), anchors.of(right)} and (
            anchors.heavy(left) or anchors.heavy(right))
        if anchored or _fully_linked(all_sets.members(left), all_sets.members(right), linked, size):
            anchors.join(left, right, all_places)
    auto, every = auto_sets.groups(), all_sets.groups()
    auto_keys = {tuple(group) for group in auto}
    review = [group for group in every if tuple(group) not in auto_keys]
    return Clustering(auto=auto, review=review, linked=every)
