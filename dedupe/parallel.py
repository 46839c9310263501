"""Spread the two heavy pipeline stages, normalizing accounts and scoring pairs, over processes.

Both split cleanly: each slice of accounts (or of blocked pairs) is independent. Workers are forked
(POSIX only) so they read the candidates and profiles from the parent's memory instead of receiving
a copy; only results travel back: profiles as plain tuples (cheaper to pickle than objects), and the
few pairs that match. With ``workers=1``, or too little work to pay for a fork, everything runs here.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any

from dedupe.blocking import Blocking
from dedupe.candidate import Candidate, Profile, profile
from dedupe.score import Match, Thresholds, score_pair

MIN_PER_WORKER = 50_000
"""Accounts or pairs below which forking a worker costs more than it saves."""
CHUNK = 20_000
PAIR_CHUNK = 100_000

_shared: Any = None
"""What forked workers read: set just before the fork, cleared after."""


def _can_fork(workers: int, total: int) -> int:
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(workers, total // MIN_PER_WORKER))


_PROFILE_FIELDS = attrgetter(*(field.name for field in fields(Profile)))


def _profile_slice(bounds: tuple[int, int]) -> list[tuple[Any, ...]]:
    candidates: Sequence[Candidate] = _shared
    return [_PROFILE_FIELDS(profile(candidate)) for candidate in candidates[bounds[0] : bounds[1]]]


def profile_all(candidates: Sequence[Candidate], workers: int = 1) -> list[Profile]:
    """Profiles of all ``candidates``, in order, computed by up to ``workers`` processes."""
    global _shared
    workers = _can_fork(workers, len(candidates))
    if workers == 1:
        return [profile(candidate) for candidate in candidates]
    _shared = candidates
    try:
        bounds = [(start, min(start + CHUNK, len(candidates))) for start in range(0, len(candidates), CHUNK)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            chunks = pool.imap(_profile_slice, bounds)
            return [Profile(*values) for chunk in chunks for values in chunk]
    finally:
        _shared = None


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
