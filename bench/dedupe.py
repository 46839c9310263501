"""Dedupe speed: seconds and peak memory to normalize, block, score and cluster N generated accounts.

    python bench/dedupe.py                       # 1,000,000 accounts, splink on a 100,000 sample
    python bench/dedupe.py --n 20000 --splink-n 0
    python bench/dedupe.py --n 10000000 --batch 1000000 --splink-n 0   # accounts not all held at once

Accounts come from ``bench/generate_companies.py`` (generation is not timed). Peak memory is the
process's peak resident set size, generated accounts included. With ``--batch``, accounts are
generated and normalized a batch at a time, so only their profiles stay in memory (as when a mirror
streams its accounts); the time spent generating is taken out of the normalize figure.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from collections.abc import Iterator
from itertools import islice, pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate_companies import generate
from bench.splink_runner import MISSING_MESSAGE, run_splink, splink_installed
from dedupe.blocking import candidate_pairs
from dedupe.candidate import Candidate, Profile, build_profiles
from dedupe.cluster import cluster
from dedupe.matcher import MatchSettings, node_places
from dedupe.name_groups import group_names
from dedupe.parallel import score_pairs


def accounts(count: int, start: int = 0, rows: Iterator[dict[str, str]] | None = None) -> list[Candidate]:
    rows = islice(generate(count, seed=11) if rows is None else rows, count)
    return [
        Candidate(
            id=f"a{index}",
            name=row["name"],
            website=row["website"] or None,
            phone=row["phone"] or None,
            street=row["street"] or None,
            city=row["city"] or None,
            postcode=row["postcode"] or None,
            country=row["country"],
        )
        for index, row in enumerate(rows, start=start)
    ]


def profiles_in_batches(count: int, batch: int, workers: int) -> tuple[list[Profile], float]:
    """Profiles of ``count`` generated accounts, a batch at a time; also the seconds spent generating."""
    rows, profiles, generating = generate(count, seed=11), [], 0.0
    for start in range(0, count, batch):
        before = time.perf_counter()
        candidates = accounts(min(batch, count - start), start, rows)
        generating += time.perf_counter() - before
        profiles += build_profiles(candidates, workers)
    return profiles, generating


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1]) if Path("/proc/self/statm").exists() else 0
    return pages * resource.getpagesize() / 2**20


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def ours(candidates: list[Candidate], count: int, workers: int, batch: int) -> float:
    settings = MatchSettings(workers=workers)
    stages: list[tuple[str, float, float, float]] = []
    generating = 0.0  # seconds spent generating accounts in batch mode, taken out of every mark after them

    def mark(stage: str) -> None:
        stages.append((stage, time.perf_counter() - generating, cpu_seconds() - generating, current_mb()))

    mark("start")
    if batch:
        profiles, generating = profiles_in_batches(count, batch, workers)
        mark("normalize")
        print(f"  generating accounts in batches of {batch:,}: {generating:.2f} s, not counted below")
    else:
        profiles = build_profiles(candidates, workers)
        mark("normalize")
    groups = group_names(profiles)
    mark("group")
    blocking = candidate_pairs(groups.nodes, settings.max_block, workers=settings.workers)
    mark("block")
    matches = score_pairs(groups.nodes, blocking, settings.thresholds, settings.workers)
    mark("score")
    clustering = cluster(matches, [len(members) for members in groups.members], node_places(groups))
    mark("cluster")
    print(f"  accounts in memory: RSS {stages[0][3]:,.0f} MB")
    for (_, wall_before, cpu_before, _), (stage, wall, cpu, rss) in pairwise(stages):
        print(f"  {stage:<10} {wall - wall_before:7.2f} s wall {cpu - cpu_before:7.2f} s CPU   RSS after {rss:,.0f} MB")
    total, total_cpu = stages[-1][1] - stages[0][1], stages[-1][2] - stages[0][2]
    print(f"  total      {total:7.2f} s wall {total_cpu:7.2f} s CPU   {count / total:,.0f} records/s   "
          f"peak RSS {peak_mb():,.0f} MB")  # fmt: skip
    print(f"  pairs compared {len(blocking.pairs):,} of {count * (count - 1) // 2:,} all-pairs "
          f"({len(blocking.pairs) / max(count, 1):.2f} per account), matches {len(matches):,}")  # fmt: skip
    grouped = sum(len(members) for members in groups.members if len(members) > 1)
    print(f"  name groups: {len(groups.nodes) - (count - grouped):,} holding {grouped:,} accounts; "
          f"linked clusters: auto {len(clustering.auto):,}, review {len(clustering.review):,}")  # fmt: skip
    return count / total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="generated accounts to dedupe")
    parser.add_argument("--splink-n", type=int, default=100_000, help="sample for splink; 0 to skip it")
    parser.add_argument("--workers", type=int, default=2, help="processes that normalize, block and score")
    parser.add_argument("--batch", type=int, default=0, help="generate and normalize this many accounts at a time")
    args = parser.parse_args()
    candidates = accounts(args.splink_n if args.batch else args.n)
    gc.collect()
    gc.freeze()
    gc.disable()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"== ours: {args.n:,} accounts on {os.cpu_count()} cores, {args.workers} workers (load average {load})")
    rate = ours(candidates, args.n, args.workers, args.batch)
    if args.splink_n <= 0:
        return 0
    if not splink_installed():
        print(MISSING_MESSAGE)
        return 0
    sample = candidates[: args.splink_n]
    run = run_splink(sample)
    splink_rate = len(sample) / run.seconds
    print(f"== splink (DuckDB): {len(sample):,} accounts in {run.seconds:.2f} s, {splink_rate:,.0f} records/s")
    print(f"== ours / splink records per second: {rate / splink_rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
