"""Equal names as one node: accounts whose normalized names are equal form a group by key, of any size.

A company entered hundreds of times under one name must not be compared pair by pair (a 1,000-strong
group is half a million pairs, and name-only links do not chain): its accounts are grouped by name
key, split by place so that namesakes elsewhere stay apart, and each group then takes part in
blocking, scoring and clustering as one profile (its *representative*: the first member's profile,
filled in with what the others know). A typo or a suffix variant that matches the representative
joins the whole group, through the same guards as any pair.

Within one name, an account joins the group of the place it agrees with (the same guards as a pair:
website domain, street line, postcode, city and country, and no differing phone without other shared
evidence). An account that agrees with two groups (no city, while the name exists in Boston and in
Denver) joins neither and is matched pair by pair. Names of generic words only are never grouped:
they need evidence, pair by pair. A group is *auto* when its accounts are all tied together by a
shared domain, phone or street line; otherwise it goes to review. Street lines that differ even a
little are different sites here: when they are one site written two ways, the scored link says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from dedupe.candidate import Profile
from dedupe.cluster import UnionFind
from dedupe.places import differ, places_conflict, streets_differ
from dedupe.score import shared_evidence

_EVIDENCE_FIELDS = ("domain", "phone", "street")
_PLACE_FIELDS = ("domain", "phone", "postcode", "street", "city", "country")


@dataclass(slots=True)
class _Site:
    profile: Profile
    members: list[int] = field(default_factory=list)


def _agrees(site: Profile, profile: Profile) -> bool:
    if places_conflict(site, profile) or streets_differ(site, profile):
        return False
    return not (differ(site.phone, profile.phone) and not shared_evidence(site, profile))


def _filled(site: Profile, profile: Profile) -> Profile:
    missing = {name: getattr(profile, name) for name in _PLACE_FIELDS if getattr(site, name) is None}
    return site._replace(**{name: value for name, value in missing.items() if value is not None})


def _known(profile: Profile) -> int:
    return sum(getattr(profile, name) is not None for name in _PLACE_FIELDS)


def _sites(members: list[int], profiles: Sequence[Profile]) -> list[_Site]:
    """``members`` (one name) split by place; the best-described accounts found the sites."""
    sites: list[_Site] = []
    for position in sorted(members, key=lambda p: -_known(profiles[p])):
        profile = profiles[position]
        agreeing = [site for site in sites if _agrees(site.profile, profile)]
        if not agreeing:
            sites.append(_Site(profile, [position]))
        elif len(agreeing) == 1:
            agreeing[0].members.append(position)
            agreeing[0].profile = _filled(agreeing[0].profile, profile)
    return [_Site(site.profile, sorted(site.members)) for site in sites if len(site.members) > 1]


def _tied_by_evidence(members: list[int], profiles: Sequence[Profile]) -> bool:
    """Whether one chain of shared domains, phones and street lines ties all ``members`` together."""
    sets = UnionFind()
    for name in _EVIDENCE_FIELDS:
        first: dict[str, int] = {}
        for position in members:
            value = getattr(profiles[position], name)
            if value is not None:
                sets.union(first.setdefault(value, position), position)
    return len(sets.members(members[0])) == len(members)


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
    """Group accounts with equal, non-generic names by place; every other account is a node of its own."""
    by_key = defaultdict[str, list[int]](list)
    for position, profile in enumerate(profiles):
        if profile.distinctive:
            by_key[profile.key].append(position)
    sites = [site for members in by_key.values() if len(members) > 1 for site in _sites(members, profiles)]
    grouped = {position for site in sites for position in site.members}
    nodes = [site.profile for site in sites]
    members = [site.members for site in sites]
    auto = [_tied_by_evidence(site.members, profiles) for site in sites]
    for position, profile in enumerate(profiles):
        if position not in grouped:
            nodes.append(profile)
            members.append([position])
            auto.append(True)
    return NameGroups(nodes, members, auto)
