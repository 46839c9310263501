"""The account fields that dedupe reads (``Candidate``) and their normalized view (``Profile``)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypeVar

from connectors.records import Account
from dedupe.contact_points import (
    evidence_domain,
    normalize_country,
    normalize_phone,
    normalize_postcode,
    normalize_street,
)
from dedupe.normalize import fold_text, normalize_names
from dedupe.vocabulary import is_distinctive, is_marker, markers


@dataclass(frozen=True, slots=True)
class Candidate:
    """One account as dedupe sees it; ``street`` comes from the account's ``billing_street`` extra field."""

    id: str
    name: str
    website: str | None = None
    phone: str | None = None
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    created_at: datetime | None = None
    account_type: str | None = None

    @classmethod
    def from_account(cls, account: Account) -> Candidate:
        """The dedupe view of a synced account."""
        street = account.extra.get("billing_street")
        return cls(
            id=account.id,
            name=account.name,
            website=account.website,
            phone=account.phone,
            street=street if isinstance(street, str) else None,
            city=account.billing_city,
            postcode=account.billing_postcode,
            country=account.billing_country,
            created_at=account.created_at,
            account_type=account.account_type,
        )


class Profile(NamedTuple):
    """A candidate's normalized name and evidence, computed once and compared many times.

    A named tuple rather than a frozen dataclass: a run builds one per account, and a tuple is built
    several times faster.
    """

    id: str
    key: str
    """The normalized name (see ``dedupe.normalize``); its words are the name's tokens."""
    distinctive: tuple[str, ...]
    """Identifying words, sorted (tuples: a million profiles hold far less than with sets)."""
    markers: tuple[str, ...]
    domain: str | None
    phone: str | None
    postcode: str | None
    street: str | None
    city: str | None
    country: str | None


NameFeatures = tuple[str, tuple[str, ...], tuple[str, ...]]
"""A name's key, distinctive words and markers."""
_Normalized = TypeVar("_Normalized")
_Value = TypeVar("_Value", bound=Hashable)


class _Memo(dict[_Value, _Normalized]):
    """Normalizes each distinct value once; later lookups of the same value are plain dict hits."""

    def __init__(self, normalize: Callable[[_Value], _Normalized]) -> None:
        super().__init__()
        self._normalize = normalize

    def __missing__(self, value: _Value) -> _Normalized:
        normalized = self[value] = self._normalize(value)
        return normalized


class _KeyFeatures:
    """Distinctive words and markers of name keys; equal keys share one triple (and its strings).

    Each word is classified once, then a key's distinctive words and markers are set operations.
    """

    def __init__(self) -> None:
        self.by_key = _Memo(self._features)
        self._seen: set[str] = set()
        self._not_distinctive: set[str] = set()
        self._markers: set[str] = set()

    def _features(self, key: str) -> NameFeatures:
        words = set(key.split())
        for word in words - self._seen:
            self._seen.add(word)
            if not is_distinctive(word):
                self._not_distinctive.add(word)
            if is_marker(word):
                self._markers.add(word)
        found = () if self._markers.isdisjoint(words) else markers(tuple(words))
        return key, tuple(sorted(words - self._not_distinctive)), found


def name_features(names: Iterable[str]) -> dict[str, NameFeatures]:
    """Key, distinctive words and markers of each distinct name."""
    distinct = list(dict.fromkeys(names))
    keys = _KeyFeatures().by_key
    return dict(zip(distinct, map(keys.__getitem__, normalize_names(distinct)), strict=True))


def _city(city: str | None) -> str | None:
    return (fold_text(city).strip() or None) if city else None


def _phone(phone_and_country: tuple[str | None, str | None]) -> str | None:
    return normalize_phone(*phone_and_country)


def build_profiles(candidates: Sequence[Candidate]) -> list[Profile]:
    """Normalize every field of ``candidates`` that matching compares.

    Names, domains, streets and cities repeat across accounts (a company's duplicates, a city's
    thousands of accounts), so each distinct value is normalized once, and equal results share one
    object. One process: measured, a forked worker normalizing the names cost as much as it saved.
    """
    names = name_features(candidate.name for candidate in candidates)
    domains, postcodes = _Memo(evidence_domain), _Memo(normalize_postcode)
    streets, cities, countries = _Memo(normalize_street), _Memo(_city), _Memo(normalize_country)
    phones = _Memo(_phone)
    return [
        Profile(
            candidate.id,
            *names[candidate.name],
            domains[candidate.website],
            phones[candidate.phone, candidate.country],
            postcodes[candidate.postcode],
            streets[candidate.street],
            cities[candidate.city],
            countries[candidate.country],
        )
        for candidate in candidates
    ]
