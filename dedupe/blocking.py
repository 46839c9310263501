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
from collections.abc import Callable, Iterable, Sequence
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


def _single_keys(field: str) -> Callable[[Profile], Iterable[str]]:
    def keys(profile: Profile) -> Iterable[str]:
        value: str | None = getattr(profile, field)
        return (value,) if value else ()

    return keys


BLOCK_KEYS: dict[str, Callable[[Profile], Iterable[str]]] = {
    NAME_BLOCK: _single_keys("key"),
    "domain": _single_keys("domain"),
    "phone": _single_keys("phone"),
    "street": _single_keys("street"),
    WORD_BLOCK: lambda profile: profile.distinctive,
}
"""Each kind of block and the keys an account has in it."""


def build_blocks(profiles: Sequence[Profile], kind: str) -> defaultdict[str, list[int]]:
    """Positions of the accounts in each block of one kind (one kind at a time keeps memory low)."""
    blocks = defaultdict[str, list[int]](list)
    keys_of = BLOCK_KEYS[kind]
    for position, profile in enumerate(profiles):
        for key in keys_of(profile):
            blocks[key].append(position)
    return blocks


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
    for kind in BLOCK_KEYS:
        for members in build_blocks(profiles, kind).values():
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
