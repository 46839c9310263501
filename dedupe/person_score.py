"""Does this pair of contacts or leads describe one person, how sure, and on what evidence.

Each field that both records fill agrees, nearly agrees or disagrees, and adds or takes away
points (a hand-set Fellegi-Sunter weighting: a field adds about as much as agreeing by chance is
rare). Names are compared both ways round (given and family swapped). A pair is **auto** tier when
its score reaches ``auto_score``, both names agree (a nickname, one typo or a swap allowed) and a
fact other than the name confirms it (email, phone, birth date, street address); **review** when
it reaches ``review_score``. The sentence lists what agreed and what did not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz.distance import OSA, JaroWinkler

from dedupe.contact_points import normalize_phone, normalize_postcode, normalize_street
from dedupe.normalize import fold_text, normalize_name
from dedupe.person_fields import initial_agrees, is_role_email, nickname_of, normalize_email, person_name
from dedupe.score import Tier

_SIMILAR = 0.9
"""Jaro-Winkler similarity at which two name words are one name with a typo."""
_SIMILAR_STREET = 0.88


@dataclass(frozen=True, slots=True)
class Person:
    """One contact or lead as person dedupe sees it; empty fields are simply not compared."""

    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    """The company's name: a lead's company field, a contact's account name."""
    account_id: str | None = None
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    birthdate: str | None = None


class PersonProfile(NamedTuple):
    """A person's normalized fields, computed once and compared many times."""

    id: str
    given: str | None
    family: str | None
    email: str | None
    role_email: bool
    phone: str | None
    company: str | None
    account_id: str | None
    street: str | None
    city: str | None
    postcode: str | None
    birthdate: str | None

    @property
    def initial(self) -> str | None:
        """The given name's first letter."""
        return self.given[0] if self.given else None


def profile(person: Person) -> PersonProfile:
    """The normalized view of one person."""
    name = person_name(person.name)
    email = normalize_email(person.email)
    digits = "".join(ch for ch in person.birthdate or "" if ch.isdigit())
    return PersonProfile(
        person.id, name.given, name.family, email, is_role_email(email), normalize_phone(person.phone),
        normalize_name(person.company) or None if person.company else None, person.account_id,
        normalize_street(person.street), (fold_text(person.city).strip() or None) if person.city else None,
        normalize_postcode(person.postcode), digits or None,
    )


@dataclass(frozen=True, slots=True)
class Weights:
    """The scores each tier needs (the points per field are fixed in the comparisons below)."""

    auto_score: float = 12.0
    review_score: float = 8.5


class _Part(NamedTuple):
    points: float
    note: str
    agrees: bool
    confirms: bool = False
    """A fact other than the name, agreeing exactly (email, phone, birth date, street)."""


def _given(left: str, right: str) -> _Part:
    if left == right:
        return _Part(4.0, f"given name {left}", True)
    if nickname_of(left, right):
        return _Part(3.5, f"given names {left} ~ {right} (nickname)", True)
    if initial_agrees(left, right):
        return _Part(1.0, f"given names {left} ~ {right} (initial)", True)
    if JaroWinkler.similarity(left, right) >= _SIMILAR or OSA.distance(left, right) <= 1 < min(len(left), len(right)):
        return _Part(2.5, f"given names {left} ~ {right} (typo)", True)
    return _Part(-4.0, f"given names {left} / {right}", False)


def _family(left: str, right: str) -> _Part:
    if left == right:
        return _Part(5.0, f"family name {left}", True)
    if JaroWinkler.similarity(left, right) >= _SIMILAR or OSA.distance(left, right) <= 1 < min(len(left), len(right)):
        return _Part(3.0, f"family names {left} ~ {right} (typo)", True)
    return _Part(-3.0, f"family names {left} / {right}", False)


def _names(given: tuple[str | None, str | None], family: tuple[str | None, str | None]) -> list[_Part]:
    parts = []
    if given[0] and given[1]:
        parts.append(_given(given[0], given[1]))
    if family[0] and family[1]:
        parts.append(_family(family[0], family[1]))
    return parts


def _readings(p: PersonProfile) -> list[tuple[str | None, str | None]]:
    """The ways a name may be meant: as written, and its words the other way round (a lone word: either)."""
    if p.given and p.family:
        return [(p.given, p.family), (p.family, p.given)]
    return [(p.given, p.family), (p.family, p.given)] if p.given or p.family else []


def name_parts(left: PersonProfile, right: PersonProfile) -> tuple[list[_Part], bool]:
    """The name comparison as it fits best: as written, or with the right side's words the other way round."""
    readings = _readings(right)
    if not readings:
        return [], False
    written = _names((left.given, readings[0][0]), (left.family, readings[0][1]))
    other = _names((left.given, readings[1][0]), (left.family, readings[1][1]))
    if sum(p.points for p in other) > sum(p.points for p in written) + 1:
        return other, bool(right.given and right.family)
    return written, False


