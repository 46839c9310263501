"""Blocking: which pairs of accounts are worth scoring at all.

Accounts share a block when they have the same name key, website domain, phone, street line, or
distinctive name word (the fuzzy block: it catches typos in the other words, and every link needs a
shared distinctive word anyway). Within a word block larger than ``window``, accounts are sorted by
name key and each is compared with its ``window`` next neighbours only (sorted neighbourhood), since
typo twins sort next to each other. Blocks larger than ``max_block`` are skipped; same-name ones are
kept aside as oversized groups, to be reported rather than silently dropped. Pairs therefore grow
with the number of accounts, not its square.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from dedupe.candidate import Profile

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
    oversized_names: list[list[int]] = field(default_factory=list)
    """Same-name blocks over the size cap: more look-alikes than one merge should take."""


def build_blocks(profiles: Sequence[Profile]) -> dict[str, defaultdict[str, list[int]]]:
    """Positions of the accounts in each block, by kind of block."""
    names, domains, phones, streets, words = (defaultdict[str, list[int]](list) for _ in range(5))
    for position, profile in enumerate(profiles):
        if profile.key:
            names[profile.key].append(position)
        if profile.domain:
            domains[profile.domain].append(position)
        if profile.phone:
            phones[profile.phone].append(position)
        if profile.street:
            streets[profile.street].append(position)
        for token in profile.distinctive:
            words[token].append(position)
    return {NAME_BLOCK: names, "domain": domains, "phone": phones, "street": streets, WORD_BLOCK: words}


def _neighbours(members: list[int], profiles: Sequence[Profile], window: int, size: int) -> list[int]:
    ordered = sorted(members, key=lambda position: profiles[position].key)
    return [
        min(a, b) * size + max(a, b)
        for index, a in enumerate(ordered)
        for b in ordered[index + 1 : index + 1 + window]
    ]


def candidate_pairs(profiles: Sequence[Profile], max_block: int = 50, window: int = 8) -> Blocking:
    """All unique pairs that share a block of at most ``max_block`` accounts (word blocks: neighbours)."""
    size = len(profiles)
    seen: set[int] = set()
    skipped: dict[str, int] = {}
    oversized: list[list[int]] = []
    for kind, blocks in build_blocks(profiles).items():
        for members in blocks.values():
            count = len(members)
            if count == 1:
                continue
            if kind == WORD_BLOCK and window < count <= max_block:
                seen.update(_neighbours(members, profiles, window, size))
            elif count <= max_block:
                seen.update([a * size + b for index, a in enumerate(members) for b in members[index + 1 :]])
            else:
                skipped[kind] = skipped.get(kind, 0) + 1
                if kind == NAME_BLOCK:
                    oversized.append(members)
    return Blocking(pairs=sorted(seen), size=size, skipped_blocks=skipped, oversized_names=oversized)
