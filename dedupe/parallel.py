"""Score blocked pairs over several processes.

Scoring splits cleanly: each slice of blocked pairs is independent. Workers are forked (POSIX only)
so they read the profiles from the parent's memory instead of receiving a copy, and only the pairs
that match travel back. Normalizing is not spread the same way: measured, rebuilding a million
profiles from worker results cost the parent more than computing them. With ``workers=1``, or too
little work to pay for a fork, everything runs here.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from typing import Any

from dedupe.blocking import Blocking
from dedupe.candidate import Profile
from dedupe.score import Match, Thresholds, score_pair

MIN_PER_WORKER = 50_000
"""Pairs below which forking a worker costs more than it saves."""
PAIR_CHUNK = 100_000

_shared: Any = None
"""What forked workers read: set just before the fork, cleared after."""


def _can_fork(workers: int, total: int) -> int:
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(workers, total // MIN_PER_WORKER))


def _score_slice(start: int, stop: int) -> list[Match]:
    profiles, blocking, thresholds = _shared
    size, matches = blocking.size, []
    for pair in blocking.pairs[start:stop]:
        left, right = divmod(pair, size)
        match = score_pair(profiles[left], profiles[right], (left, right), thresholds)
        if match is not None:
            matches.append(match)
    return matches


def _forked_slice(bounds: tuple[int, int]) -> list[tuple[Any, ...]]:
    return [(m.left, m.right, m.rule, m.score, m.evidence) for m in _score_slice(*bounds)]


def score_pairs(
    profiles: Sequence[Profile], blocking: Blocking, thresholds: Thresholds, workers: int = 1
) -> list[Match]:
    """Every blocked pair that matches by some rule, scored by up to ``workers`` processes.

    Forked workers score slices and send back bare fields as each slice finishes; the matches are
    rebuilt here around the parent's own name keys, so a million matches neither pile up in transit
    nor carry a million copies of the names.
    """
    global _shared
    total = len(blocking.pairs)
    workers = _can_fork(workers, total)
    _shared = (profiles, blocking, thresholds)
    try:
        if workers == 1:
            return _score_slice(0, total)
        bounds = [(start, min(start + PAIR_CHUNK, total)) for start in range(0, total, PAIR_CHUNK)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return [
                Match(left, right, rule, score, profiles[left].key, profiles[right].key, evidence)
                for chunk in pool.imap(_forked_slice, bounds)
                for left, right, rule, score, evidence in chunk
            ]
    finally:
        _shared = None
