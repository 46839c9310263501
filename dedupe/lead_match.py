"""Is a lead already in the system: an existing contact, or someone at an existing account?

Checked in this order, the first that holds wins:

1. **contact**: the person matcher (``dedupe.person_score``) links the lead to a live contact and
   a fact beside the name confirms it (email, phone); the contact's account, if any, is the account;
2. **email domain**: the lead's email domain is an account's website domain (public mail domains
   such as gmail.com never count): a website names one company, where names collide more often;
3. **company**: the lead's company normalizes to an account's name (the account normalizer:
   "ACME Products, Inc." is "Acme Products").

Where several accounts qualify (duplicates not merged yet), the oldest wins. A lead is never a
contact of itself: HubSpot keeps a lead as a contact in a lead lifecycle stage, so the contacts that
are leads are left out. Pure: the intake router (``to_account_owner``) routes to ``account_owner_id``,
and the ``existing_lead`` rule marks new leads already in the system.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dedupe.contact_points import evidence_domain
from dedupe.normalize import normalize_name
from dedupe.person_fields import normalize_email
from dedupe.person_score import Person, PersonProfile, profile, score_people
from domain.records import Account, Contact, Lead


class MatchedBy(StrEnum):
    CONTACT = "contact"
    COMPANY = "company"
    EMAIL_DOMAIN = "email domain"


@dataclass(frozen=True, slots=True)
class ExistingMatch:
    """What a lead already is in the system, and whose it is."""

    lead_id: str
    matched_by: MatchedBy
    record_id: str
    """The contact's id (matched by contact) or the account's."""
    account_id: str | None
    account_owner_id: str | None
    """The owner of the account the lead belongs to (a contact without account: the contact's owner)."""
    what: str
    """What the lead already is: ``is contact 'Robert Smith' (003J) at account 'Globex' (001B)``."""
    evidence: str
    """On what evidence: ``company 'ACME PRODUCTS INC' is the same name``."""

    @property
    def reason(self) -> str:
        return f"{self.what}: {self.evidence}"


def lead_person(lead: Lead) -> Person:
    """A lead as the person matcher sees it."""
    return Person(lead.id, lead.name, lead.email, lead.phone, lead.company)


def contact_person(contact: Contact, accounts: dict[str, Account]) -> Person:
    """A contact as the person matcher sees it, its account's name as its company."""
    account = accounts.get(contact.account_id or "")
    return Person(contact.id, contact.name, contact.email, contact.phone, account.name if account else None,
                  contact.account_id)


def _oldest(accounts: Iterable[Account]) -> Account:
    return min(accounts, key=lambda a: (a.created_at or datetime.min, a.id))


class SystemIndex:
    """Live contacts and accounts indexed for looking leads up; build once, match many leads.

    ``leads``: the ids of the org's leads, which are never matched as contacts (on HubSpot a lead is a
    contact too, and would otherwise be already in the system as itself).
    """

    def __init__(self, contacts: Iterable[Contact], accounts: Iterable[Account], leads: Iterable[str] = ()) -> None:
        self.accounts = {a.id: a for a in accounts if not a.deleted}
        not_contacts = set(leads)
        self.contacts = [c for c in contacts if not c.deleted and c.id not in not_contacts]
        self._profiles = [profile(contact_person(c, self.accounts)) for c in self.contacts]
        self._by_key: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for position, p in enumerate(self._profiles):
            for key in _keys(p):
                self._by_key[key].append(position)
        self._by_name: dict[str, list[Account]] = defaultdict(list)
        self._by_domain: dict[str, list[Account]] = defaultdict(list)
        for account in self.accounts.values():
            if name_key := normalize_name(account.name):
                self._by_name[name_key].append(account)
            if domain := evidence_domain(account.website):
                self._by_domain[domain].append(account)

    def match(self, lead: Lead) -> ExistingMatch | None:
        """The contact or account this lead already is, or None for a lead new to the system."""
        return self._contact(lead) or self._domain(lead) or self._company(lead)

    def _contact(self, lead: Lead) -> ExistingMatch | None:
        mine = profile(lead_person(lead))
        seen = {i for key in _keys(mine) for i in self._by_key.get(key, ())}
        scored = [m for i in sorted(seen) if (m := score_people(mine, self._profiles[i], (-1, i))) and m.confirmed]
        if not scored:
            return None
        best = max(scored, key=lambda m: (m.score, -m.right))
        contact = self.contacts[best.right]
        account = self.accounts.get(contact.account_id or "")
        at = f" at account {account.name!r} ({account.id})" if account else ""
        return ExistingMatch(lead.id, MatchedBy.CONTACT, contact.id, account.id if account else None,
                             account.owner_id if account else contact.owner_id,
                             f"is contact {contact.name!r} ({contact.id}){at}", best.sentence().removesuffix("."))

    def _company(self, lead: Lead) -> ExistingMatch | None:
        found = self._by_name.get(normalize_name(lead.company)) if lead.company else None
        if not found:
            return None
        account = _oldest(found)
        return ExistingMatch(lead.id, MatchedBy.COMPANY, account.id, account.id, account.owner_id,
                             f"works at account {account.name!r} ({account.id})",
                             f"company {lead.company!r} is the same name{_more(found)}")

    def _domain(self, lead: Lead) -> ExistingMatch | None:
        domain = evidence_domain(normalize_email(lead.email))
        found = self._by_domain.get(domain) if domain else None
        if not found:
            return None
        account = _oldest(found)
        return ExistingMatch(lead.id, MatchedBy.EMAIL_DOMAIN, account.id, account.id, account.owner_id,
                             f"works at account {account.name!r} ({account.id})",
                             f"email domain {domain} is the account's website{_more(found)}")


def _more(found: Sequence[Account]) -> str:
    return f" (the oldest of {len(found)} accounts that qualify)" if len(found) > 1 else ""


def _keys(p: PersonProfile) -> list[tuple[str, ...]]:
    """Lookup keys: email, phone, family name with initial."""
    keys: list[tuple[str, ...]] = []
    if p.email and not p.role_email:
        keys.append(("email", p.email))
    if p.phone:
        keys.append(("phone", p.phone))
    if p.family:
        keys.append(("name", p.family, p.initial or ""))
    return keys


def already_in_system(leads: Iterable[Lead], contacts: Iterable[Contact],
                      accounts: Iterable[Account]) -> dict[str, ExistingMatch]:
    """By lead id, each live lead that is an existing contact or belongs to an existing account."""
    leads = list(leads)
    index = SystemIndex(contacts, accounts, [lead.id for lead in leads])
    return {lead.id: found for lead in leads if not lead.deleted and (found := index.match(lead))}

