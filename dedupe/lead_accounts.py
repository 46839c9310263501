"""Is a lead already in the system? The existing account (or contact) a new lead belongs to.

A lead belongs to an account when its email's domain is the account's website domain (public mail
domains are no evidence), or when its company name has the account's name key (``Acme Products,
Inc.`` and ``ACME PRODUCTS`` are one company); a lead whose email is a contact's is that contact.
Kept small and pure so a fuller person matcher can take its place behind ``match``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dedupe.contact_points import evidence_domain
from dedupe.normalize import normalize_name
from domain.records import Account, Contact, Lead


@dataclass(frozen=True, slots=True)
class AccountMatch:
    account: Account
    how: str
    """Why, in words: ``its email domain acme.com is the account's website``."""
    contact: Contact | None = None


class AccountIndex:
    """The org's accounts by website domain and name key, and its contacts by email, built once per run."""

    def __init__(self, accounts: Iterable[Account], contacts: Iterable[Contact] = ()) -> None:
        self._by_domain: dict[str, Account] = {}
        self._by_name: dict[str, Account] = {}
        self._by_id: dict[str, Account] = {}
        for account in sorted(accounts, key=lambda a: (a.created_at, a.id)):  # the oldest account wins ties
            self._by_id[account.id] = account
            domain = evidence_domain(account.website)
            if domain:
                self._by_domain.setdefault(domain, account)
            key = normalize_name(account.name)
            if key:
                self._by_name.setdefault(key, account)
        self._contacts = {c.email.strip().lower(): c for c in contacts if c.email and c.account_id}

    def match(self, lead: Lead) -> AccountMatch | None:
        """The account ``lead`` belongs to, strongest evidence first (its email, its domain, its company)."""
        email = (lead.email or "").strip().lower()
        contact = self._contacts.get(email) if email else None
        if contact is not None and contact.account_id in self._by_id:
            account = self._by_id[contact.account_id]
            return AccountMatch(account, f"its email is contact {contact.name!r}'s at {account.name!r}", contact)
        domain = evidence_domain(lead.email)
        if domain and domain in self._by_domain:
            account = self._by_domain[domain]
            return AccountMatch(account, f"its email domain {domain} is the website of account {account.name!r}")
        key = normalize_name(lead.company) if lead.company else ""
        if key and key in self._by_name:
            account = self._by_name[key]
            return AccountMatch(account, f"its company {lead.company!r} is account {account.name!r}")
        return None
