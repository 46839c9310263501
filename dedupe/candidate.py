"""The account fields that dedupe reads (``Candidate``) and their normalized view (``Profile``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from connectors.records import Account
from dedupe.contact_points import (
    evidence_domain,
    normalize_country,
    normalize_phone,
    normalize_postcode,
    normalize_street,
)
from dedupe.normalize import fold_text, name_tokens
from dedupe.vocabulary import distinctive_tokens, markers


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


@dataclass(frozen=True, slots=True)
class Profile:
    """A candidate's normalized name and evidence, computed once and compared many times."""

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


@lru_cache(maxsize=1 << 16)
def _name_features(name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    tokens = name_tokens(name)
    return " ".join(tokens), distinctive_tokens(tokens), markers(tokens)


@lru_cache(maxsize=1 << 16)
def _city(city: str) -> str | None:
    return fold_text(city).strip() or None


def profile(candidate: Candidate) -> Profile:
    """Normalize every field of ``candidate`` that matching compares."""
    key, distinctive, name_markers = _name_features(candidate.name)
    return Profile(
        id=candidate.id,
        key=key,
        distinctive=distinctive,
        markers=name_markers,
        domain=evidence_domain(candidate.website),
        phone=normalize_phone(candidate.phone, candidate.country),
        postcode=normalize_postcode(candidate.postcode),
        street=normalize_street(candidate.street),
        city=_city(candidate.city) if candidate.city else None,
        country=normalize_country(candidate.country),
    )
