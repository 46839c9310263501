"""What each rule family found, as the digests word it: open findings with what was done about them.

The ledger queries live in ``store.findings``; this module knows the policy's rules and the words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from config.policy import Policy
from domain.plan import Finding
from enforcement.registry import FAMILIES
from store import findings as ledger_findings

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
    """A finding still open at the digest's moment, with how long it has been open and what was done."""

    finding: Finding
    first_seen: datetime
    done: tuple[str, ...]
    """What the run did about it, in words: ``reassigned``, ``follow-up task planned``..."""


def rule_jobs(policy: Policy) -> dict[str, str]:
    """Rule id -> the job that evaluates it, for the policy's enabled rules of registered families."""
    return {r.id: FAMILIES[r.kind].job for r in policy.rules if r.enabled and r.kind in FAMILIES}


def counts_at(
    session: Session, connection: str, policy: Policy, at: datetime
) -> Counter[tuple[str | None, str]] | None:
    """Open findings per (owner id, rule id) as the ledger stood at ``at``; None if no rule had run yet."""
    return ledger_findings.counts_at(session, connection, rule_jobs(policy), at)


def open_findings(session: Session, connection: str, policy: Policy, at: datetime) -> list[OpenFinding]:
    """The findings open at ``at``, each with when the ledger first saw it and what was done about it."""
    return [OpenFinding(f.finding, f.first_seen, _in_words(f.actions))
            for f in ledger_findings.findings_at(session, connection, rule_jobs(policy), at)]


def _in_words(actions: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    said: list[str] = []
    for kind, status in actions:
        noun, past = ACTION_NOUNS.get(kind, (kind, kind))
        words = past if status == "applied" else f"{noun} {status}"
        if words not in said:
            said.append(words)
    return tuple(said)
