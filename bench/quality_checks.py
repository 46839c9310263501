"""What the quality benchmark reports beyond precision and recall: did the guards hold, and what do the
false positives have in common (shared street, phone and name say the labels may disagree with the data).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dedupe.candidate import Profile
from dedupe.matcher import ProposedMerge
from dedupe.places import nearby_streets
from dedupe.score import Tier, markers_differ

Pair = tuple[int, int]


def marker_violations(pairs: Iterable[Pair], profiles: Sequence[Profile]) -> int:
    """Proposed pairs whose names differ by a number, roman numeral or direction: the guard allows none."""
    return sum(markers_differ(profiles[a], profiles[b]) for a, b in pairs)


def unsupported_auto_links(merges: Iterable[ProposedMerge]) -> int:
    """Links inside auto-tier merges that are not an auto rule (names agree) or carry no evidence."""
    return sum(
        link.rule.tier is not Tier.AUTO or not link.evidence
        for merge in merges
        if merge.tier is Tier.AUTO
        for link in merge.matches
    )


@dataclass(frozen=True, slots=True)
class FalsePositives:
    pairs: int
    street: int
    """Pairs at one street line, or nearby ones (see ``dedupe.places``)."""
    phone: int
    name: int
    """Pairs with one normalized name."""

    def line(self) -> str:
        return (
            f"false positives {self.pairs}: {self.street} at one street line (or a nearby one), "
            f"{self.phone} with one phone, {self.name} with one name key"
        )


def _near(mine: str | None, theirs: str | None) -> bool:
    return mine is not None and theirs is not None and nearby_streets(mine, theirs)


def false_positives(pairs: Iterable[Pair], profiles: Sequence[Profile]) -> FalsePositives:
    """What the wrongly proposed pairs share."""
    shared = [(profiles[a], profiles[b]) for a, b in pairs]
    return FalsePositives(
        pairs=len(shared),
        street=sum(_near(left.street, right.street) for left, right in shared),
        phone=sum(left.phone is not None and left.phone == right.phone for left, right in shared),
        name=sum(left.key == right.key for left, right in shared),
    )


def describe(pair: Pair, truth: Sequence[str], profiles: Sequence[Profile]) -> str:
    """One false positive: the true ids, then each side's normalized name, street line and phone."""
    sides = [profiles[position] for position in pair]
    ids = " / ".join(truth[position] for position in pair)
    return f"  ids {ids}: " + " | ".join(f'"{side.key}" {side.street} {side.phone}' for side in sides)
