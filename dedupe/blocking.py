"""Blocking: which pairs of accounts are worth scoring at all.

Accounts share a block when they have the same name key, website domain, phone, street line, or
distinctive name word (the fuzzy block: it catches typos and word-order changes in the other words,
and every link needs a shared distinctive word anyway). Blocks larger than ``max_block`` are
skipped, except same-name blocks, which become a chain so that the oversized cluster they form is
reported rather than silently dropped. Pairs therefore grow with the number of accounts, not its square.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from dedupe.candidate import Profile

NAME_BLOCK = "name"


@dataclass(slots=True)
class Blocking:
    pairs: list[tuple[int, int]]
    """Unique pairs of positions ``(i, j)`` with ``i < j``."""
    skipped_blocks: dict[str, int] = field(default_factory=dict)
    """Blocks over the size cap, by kind."""


def block_keys(profile: Profile) -> Iterator[tuple[str, str]]:
    """The ``(kind, value)`` blocks one account belongs to."""
    if profile.key:
        yield NAME_BLOCK, profile.key
    if profile.domain:
        yield "domain", profile.domain
    if profile.phone:
        yield "phone", profile.phone
    if profile.street:
        yield "street", profile.street
    for token in profile.distinctive:
        yield "word", token


def build_blocks(profiles: Sequence[Profile]) -> dict[tuple[str, str], list[int]]:
    """Positions of the accounts in each block."""
    blocks: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for position, profile in enumerate(profiles):
        for key in block_keys(profile):
            blocks[key].append(position)
    return blocks


def candidate_pairs(profiles: Sequence[Profile], max_block: int = 50) -> Blocking:
    """All unique pairs that share a block of at most ``max_block`` accounts."""
    seen: set[tuple[int, int]] = set()
    skipped: defaultdict[str, int] = defaultdict(int)
    for (kind, _), members in build_blocks(profiles).items():
        if len(members) <= max_block:
            seen.update((a, b) for index, a in enumerate(members) for b in members[index + 1 :])
        elif kind == NAME_BLOCK:
            seen.update(pairwise(members))
        else:
            skipped[kind] += 1
    return Blocking(pairs=sorted(seen), skipped_blocks=dict(skipped))
