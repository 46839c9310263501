"""What an admin decides a merge by, per record: shown in the CSV and HTML plans, read back with them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dedupe.exports import EPOCH
from dedupe.survivor import AccountFacts
from domain.connector import RecordLinks
from domain.records import ObjectType

COUNT_FIELDS = ("open_deals", "contacts", "opportunities", "tasks")
TEXT_FIELDS = ("website", "phone", "city", "owner", "created", "link")


@dataclass(frozen=True, slots=True)
class RecordView:
    website: str | None = None
    phone: str | None = None
    city: str | None = None
    owner: str | None = None
    """The owner's name (their id when the name is unknown, as in an export)."""
    open_deals: int = 0
    contacts: int = 0
    opportunities: int = 0
    """All the account's opportunities, open or closed."""
    tasks: int = 0
    created: str | None = None
    """The created date, ``YYYY-MM-DD`` (none when the export had none)."""
    link: str | None = None
    """The record's page in its CRM."""


def view_of(facts: AccountFacts, owners: Mapping[str, str], links: RecordLinks | None) -> RecordView:
    """The review view of one account."""
    account = facts.account
    owner = owners.get(account.owner_id, account.owner_id) if account.owner_id else None
    return RecordView(
        website=account.website, phone=account.phone, city=account.billing_city, owner=owner,
        open_deals=facts.open_opportunities, contacts=facts.contacts, opportunities=facts.opportunities,
        tasks=facts.activities, created=None if account.created_at == EPOCH else f"{account.created_at:%Y-%m-%d}",
        link=links.url(ObjectType.ACCOUNT, account.id) if links is not None else None,
    )
