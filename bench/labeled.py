"""Labeled duplicate sets and pairwise precision/recall, shared by the dedupe benchmarks."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dedupe.candidate import Candidate

REPO = Path(__file__).resolve().parent.parent
CHICAGO_CSV = REPO.parent / "shared" / "data" / "chicago_early_childhood_sites.csv"
GENERATED_CSV = REPO / "bench" / "data" / "company_duplicates.csv"


@dataclass(frozen=True, slots=True)
class LabeledSet:
    name: str
    candidates: list[Candidate]
    truth: list[str]
    """The true entity of each candidate, by position."""
    incomplete: frozenset[int] = frozenset()
    """Positions whose true id the labeler could not complete; scored apart (see ``load_chicago``)."""


@dataclass(frozen=True, slots=True)
class PairQuality:
    precision: float
    recall: float
    proposed: int
    true_pairs: int

    def line(self, label: str) -> str:
        return (
            f"{label:<34} precision {self.precision:.4f}  recall {self.recall:.4f}  "
            f"pairs proposed {self.proposed:>7}  true pairs {self.true_pairs:>7}"
        )


PRECISION_GOAL = 0.99


def goal_line(result: PairQuality, recall_goal: float) -> str:
    """Whether a set meets the goal, counted on auto + review proposals: a review proposal is one an admin sees."""
    met = result.precision >= PRECISION_GOAL and result.recall >= recall_goal
    return (
        f"{'':<34} goal (counting auto + review: a proposal in review is one an admin sees and decides): "
        f"precision >= {PRECISION_GOAL:.2f} at recall >= {recall_goal:.2f}: {'met' if met else 'NOT met'}"
    )


def pairs_of(groups: Iterable[Iterable[int]]) -> set[tuple[int, int]]:
    """All unordered pairs inside each group."""
    pairs: set[tuple[int, int]] = set()
    for group in groups:
        members = sorted(group)
        pairs.update((a, b) for index, a in enumerate(members) for b in members[index + 1 :])
    return pairs


def true_pairs(truth: list[str]) -> set[tuple[int, int]]:
    entities: defaultdict[str, list[int]] = defaultdict(list)
    for position, entity in enumerate(truth):
        entities[entity].append(position)
    return pairs_of(entities.values())


def quality(
    proposed: set[tuple[int, int]], truth: set[tuple[int, int]], unscored: frozenset[int] = frozenset()
) -> PairQuality:
    """Pairwise precision and recall; pairs touching an ``unscored`` position count neither way."""
    if unscored:
        proposed = {pair for pair in proposed if unscored.isdisjoint(pair)}
        truth = {pair for pair in truth if unscored.isdisjoint(pair)}
    hits = len(proposed & truth)
    precision = hits / len(proposed) if proposed else 1.0
    return PairQuality(precision, hits / len(truth) if truth else 1.0, len(proposed), len(truth))


_HOUSE_NUMBER = re.compile(r"\s*(\d+)")


def _bare_house_number(row: dict[str, str]) -> bool:
    number = _HOUSE_NUMBER.match(row["Address"])
    return number is not None and row["True Id"] == number[1]


def load_chicago(path: Path = CHICAGO_CSV) -> LabeledSet | None:
    """The Chicago early-childhood sites, or ``None`` when the shared data folder is absent.

    A true id is the site's house number followed by its ZIP ("1001 W Roosevelt Rd", 60608 ->
    "100160608"). For 177 records the labeler found no ZIP and the id is the bare house number, so
    one site carries two ids ("1001" and "100160608" for the same name at the same street line).
    Those records are marked ``incomplete``: the benchmark scores with and without them.
    """
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    candidates = [
        Candidate(
            id=str(index),
            name=row["Site name"],
            street=row["Address"],
            city="Chicago",
            postcode=row["Zip"] or None,
            phone=row["Phone"] or None,
        )
        for index, row in enumerate(rows)
    ]
    incomplete = frozenset(index for index, row in enumerate(rows) if _bare_house_number(row))
    return LabeledSet("chicago", candidates, [row["True Id"] for row in rows], incomplete)


def load_generated(path: Path = GENERATED_CSV) -> LabeledSet:
    """The committed labeled set of company-name duplicates (see ``bench/generate_companies.py``)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    candidates = [
        Candidate(
            id=row["id"],
            name=row["name"],
            website=row["website"] or None,
            phone=row["phone"] or None,
            street=row["street"] or None,
            city=row["city"] or None,
            postcode=row["postcode"] or None,
            country=row["country"] or None,
        )
        for row in rows
    ]
    return LabeledSet("generated", candidates, [row["entity"] for row in rows])


def bcubed(groups: Iterable[Iterable[int]], truth: list[str]) -> tuple[float, float]:
    """B-cubed precision and recall: per record, the share of its cluster that is truly its entity, and the
    share of its entity that is in its cluster, averaged over all records (unclustered records: alone)."""
    cluster_of = list(range(len(truth)))
    for number, group in enumerate(groups, start=len(truth)):
        for position in group:
            cluster_of[position] = number
    cluster_size = Counter(cluster_of)
    entity_size = Counter(truth)
    both = Counter(zip(cluster_of, truth, strict=True))
    precision = sum(both[c, t] / cluster_size[c] for c, t in zip(cluster_of, truth, strict=True)) / len(truth)
    recall = sum(both[c, t] / entity_size[t] for c, t in zip(cluster_of, truth, strict=True)) / len(truth)
    return precision, recall
