"""Exact-name groups at export scale: a 50,000-row account export where companies appear 1,000 times.

    python bench/dedupe_groups.py                              # 50,000 rows, 20 names x 1,000 rows
    python bench/dedupe_groups.py --rows 2000 --groups 2 --group-size 300   # a quick look

Writes a Salesforce account export (the generated accounts of ``bench/generate_companies.py`` plus
``--groups`` companies entered ``--group-size`` times each, in the spellings that normalize alike:
case, punctuation, legal form), then plans it as ``warden dedupe plan --from-csv FILE --out plan.csv``
does: read the export, match, choose masters and values, write the review CSV. No CRM call is made.

The plan is made with progress shown as ``warden dedupe plan`` shows it: Rich bars (drawn on a
terminal console that writes to /dev/null, so a pipe gets no escape codes) and, in a separate run,
the log lines a worker or a pipe gets; and once without progress, to show what the progress costs.
Each is run ``--rounds`` times, interleaved, and the one of least CPU time kept: the machine is shared,
and process CPU time (the drawing thread's included) moves less with the neighbours than wall time.

The naive way, in the same run: score every pair inside one exact-name group with the pair scorer
(what matching did before names were grouped by key, had the block-size cap not dropped the group),
timed, times the number of groups.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import combinations, islice
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate_companies import generate
from config.policy import Policy
from dedupe.candidate import Candidate, build_profiles
from dedupe.exports import read_account_export
from dedupe.plan import MergePlan, build_plan
from dedupe.plan_files import write_plan
from dedupe.score import Thresholds, score_pair
from dedupe.survivor import AccountFacts
from domain.progress import NO_PROGRESS, Progress
from jobs import log_setup
from jobs.progress import BarProgress, LogProgress

HEADER = ["Account ID", "Account Name", "Website", "Phone", "Billing City", "Billing Country", "Created Date"]
SPELLINGS = ("{} N.V.", "{} NV", "{}, N.V.", "{} n.v.", "{} Inc.", "{}")
BRANDS = ("Koninklijke Philips Electronics", "Siemens Muenchen", "Canon Tokyo", "Hitachi Seisakusho",
          "International Business Machines", "Robert Bosch Stiftung", "Nokia Networks", "Basf Schwarzheide",
          "Matsushita Electric Industrial", "Sony Ericsson Mobile Communications", "Fujitsu Kawasaki",
          "Qualcomm Incorporated San Diego", "Samsung Electronics Suwon", "Bayer Leverkusen", "Henkel Duesseldorf",
          "Thales Avionics", "Valeo Vision", "Ricoh Ohta", "Toshiba Minato", "Xerox Norwalk")  # fmt: skip


def write_export(path: Path, rows: int, groups: int, group_size: int) -> None:
    """A Salesforce account export: ``groups`` names entered ``group_size`` times, then generated accounts."""
    rng = random.Random(5)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        number = 0
        for group in range(groups):
            brand = BRANDS[group % len(BRANDS)] + (f" {group // len(BRANDS) + 1}" if group >= len(BRANDS) else "")
            for _ in range(group_size):
                number += 1
                name = rng.choice(SPELLINGS).format(brand)
                writer.writerow([f"001G{number:011d}", name.upper() if rng.random() < 0.3 else name, "", "", "", "",
                                 "2024-01-15"])  # fmt: skip
        for row in islice(generate(rows), max(0, rows - number)):
            number += 1
            writer.writerow([f"001A{number:011d}", row["name"], row["website"], row["phone"], row["city"],
                             row["country"], "2023-06-01"])  # fmt: skip


def naive_seconds(brand: str, group_size: int) -> tuple[float, int]:
    """Seconds to score every pair of one exact-name group, and the pairs scored."""
    names = [SPELLINGS[i % len(SPELLINGS)].format(brand) for i in range(group_size)]
    profiles = build_profiles([Candidate(f"n{i}", name) for i, name in enumerate(names)])
    thresholds, started, pairs = Thresholds(), time.perf_counter(), 0
    for left, right in combinations(range(group_size), 2):
        score_pair(profiles[left], profiles[right], (left, right), thresholds)
        pairs += 1
    return time.perf_counter() - started, pairs


def planned(export: Path, out: Path, progress: Progress) -> tuple[float, float, MergePlan]:
    """Wall and CPU seconds to read the export, plan it and write the review CSV, and the plan."""
    started, cpu = time.perf_counter(), time.process_time()
    plan = build_plan([AccountFacts(a) for a in read_account_export(export).accounts], Policy(), workers=1,
                      progress=progress)
    write_plan(plan, out)
    return time.perf_counter() - started, time.process_time() - cpu, plan


def fastest(export: Path, out: Path, ways: dict[str, Callable[[], Progress]],
            rounds: int) -> dict[str, tuple[float, float, MergePlan]]:
    """Per way of showing progress, the plan of least CPU time of ``rounds`` (the ways take turns)."""
    best: dict[str, tuple[float, float, MergePlan]] = {}
    for _ in range(rounds):
        for name, progress in ways.items():
            run = planned(export, out, progress())
            if name not in best or run[1] < best[name][1]:
                best[name] = run
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="rows of the export")
    parser.add_argument("--groups", type=int, default=20, help="companies entered --group-size times each")
    parser.add_argument("--group-size", type=int, default=1_000, help="rows of each such company")
    parser.add_argument("--rounds", type=int, default=2, help="plans per way of showing progress (least CPU kept)")
    args = parser.parse_args()
    log_setup.configure(json_output=True)  # the log lines go to stderr, as the worker's do
    with tempfile.TemporaryDirectory() as folder, open(os.devnull, "w") as nowhere:
        export, out = Path(folder) / "accounts.csv", Path(folder) / "plan.csv"
        write_export(export, args.rows, args.groups, args.group_size)
        ways: dict[str, Callable[[], Progress]] = {
            "Rich bars": lambda: BarProgress(Console(file=nowhere, force_terminal=True, width=120)),
            "log lines": LogProgress,
            "no progress": lambda: NO_PROGRESS,
        }
        runs = fastest(export, out, ways, args.rounds)
        seconds, cpu, plan = runs["Rich bars"]
        widest = max(len(c.names) for c in plan.clusters)
        groups_found = sum(len(c.names) >= args.group_size for c in plan.clusters)
        biggest_cell = max(len(cell) for row in csv.reader(out.open(newline="", encoding="utf-8")) for cell in row)
    print(f"plan --from-csv with progress bars: {args.rows:,} rows in {seconds:.2f} s ({cpu:.2f} s CPU, "
          f"{args.rows / seconds:,.0f} rows/s), "
          f"0 API calls; {len(plan.clusters):,} clusters, {groups_found} of {args.groups} exact-name groups "
          f"whole (largest cluster {widest:,} accounts); longest CSV cell {biggest_cell:,} characters")
    bare = runs["no progress"][1]
    print(f"progress overhead (least CPU of {args.rounds} each): " + ", ".join(
        f"{name} {cpu_s:.2f} s CPU ({(cpu_s / bare - 1) * 100:+.1f}%, {wall:.2f} s wall)"
        for name, (wall, cpu_s, _) in runs.items() if name != "no progress")
        + f"; no progress {bare:.2f} s CPU ({runs['no progress'][0]:.2f} s wall)")
    one, pairs = naive_seconds(BRANDS[0], args.group_size)
    print(f"naive (every pair of each group scored): {pairs:,} pairs in {one:.2f} s per group, "
          f"{one * args.groups:.1f} s for {args.groups} groups: {one * args.groups / seconds:.1f}x the whole plan")
    return 0


if __name__ == "__main__":
    sys.exit(main())
