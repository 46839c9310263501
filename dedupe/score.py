"""Pair scoring: does this pair of accounts describe one company, by which rule, on what evidence.

Guards come first: a pair never matches when its markers differ (numbers, roman numerals,
directions), when the names share no distinctive word (one typo allowed), or when both accounts have
a website domain, street address, postcode, city or country and they differ (branches and namesakes
elsewhere stay separate accounts; see ``dedupe.places`` for street lines that differ only a little).
Then the name similarity (rapidfuzz, generic words weighing little) and the independent evidence
(same website domain, phone, or street address in the same place) pick the rule:

=========================  ============================================  =======
rule                       needs                                         tier
=========================  ============================================  =======
same name + evidence       equal name keys and one piece of evidence     auto
                           (two if the name is all generic words)
similar name + evidence    name score >= ``evidence_name_score``, and    auto
                           one piece of evidence
shared word + evidence     a shared distinctive word and two pieces      review
                           (one, if the names share two distinctive
                           words or one name's words lie in the other)
name + phone, nearby       a same or similar name + evidence link whose  review
street                     street lines differ a little, with the same
                           phone (see ``dedupe.places``)
same name                  equal name keys, phones not different         review
similar name               name score >= ``name_only_score``, phones     review
                           not different
=========================  ============================================  =======
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from dedupe.candidate import Profile
from dedupe.places import differ, places_conflict, same_address, streets_differ

_TYPO_MIN_LENGTH = 5
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_SHARED_WORDS_FOR_ONE_EVIDENCE = 2
_GENERIC_NAME_EVIDENCE = 2
"""Pieces of evidence a name of generic words only ("Community Learning Center") needs, even when equal."""


class Tier(StrEnum):
    AUTO = "auto"
    """Safe to merge unattended: the names agree and independent evidence confirms it."""
    REVIEW = "review"
    """Name-only links, or evidence an admin should see (a shared word only, a nearby street): an admin approves."""


class MatchRule(StrEnum):
    SAME_NAME_AND_EVIDENCE = "same name + evidence"
    SIMILAR_NAME_AND_EVIDENCE = "similar name + evidence"
    SHARED_WORD_AND_EVIDENCE = "shared word + evidence"
    NAME_AND_PHONE_NEARBY_STREET = "name + phone, nearby street"
    SAME_NAME = "same name"
    SIMILAR_NAME = "similar name"

    @property
    def tier(self) -> Tier:
        """The tier a link by this rule earns."""
        return Tier.AUTO if self in _AUTO_RULES else Tier.REVIEW

    @property
    def chains(self) -> bool:
        """Whether links by this rule may join clusters transitively: only evidence-backed ones."""
        return self in _EVIDENCE_RULES


_AUTO_RULES = frozenset({MatchRule.SAME_NAME_AND_EVIDENCE, MatchRule.SIMILAR_NAME_AND_EVIDENCE})
_EVIDENCE_RULES = _AUTO_RULES | {MatchRule.SHARED_WORD_AND_EVIDENCE, MatchRule.NAME_AND_PHONE_NEARBY_STREET}


@dataclass(frozen=True, slots=True)
class Thresholds:
    name_only_score: float = 92.0
    """Name score a pair needs without evidence; such links never chain (see ``dedupe.cluster``)."""
    evidence_name_score: float = 85.0
    """Name score a pair needs when a domain, phone or street address confirms it."""
    shared_word_evidence: int = 2
    """Pieces of evidence that let names sharing only a distinctive word match (for review)."""
    contained_score: float = 95.0
    """Coverage at which one name's distinctive words lie within the other's ("Mason" in "Mason School");
    one piece of evidence then suffices for review."""
    generic_weight: float = 0.3
    """Weight of the full names (generic words included) against the distinctive words alone."""


@dataclass(frozen=True, slots=True)
class Match:
    """A scored link between two accounts, with everything needed to explain it."""

    left: int
    right: int
    """Positions of the two accounts in the matched list."""
    rule: MatchRule
    score: float
    left_key: str
    right_key: str
    evidence: tuple[str, ...]
    """Independent evidence, e.g. ``("domain acme.com", "phone 3125550100")``."""

    def sentence(self) -> str:
        """The match in one sentence, for the review queue and the merge plan."""
        relation = "=" if self.left_key == self.right_key else "~"
        evidence = f"same {', same '.join(self.evidence)}" if self.evidence else "no other evidence"
        names = f'"{self.left_key}" {relation} "{self.right_key}"'
        rule = f"{self.rule.value.capitalize()} ({self.rule.tier.value} tier)"
        return f"{rule}: {names}, score {self.score:.0f}; {evidence}."


def _has_twin(word: str, words: tuple[str, ...]) -> bool:
    """Whether ``word`` is among ``words``, allowing one typo when either word has five letters or more."""
    if word in words:
        return True
    return any(
        max(len(word), len(other)) >= _TYPO_MIN_LENGTH and OSA.distance(word, other, score_cutoff=1) <= 1
        for other in words
    )


def share_distinctive_word(left: Profile, right: Profile) -> bool:
    """Whether the names share a distinctive word, allowing one typo in words of five letters or more."""
    return any(_has_twin(word, right.distinctive) for word in left.distinctive)


def shared_evidence(left: Profile, right: Profile) -> tuple[str, ...]:
    """The independent facts two accounts share: website domain, phone, street address in the same place."""
    facts = []
    if left.domain and left.domain == right.domain:
        facts.append(f"domain {left.domain}")
    if left.phone and left.phone == right.phone:
        facts.append(f"phone {left.phone}")
    if same_address(left, right):
        facts.append(f"address {left.street}")
    return tuple(facts)


def _coverage(words: tuple[str, ...], other_tokens: list[str]) -> float:
    """How well ``other_tokens`` cover ``words``: best-match similarity per word, weighted by length."""
    total = sum(len(word) for word in words)
    matched = sum(len(word) * max(fuzz.ratio(word, other) for other in other_tokens) for word in words)
    return matched / total if total else 100.0


def name_score(left: Profile, right: Profile, generic_weight: float) -> float:
    """Similarity of two names, 0-100, with generic words ("group", "services") weighing little.

    Each side's distinctive words are looked up among all the other side's words, so a typo in a
    generic word ("Prodcts") costs little, while a different distinctive word costs a lot.
    """
    full = fuzz.token_sort_ratio(left.key, right.key)
    left_words, right_words = left.key.split(), right.key.split()
    distinctive = min(_coverage(left.distinctive, right_words), _coverage(right.distinctive, left_words))
    return generic_weight * full + (1 - generic_weight) * distinctive


def _rule(
    left: Profile, right: Profile, evidence: tuple[str, ...], thresholds: Thresholds
) -> tuple[MatchRule, float] | None:
    if not evidence and differ(left.phone, right.phone):
        return None  # names alike, nothing else shared, and the phone numbers disagree
    if left.key == right.key:
        return (MatchRule.SAME_NAME_AND_EVIDENCE if evidence else MatchRule.SAME_NAME), 100.0
    score = name_score(left, right, thresholds.generic_weight)
    if evidence and score >= thresholds.evidence_name_score:
        return MatchRule.SIMILAR_NAME_AND_EVIDENCE, score
    if score >= thresholds.name_only_score:
        return MatchRule.SIMILAR_NAME, score
    left_words, right_words = left.key.split(), right.key.split()
    contained = max(_coverage(left.distinctive, right_words), _coverage(right.distinctive, left_words))
    shared_words = sum(_has_twin(word, right.distinctive) for word in left.distinctive)
    strong_names = contained >= thresholds.contained_score or shared_words >= _SHARED_WORDS_FOR_ONE_EVIDENCE
    if len(evidence) >= thresholds.shared_word_evidence or (evidence and strong_names):
        return MatchRule.SHARED_WORD_AND_EVIDENCE, score
    return None


def markers_differ(left: Profile, right: Profile) -> bool:
    """Whether the names differ by a number, roman numeral or direction that is not part of the street line."""
    if left.markers == right.markers:
        return False
    address_words = set(f"{left.street} {right.street}".split())

    def name_only(markers: tuple[str, ...]) -> set[str]:
        return {m for m in markers if _ORDINAL.sub(r"\1", m) not in address_words}

    return name_only(left.markers) != name_only(right.markers)


def score_pair(left: Profile, right: Profile, positions: tuple[int, int], thresholds: Thresholds) -> Match | None:
    """Score one pair; ``None`` when the guards refuse it or no rule's threshold is met."""
    if left.key == right.key:  # same words, so same markers: only the place guard applies
        if places_conflict(left, right):
            return None
    elif markers_differ(left, right) or places_conflict(left, right) or not share_distinctive_word(left, right):
        return None
    evidence = shared_evidence(left, right)
    if not left.distinctive and len(evidence) < _GENERIC_NAME_EVIDENCE:
        return None
    found = _rule(left, right, evidence, thresholds)
    if found is None:
        return None
    rule, score = found
    if streets_differ(left, right):  # nearby lines with one phone, or the guard would have refused them
        if rule not in _AUTO_RULES:
            return None
        rule = MatchRule.NAME_AND_PHONE_NEARBY_STREET
    return Match(positions[0], positions[1], rule, score, left.key, right.key, evidence)
