"""Blocking: which pairs of accounts are worth scoring at all.

Accounts share a block when they have the same name key, website domain, phone, street line, or
distinctive name word (the fuzzy block: it catches typos in the other words, and every link needs a
shared distinctive word anyway). Within a word block larger than ``window``, accounts are sorted by
name key and each is compared with its ``window`` next neighbours only (sorted neighbourhood), since
typo twins sort next to each other. Other blocks larger than ``max_block`` are skipped, except name
blocks: equal names are grouped before blocking (see ``dedupe.name_groups``), so a name block holds
only one name's groups in different places, which are split by place here. Pairs therefore grow with
the number of accounts, not its square.

Inside a block, accounts in different countries or cities are neither paired nor neighbours: scoring
refuses them anyway (see ``dedupe.places``), and at ten million accounts a common name ("Smith &
Jones Dental") has dozens of namesakes elsewhere, so most of its pairs would be such. An account
with no country (or city) is paired with all.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations, groupby
from operator import attrgetter

from dedupe.candidate import Profile
from dedupe.forking import can_fork, forked_map

NAME_BLOCK = "name"
WORD_BLOCK = "word"


@dataclass(slots=True)
class Blocking:
    pairs: list[int]
    """Unique pairs ``(i, j)``, ``i < j``, each encoded as ``i * size + j`` (``divmod(pair, size)``), sorted."""
    size: int
    """Number of accounts blocked."""
    skipped_blocks: dict[str, int] = field(default_factory=dict)
    """Blocks over the size cap, by kind."""


BLOCK_FIELDS = {NAME_BLOCK: "key", "domain": "domain", "phone": "phone", "street": "street", WORD_BLOCK: "distinctive"}
"""Each kind of block and the profile field holding an account's key in it (its words, for word blocks)."""


def build_blocks(profiles: Sequence[Profile], kind: str) -> defaultdict[str, list[int]]:
    """Positions of the accounts in each block of one kind (one kind at a time keeps memory low)."""
    blocks = defaultdict[str, list[int]](list)
    keys = map(attrgetter(BLOCK_FIELDS[kind]), profiles)
    if kind == WORD_BLOCK:
        for position, words in enumerate(keys):
            for word in words:
                blocks[word].append(position)
    else:
        for position, key in enumerate(keys):
            if key:
                blocks[key].append(position)
    return blocks


def _neighbours(members: list[int], profiles: Sequence[Profile], window: int, size: int) -> list[int]:
    """Each member paired with its ``window`` next neighbours by name key, unless country or city differ."""
    ordered = sorted(members, key=lambda position: profiles[position].key)
    places = [(profiles[position].country, profiles[position].city) for position in ordered]
    pairs = []
    for index, a in enumerate(ordered):
        country, city = places[index]
        for other in range(index + 1, min(index + 1 + window, len(ordered))):
            other_country, other_city = places[other]
            if (country is None or other_country is None or country == other_country) and (
                city is None or other_city is None or city == other_city
            ):
                b = ordered[other]
                pairs.append(a * size + b if a < b else b * size + a)
    return pairs


_PLACE_FIELDS = (attrgetter("country"), attrgetter("city"))
"""Fields that split a block: accounts with different known values are never one company."""
_MIN_TO_SPLIT = 5
"""Accounts below which pairing them all costs less than splitting them by place."""


def _split(
    members: list[int], profiles: Sequence[Profile], depth: int
) -> tuple[dict[str, list[int]], list[int]]:
    """``members`` by their value of the ``depth``-th place field, and those without one."""
    field, known, unknown = _PLACE_FIELDS[depth], defaultdict[str, list[int]](list), []
    for position in members:
        value = field(profiles[position])
        if value is None:
            unknown.append(position)
        else:
            known[value].append(position)
    return known, unknown


