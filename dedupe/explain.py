"""How each account of a proposed merge joined it: a walk over its links, one line per account.

Explanations stay short however large the cluster: one line per account (the link that first reached
it from the root, normally the master) and counts, never every pair.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dedupe.candidate import Candidate
from dedupe.score import Match, MatchRule

if TYPE_CHECKING:
    from dedupe.matcher import ProposedMerge

_PHRASES = {
    MatchRule.SAME_NAME_AND_EVIDENCE: "same name as",
    MatchRule.SIMILAR_NAME_AND_EVIDENCE: "similar name to",
    MatchRule.SHARED_WORD_AND_EVIDENCE: "a shared word with",
    MatchRule.NAME_AND_PHONE_NEARBY_STREET: "same name and phone, a nearby street, as",
    MatchRule.SAME_NAME: "same name as",
    MatchRule.SIMILAR_NAME: "similar name to",
}


@dataclass(frozen=True, slots=True)
class Explanation:
    lines: dict[str, str]
    """Account id -> how it joined (the root: ``first record``)."""
    same_name: int
    """Accounts that joined by a name equal to another's (after normalizing)."""
    similar_name: int
    """Accounts that joined by a similar name (typo, suffix, a shared word)."""


def _match_line(match: Match, me: int, other_id: str) -> str:
    mine, theirs = (match.left_key, match.right_key) if me == match.left else (match.right_key, match.left_key)
    relation = "=" if mine == theirs else "~"
    evidence = f"same {', same '.join(match.evidence)}" if match.evidence else "no other evidence"
    names = f'"{mine}"' if mine == theirs else f'"{mine}" {relation} "{theirs}"'
    score = f"score {match.score:.0f}, {match.rule.tier.value} tier"
    return f"{_PHRASES[match.rule]} {other_id} ({names}, {score}); {evidence}"


def _group_line(merge: ProposedMerge, here: int, there: int, candidates: Sequence[Candidate], key: str) -> str:
    evidence = merge.group_evidence.get(there) or merge.group_evidence.get(here)
    return f'same name as {candidates[here].id} ("{key}")' + (f"; same {', same '.join(evidence)}" if evidence else "")


def explain(merge: ProposedMerge, candidates: Sequence[Candidate], root_id: str) -> Explanation:
    """Walk ``merge``'s name groups and links breadth first from ``root_id``; each account's first link explains it."""
    edges: defaultdict[int, list[tuple[int, Match | str]]] = defaultdict(list)
    for group, key in zip(merge.groups, merge.group_keys, strict=True):
        for member in group[1:]:
            edges[group[0]].append((member, key))
            edges[member].append((group[0], key))
    for match in sorted(merge.matches, key=lambda m: (m.rule.tier.value, -m.score)):
        edges[match.left].append((match.right, match))
        edges[match.right].append((match.left, match))
    position = dict(zip(merge.account_ids, merge.positions, strict=True))
    root = position.get(root_id, merge.positions[0])
    lines, same, similar = {candidates[root].id: "first record"}, 0, 0
    queue = deque([root])
    while queue:
        here = queue.popleft()
        for there, link in edges[here]:
            there_id = candidates[there].id
            if there_id in lines:
                continue
            if isinstance(link, str):
                lines[there_id], same = _group_line(merge, here, there, candidates, link), same + 1
            else:
                lines[there_id] = _match_line(link, there, candidates[here].id)
                same, similar = (same + 1, similar) if link.left_key == link.right_key else (same, similar + 1)
            queue.append(there)
    return Explanation(lines, same, similar)
