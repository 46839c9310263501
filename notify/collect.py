"""What each rule family found, as the digests word it: open findings with what was done about them.

The ledger queries live in ``store.findings``; this module knows the policy's rules and the words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from config.policy import Policy
from domain.plan import Finding
from enforcement.registry import FAMILIES
from store import findings as ledger_findings
from store.record_names import names_of

ACTION_NOUNS = {
    "reassign": ("reassignment", "reassigned"),
    "update": ("update", "updated"),
    "create_task": ("follow-up task", "follow-up task created"),
    "close": ("closing", "closed"),
    "merge": ("merge", "merged"),
    "notify": ("alert", "owner or manager alerted"),
}


@dataclass(frozen=True)
class OpenFinding:
    """A finding still open at the digest's moment, with when its problem began and what was done."""

    finding: Finding
    first_seen: datetime
    done: tuple[str, ...]
    """What the run did about it, in words: ``reassigned``, ``follow-up task planned``..."""
    name: str | None = None
    """The record's name in the mirror (None: gone from it)."""

    @property
    def since(self) -> datetime:
        """When the problem began (a task's due date, a deal's last stage change); else when first seen."""
        began = self.finding.evidence.get("since")
        if isinstance(began, str):
            try:
                moment = datetime.fromisoformat(began)
            except ValueError:
                return self.first_seen
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return self.first_seen

    @property
    def amount(self) -> float:
        """The deal's amount, for ordering equally old problems (0 when none)."""
        value = self.finding.evidence.get("amount")
        return float(value) if isinstance(value, int | float) else 0.0


def rule_jobs(policy: Policy) -> dict[str, str]:
    """Rule id -> the job that evaluates it, for the policy's enabled rules of registered families."""
    return {r.id: FAMILIES[r.kind].job for r in policy.rules if r.enabled and r.kind in FAMILIES}


def counts_at(
    session: Session, connection: str, policy: Policy, at: datetime
) -> Counter[tuple[str | None, str]] | None:
    """Open findings per (owner id, rule id) as the ledger stood at ``at``; None if no rule had run yet."""
    return ledger_findings.counts_at(session, connection, rule_jobs(policy), at)


def open_findings(session: Session, connection: str, policy: Policy, at: datetime) -> list[OpenFinding]:
    """The findings open at ``at``, each with the record's name, when first seen and what was done about it."""
    found = ledger_findings.findings_at(session, connection, rule_jobs(policy), at)
    refs = [(f.finding.object, f.finding.record_id) for f in found]
    names = names_of(session, connection, refs)
    return [
        OpenFinding(f.finding, f.first_seen, _in_words(f.actions), names.get(ref))
        for f, ref in zip(found, refs, strict=True)
    ]


def _in_words(actions: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    said: list[str] = []
    for kind, status in actions:
        noun, past = ACTION_NOUNS.get(kind, (kind, kind))
        words = past if status == "applied" else f"{noun} {status}"
        if words not in said:
            said.append(words)
    return tuple(said)
