"""Score blocked pairs over several processes.

Scoring splits cleanly: each slice of blocked pairs is independent. This process scores the first
part of the pairs itself while forked workers (see ``dedupe.forking``) score the rest and send back
only the pairs that match, as bare fields; the matches are rebuilt here around this process's own
name keys. The split leaves this process less, since it also rebuilds the workers' matches. With
``workers=1``, or too little work to pay for a fork, everything runs here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dedupe.blocking import Blocking
from dedupe.candidate import Profile
from dedupe.forking import can_fork, forked_map
from dedupe.score import Match, Thresholds, score_pair

MIN_PER_WORKER = 50_000
"""Pairs below which forking a worker costs more than it saves."""
PAIR_CHUNK = 100_000
OWN_SHARE = 0.4
"""Part of the pairs this process scores itself when it has workers: less than theirs, since it also
rebuilds their matches (about a third of blocked pairs match)."""


def _score_slice(
    profiles: Sequence[Profile], blocking: Blocking, thresholds: Thresholds, start: int, stop: int
) -> list[Match]:
    size, matches = blocking.size, []
    for pair in blocking.pairs[start:stop]:
        left, right = divmod(pair, size)
        match = score_pair(profiles[left], profiles[right], (left, right), thresholds)
        if match is not None:
            matches.append(match)
    return matches


def score_pairs(
    profiles: Sequence[Profile], blocking: Blocking, thresholds: Thresholds, workers: int = 1
) -> list[Match]:
    """Every blocked pair that matches by some rule, in pair order, scored by up to ``workers`` processes."""
    total = len(blocking.pairs)
    workers = max(1, min(workers, total // MIN_PER_WORKER)) if can_fork() else 1
    if workers == 1:
        return _score_slice(profiles, blocking, thresholds, 0, total)

    def fields_of_matches(bounds: tuple[int, int]) -> list[tuple[Any, ...]]:
        matches = _score_slice(profiles, blocking, thresholds, *bounds)
        return [(m.left, m.right, m.rule, m.score, m.evidence) for m in matches]

    own = int(total * OWN_SHARE)
    chunks = [(start, min(start + PAIR_CHUNK, total)) for start in range(own, total, PAIR_CHUNK)]
    with forked_map(fields_of_matches, chunks, workers - 1) as pending:
        matches = _score_slice(profiles, blocking, thresholds, 0, own)
        matches += [
            Match(left, right, rule, score, profiles[left].key, profiles[right].key, evidence)
            for chunk in pending.get()
            for left, right, rule, score, evidence in chunk
        ]
    return matches
