"""Equal names as one node: accounts whose normalized names are equal form a group by key, of any size.

A company entered hundreds of times under one name must not be compared pair by pair (a 1,000-strong
group is half a million pairs, and name-only links do not chain): its accounts are grouped by name
key and place, and each group then takes part in blocking, scoring and clustering as one node (the
profile its accounts share). A typo or a suffix variant that matches the group joins all its
accounts at once, through the same guards as any pair.

A group holds the accounts of one name whose website domain, phone, street line, postcode, city
and country are all equal (or all missing alike), so its accounts never disagree about a place and
the group stands for each of them exactly. Groups of one name in places that do not conflict (one
with a city, one without) link by name like any pair (see ``dedupe.cluster``). Names of generic
words only are never grouped: they need evidence, pair by pair. A group is *auto* when its accounts
share a domain, phone or street line (they all hold the same ones); otherwise it goes to review.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from dedupe.candidate import Profile

_PLACE = attrgetter("domain", "phone", "postcode", "street", "city", "country")


@dataclass(frozen=True, slots=True)
class NameGroups:
    """The accounts as matching sees them: one node per name group, one per other account."""

    nodes: list[Profile]
    """Profiles to block, score and cluster: group representatives first, then the ungrouped accounts."""
    members: list[list[int]]
    """Positions (in the accounts) of each node's accounts, first member first."""
    auto: list[bool]
    """Whether each node's accounts are tied by evidence (a lone account is)."""

    def expand(self, nodes: Sequence[int]) -> list[int]:
        """The accounts of some nodes, sorted."""
        return sorted(position for node in nodes for position in self.members[node])


def group_names(profiles: Sequence[Profile]) -> NameGroups:
    """Group accounts with equal, non-generic names and equal places; every other account is a node of its own."""
    once: set[str] = set()
    repeated: set[str] = set()
    for profile in profiles:  # most names occur once: only repeated ones get a site key and a list
        if profile.key in once:
            repeated.add(profile.key)
        elif profile.distinctive:
            once.add(profile.key)
    by_site = defaultdict[tuple[object, ...], list[int]](list)
    for position, profile in enumerate(profiles):
        if profile.key in repeated:
            by_site[(profile.key, *_PLACE(profile))].append(position)
    groups = [members for members in by_site.values() if len(members) > 1]
    grouped = {position for members in groups for position in members}
    nodes = [profiles[members[0]] for members in groups]
    auto = [bool(node.domain or node.phone or node.street) for node in nodes]
    for position, profile in enumerate(profiles):
        if position not in grouped:
            nodes.append(profile)
            groups.append([position])
            auto.append(True)
    return NameGroups(nodes, groups, auto)
