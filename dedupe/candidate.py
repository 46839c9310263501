"""The account fields that dedupe reads (``Candidate``) and their normalized view (``Profile``)."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from dedupe.contact_points import (
    evidence_domain,
    normalize_country,
    normalize_phone,
    normalize_postcode,
    normalize_street,
)
from dedupe.forking import can_fork, forked_map
from dedupe.normalize import fold_text, normalize_names
from dedupe.vocabulary import is_distinctive, is_marker, markers
from domain.records import Account


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


Columns = list[list[object]]
"""A batch's normalized fields, one list per ``Profile`` field after ``id``."""
MIN_TO_FORK = 200_000
"""Accounts below which normalizing part of them in a forked worker costs more than it saves."""
OWN_WEIGHT = 1.2
"""Shares of the accounts this process normalizes for each share a worker does: a little more, since
a worker also pickles its part and this process unpickles it."""


def _columns(candidates: Sequence[Candidate]) -> Columns:
    """Normalize every field that matching compares, a column at a time.

    Names, domains, streets and cities repeat across accounts (a company's duplicates, a city's
    thousands of accounts), so each distinct value is normalized once, and equal results share one
    object.
    """
    names = name_features(candidate.name for candidate in candidates)
    features = list(map(names.__getitem__, [candidate.name for candidate in candidates]))
    evidence: list[tuple[Callable[[Any], object], list[Any]]] = [
        (evidence_domain, [candidate.website for candidate in candidates]),
        (_phone, [(candidate.phone, candidate.country) for candidate in candidates]),
        (normalize_postcode, [candidate.postcode for candidate in candidates]),
        (normalize_street, [candidate.street for candidate in candidates]),
        (_city, [candidate.city for candidate in candidates]),
        (normalize_country, [candidate.country for candidate in candidates]),
    ]
    name_columns: Columns = [list(column) for column in zip(*features, strict=True)] if features else [[], [], []]
    return name_columns + [list(map(_Memo(normalize).__getitem__, values)) for normalize, values in evidence]


def build_profiles(candidates: Sequence[Candidate], workers: int = 1) -> list[Profile]:
    """Normalize every field of ``candidates`` that matching compares.

    With ``workers`` > 1, forked workers normalize the later parts of ``candidates`` (read from the
    memory they share with this process, so only start positions travel to them) and send back their
    columns pickled: a column of strings pickles about twice as fast as the same values in a million
    small tuples.
    """
    count = len(candidates)
    if workers < 2 or count < MIN_TO_FORK or not can_fork():
        columns = _columns(candidates)
    else:
        own = int(count * OWN_WEIGHT / (workers - 1 + OWN_WEIGHT))
        step = -(-(count - own) // (workers - 1))

        def pickled_columns(start: int) -> bytes:
            return pickle.dumps(_columns(candidates[start : start + step]), protocol=pickle.HIGHEST_PROTOCOL)

        with forked_map(pickled_columns, range(own, count, step), workers - 1) as pending:
            columns = _columns(candidates[:own])
            for part in pending.get():
                for column, more in zip(columns, pickle.loads(part), strict=True):
                    column += more
    ids = [candidate.id for candidate in candidates]
    return list(map(Profile._make, zip(ids, *columns, strict=True)))
