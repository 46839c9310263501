"""The org's contacts and accounts indexed for looking leads up, kept in the process between passes.

Leads already in the system judges a handful of changed leads a run, but against every contact and
account, and building that index reads them all. A long-lived worker keeps the index the rule's last
pass built, used while the rule's mark in the store is the one it was kept with. The pass that uses
it is an incremental one, and ``jobs.rule_passes`` makes one only when no contact, no account's
identity, and no lead sharing an id with a contact changed since: the index still holds.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dedupe.lead_match import SystemIndex
from enforcement.existing_leads import system_index
from store.changed_org import SomeLeads
from store.rule_state import Mark


class LeadIndex:
    """The index, built from the mirror when first asked for unless one was kept (``built``: None until then)."""

    def __init__(self, session: Session, connection: str, kept: SystemIndex | None = None) -> None:
        self._session, self._connection = session, connection
        self.built = kept

    def __call__(self) -> SystemIndex:
        if self.built is None:
            self.built = system_index(SomeLeads(self._session, self._connection))
        return self.built


_KEPT: dict[tuple[str, str, str], tuple[Mark, SystemIndex]] = {}


def kept(store: str, connection: str, rule: str, mark: Mark) -> SystemIndex | None:
    """The index this process holds for the rule, if it was kept with ``mark``."""
    found = _KEPT.get((store, connection, rule))
    return found[1] if found is not None and found[0] == mark else None


def keep(store: str, connection: str, rule: str, mark: Mark, index: SystemIndex | None) -> None:
    """Hold ``index`` for the rule's pass after the one that ends at ``mark`` (None: hold nothing)."""
    if index is None:
        _KEPT.pop((store, connection, rule), None)
    else:
        _KEPT[(store, connection, rule)] = (mark, index)