def _birthdate(left: str, right: str) -> _Part:
    if left == right:
        return _Part(7.0, f"birth date {left}", True, True)
    differing = [i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b]
    transposed = len(differing) == 2 and differing[1] == differing[0] + 1 and sorted(left) == sorted(right)
    if len(left) == len(right) and (len(differing) == 1 or transposed):
        return _Part(2.0, f"birth dates {left} ~ {right}", True)
    return _Part(-5.0, f"birth dates {left} / {right}", False)


def _street(left: str, right: str) -> _Part:
    if left == right:
        return _Part(4.0, f"street {left}", True, True)
    if JaroWinkler.similarity(left, right) >= _SIMILAR_STREET:
        return _Part(2.0, f"streets {left} ~ {right}", True)
    return _Part(-2.0, f"streets {left} / {right}", False)


def _equal(label: str, left: str, right: str, agree: float, differ: float, confirms: bool = False) -> _Part:
    if left == right:
        return _Part(agree, f"{label} {left}", True, confirms)
    return _Part(differ, f"{label}s {left} / {right}", False)


def _email(left: PersonProfile, right: PersonProfile) -> _Part:
    assert left.email and right.email
    if left.email == right.email:
        return _Part(0.5, f"role mailbox {left.email}", False) if left.role_email else _Part(
            9.0, f"email {left.email}", True, True)
    return _Part(-1.0, f"emails {left.email} / {right.email}", False)


def _company(left: PersonProfile, right: PersonProfile) -> _Part:
    if (left.account_id and left.account_id == right.account_id) or (left.company and left.company == right.company):
        return _Part(1.5, f"company {left.company or left.account_id}", True)
    return _Part(-2.0, f"companies {left.company or left.account_id} / {right.company or right.account_id}", False)


def evidence_parts(left: PersonProfile, right: PersonProfile) -> list[_Part]:
    """Every fact beside the name that both records fill, compared."""
    parts = []
    if left.email and right.email:
        parts.append(_email(left, right))
    if left.phone and right.phone:
        parts.append(_equal("phone", left.phone, right.phone, 4.0, -1.0, confirms=True))
    if left.birthdate and right.birthdate:
        parts.append(_birthdate(left.birthdate, right.birthdate))
    if left.street and right.street:
        parts.append(_street(left.street, right.street))
    if left.postcode and right.postcode:
        parts.append(_equal("postcode", left.postcode, right.postcode, 2.0, -1.5))
    if left.city and right.city:
        parts.append(_equal("city", left.city, right.city, 1.0, -1.0))
    if (left.company or left.account_id) and (right.company or right.account_id):
        parts.append(_company(left, right))
    return parts


def _vouched(parts: list[_Part]) -> bool:
    """Whether a same email or birth date speaks for two records whose names differ in part (a new family name)."""
    return any(p.confirms and p.note.startswith(("email", "birth date")) for p in parts)


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """A scored link between two people, with what agreed and what did not."""

    left: int
    right: int
    """Positions of the two people in the matched list."""
    tier: Tier
    score: float
    agreed: tuple[str, ...]
    differed: tuple[str, ...]
    confirmed: bool
    """Whether a fact other than the name agrees (email, phone, birth date, street): such links chain."""

    def sentence(self) -> str:
        """The match in one sentence, for the review queue and the merge plan."""
        differed = f"; differ: {', '.join(self.differed)}" if self.differed else ""
        return f"{self.tier.value} tier, score {self.score:.1f}: same {', '.join(self.agreed)}{differed}."


def score_people(left: PersonProfile, right: PersonProfile, positions: tuple[int, int],
                 weights: Weights = Weights()) -> PersonMatch | None:
    """Score one pair; ``None`` below the review score or when the names do not agree at all."""
    names, swapped = name_parts(left, right)
    if not names or not any(p.agrees for p in names):
        return None
    parts = names + evidence_parts(left, right)
    score = sum(p.points for p in parts)
    if score < weights.review_score or (not all(p.agrees for p in names) and not _vouched(parts)):
        return None
    confirmed = any(p.confirms for p in parts)
    names_agree = len(names) == 2 and all(p.agrees and p.points > 1.0 for p in names)
    tier = Tier.AUTO if score >= weights.auto_score and names_agree and confirmed else Tier.REVIEW
    agreed = tuple(p.note for p in parts if p.agrees) + (("names written the other way round",) if swapped else ())
    return PersonMatch(positions[0], positions[1], tier, score, agreed, tuple(p.note for p in parts if not p.agrees),
                       confirmed)