def _pairs_within(members: list[int], profiles: Sequence[Profile], size: int, depth: int = 0) -> list[int]:
    """Pairs of ``members`` (ascending) that agree on the place fields from ``depth`` on, or lack one."""
    if depth == len(_PLACE_FIELDS) or len(members) < _MIN_TO_SPLIT:
        return [a * size + b for a, b in combinations(members, 2)]
    known, unknown = _split(members, profiles, depth)
    pairs = _pairs_within(unknown, profiles, size, depth + 1)
    for group in known.values():
        pairs += _pairs_within(group, profiles, size, depth + 1)
        pairs += _pairs_across(group, unknown, profiles, size, depth + 1)
    return pairs


def _pairs_across(left: list[int], right: list[int], profiles: Sequence[Profile], size: int, depth: int) -> list[int]:
    """Pairs of one account from ``left`` and one from ``right`` that agree on the place fields from ``depth`` on."""
    if not left or not right:
        return []
    if depth == len(_PLACE_FIELDS) or len(left) * len(right) < _MIN_TO_SPLIT:
        return [a * size + b if a < b else b * size + a for a in left for b in right]
    left_known, left_unknown = _split(left, profiles, depth)
    right_known, right_unknown = _split(right, profiles, depth)
    pairs = _pairs_across(left_unknown, right, profiles, size, depth + 1)
    for value, group in left_known.items():
        pairs += _pairs_across(group, right_known.get(value, []), profiles, size, depth + 1)
        pairs += _pairs_across(group, right_unknown, profiles, size, depth + 1)
    return pairs


def _kind_pairs(profiles: Sequence[Profile], kind: str, max_block: int, window: int) -> tuple[array[int], int]:
    """The pairs one kind of block gives (a compact array, repeats possible) and its skipped blocks.

    Blocks come in the order of their first account, so the pairs come in long ascending runs.
    """
    size = len(profiles)
    pairs: list[int] = []
    skipped = 0
    for members in build_blocks(profiles, kind).values():
        members_count = len(members)
        if members_count == 1:
            continue
        if members_count == 2:  # the most common block: one pair, ``members`` ascending
            pairs.append(members[0] * size + members[1])
        elif kind == WORD_BLOCK and window < members_count <= max_block:
            pairs += _neighbours(members, profiles, window, size)
        elif members_count <= max_block or kind == NAME_BLOCK:
            pairs += _pairs_within(members, profiles, size)
        else:
            skipped += 1
    return array("q", pairs), skipped


MIN_TO_FORK = 100_000
"""Accounts below which blocking in forked workers costs more than it saves."""
_COSTLIEST_FIRST = (WORD_BLOCK, NAME_BLOCK, "domain", "phone", "street")


def candidate_pairs(profiles: Sequence[Profile], max_block: int = 50, window: int = 8, workers: int = 1) -> Blocking:
    """All unique pairs that share a block of at most ``max_block`` accounts (word blocks: neighbours).

    With ``workers`` > 1, forked workers block one kind each at a time and send back their pairs. The
    pairs of all kinds are sorted together and repeats dropped: sorting long ascending runs is cheaper
    than hashing every pair into a set first.
    """

    def kind_pairs(kind: str) -> tuple[array[int], int]:
        return _kind_pairs(profiles, kind, max_block, window)

    if workers > 1 and can_fork() and len(profiles) >= MIN_TO_FORK:
        with forked_map(kind_pairs, _COSTLIEST_FIRST, workers) as pending:
            by_kind = dict(zip(_COSTLIEST_FIRST, pending.get(), strict=True))
    else:
        by_kind = {kind: kind_pairs(kind) for kind in BLOCK_FIELDS}
    all_pairs: list[int] = []
    skipped: dict[str, int] = {}
    for kind in BLOCK_FIELDS:
        pairs, skipped_blocks = by_kind[kind]
        all_pairs += pairs
        if skipped_blocks:
            skipped[kind] = skipped_blocks
    all_pairs.sort()
    unique = [pair for pair, _ in groupby(all_pairs)]
    return Blocking(pairs=unique, size=len(profiles), skipped_blocks=skipped)
