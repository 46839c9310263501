"""Pairwise and B-cubed precision and recall of proposed merges, ours and splink's, on labeled duplicate sets.

    python bench/dedupe_quality.py               # generated set + Chicago set + splink
    python bench/dedupe_quality.py --no-splink   # ours only
    python bench/dedupe_quality.py --limit 500   # first 500 records of each set (smoke test)
    python bench/dedupe_quality.py --no-splink --show-false-positives 20   # and list some of them
    python bench/dedupe_quality.py --only people   # the FEBRL person sets only (see bench/people_quality.py)
    python bench/dedupe_quality.py --only heavy    # the heavily duplicated company set only

The heavily duplicated set (``bench/heavy_companies.py``) is built at run time from real company
names (the stock-index constituents ``pytickersymbols`` ships, and the Chicago set's organisations),
with clusters of up to several hundred records; it needs ``pip install -e '.[bench]'``.

The generated set is ``bench/data/company_duplicates.csv``; the Chicago early-childhood set is read
from ``../shared/data/`` (never copied into the project). splink is scored at every threshold of a
grid; its best threshold is the one with the highest F1. Where a set marks records whose true id is
incomplete (Chicago: a bare house number, see ``bench/labeled.py``), both tools are also scored
without the pairs that touch them. Each set also gets two checks (no proposed
pair differs by a number or direction; every auto-tier link has agreeing names and evidence) and a
count of what the false positives share.

Each set ends with its goal (#20): precision >= 0.99 at pairwise recall >= 0.80 for companies, 0.90 for
people, counted on auto + review proposals on the full labels. A proposal in review is one an admin sees
and decides on, so a wrong one costs the admin's trust as much as a wrong auto merge would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import people_quality
from bench.heavy_companies import load_heavy
from bench.labeled import (
    LabeledSet,
    PairQuality,
    bcubed,
    goal_line,
    load_chicago,
    load_generated,
    pairs_of,
    quality,
    true_pairs,
)
from bench.quality_checks import describe, false_positives, marker_violations, unsupported_auto_links
from bench.splink_runner import MISSING_MESSAGE, run_splink, splink_installed
from dedupe.candidate import build_profiles
from dedupe.cluster import UnionFind
from dedupe.matcher import find_duplicates
from dedupe.score import Tier

SPLINK_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
RECALL_GOAL = 0.80
"""Pairwise recall companies need at precision 0.99 (#20), on the full labels."""


def f1(result: PairQuality) -> float:
    total = result.precision + result.recall
    return 2 * result.precision * result.recall / total if total else 0.0


def bcubed_line(label: str, groups: list[list[int]], truth: list[str]) -> str:
    precision, recall = bcubed(groups, truth)
    return f"{label + ', B-cubed':<34} precision {precision:.4f}  recall {recall:.4f}"


def _components(pairs: set[tuple[int, int]]) -> list[list[int]]:
    sets = UnionFind()
    for a, b in pairs:
        sets.union(a, b)
    return sets.groups()


def ours(labeled: LabeledSet, show_false_positives: int) -> None:
    result = find_duplicates(labeled.candidates)
    position = {candidate.id: index for index, candidate in enumerate(labeled.candidates)}
    truth = true_pairs(labeled.truth)
    for label, tiers in (("ours, auto tier", {Tier.AUTO}), ("ours, auto + review", {Tier.AUTO, Tier.REVIEW})):
        groups = [[position[i] for i in merge.account_ids] for merge in result.merges if merge.tier in tiers]
        print(quality(pairs_of(groups), truth).line(label))
        print(bcubed_line(label, groups, labeled.truth))
        if labeled.incomplete:
            print(quality(pairs_of(groups), truth, labeled.incomplete).line(f"{label}, complete ids"))
    proposed = pairs_of([position[i] for i in merge.account_ids] for merge in result.merges)
    print(goal_line(quality(proposed, truth), RECALL_GOAL))
    print(f"{'':<34} largest cluster {max(map(len, groups), default=0)}, pairs compared {result.pairs_compared}")
    profiles = build_profiles(labeled.candidates)
    print(
        f"{'':<34} checks: {marker_violations(proposed, profiles)} proposed pairs differ by a number or "
        f"direction, {unsupported_auto_links(result.merges)} auto-tier links lack agreeing names or evidence"
    )
    wrong = sorted(proposed - truth)
    print(f"{'':<34} {false_positives(wrong, profiles).line()}")
    for pair in wrong[:show_false_positives]:
        print(describe(pair, labeled.truth, profiles))


def splink(labeled: LabeledSet) -> None:
    run = run_splink(labeled.candidates)
    truth = true_pairs(labeled.truth)
    edges = [(min(a, b), max(a, b), p) for a, b, p in run.edges]
    proposed = {threshold: {(a, b) for a, b, p in edges if p >= threshold} for threshold in SPLINK_THRESHOLDS}
    scored = {threshold: quality(pairs, truth) for threshold, pairs in proposed.items()}
    best = max(scored, key=lambda threshold: f1(scored[threshold]))
    print(scored[best].line(f"splink, best F1 (p >= {best})"))
    print(bcubed_line(f"splink, clusters at p >= {best}", _components(proposed[best]), labeled.truth))
    if labeled.incomplete:
        complete = {threshold: quality(pairs, truth, labeled.incomplete) for threshold, pairs in proposed.items()}
        best_complete = max(complete, key=lambda threshold: f1(complete[threshold]))
        print(complete[best_complete].line(f"splink, complete ids (p >= {best_complete})"))
    precise = [t for t in SPLINK_THRESHOLDS if scored[t].precision >= 0.99]
    if precise:
        print(scored[precise[0]].line(f"splink, precision>=0.99 (p >= {precise[0]})"))
    print(f"{'':<34} splink seconds {run.seconds:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-splink", action="store_true", help="measure ours only")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N records of each set")
    parser.add_argument("--show-false-positives", type=int, default=0, metavar="N", help="list N false positives")
    parser.add_argument("--only", choices=("companies", "people", "heavy"), default=None, help="one kind of set only")
    args = parser.parse_args()
    with_splink = not args.no_splink and splink_installed()
    if not args.no_splink and not with_splink:
        print(MISSING_MESSAGE)
    if args.only in (None, "people"):
        people_quality.run(args.limit, with_splink)
    if args.only == "people":
        return 0
    heavy = load_heavy()
    if heavy is None:
        print("pytickersymbols is not installed: run `.venv/bin/pip install -e '.[bench]'` for the heavy set")
    sets = [heavy] if args.only == "heavy" else [load_generated(), load_chicago(), heavy]
    if args.only != "heavy" and sets[1] is None:
        print("Chicago set not found at ../shared/data/chicago_early_childhood_sites.csv: skipping it")
    for labeled in filter(None, sets):
        if args.limit:
            kept = frozenset(p for p in labeled.incomplete if p < args.limit)
            labeled = LabeledSet(labeled.name, labeled.candidates[: args.limit], labeled.truth[: args.limit], kept)
        print(f"== {labeled.name}: {len(labeled.candidates)} records")
        ours(labeled, args.show_false_positives)
        if with_splink:
            splink(labeled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
