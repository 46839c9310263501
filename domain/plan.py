"""What rules return: findings (what is wrong, with evidence) and the actions that fix them.

Rules decide by returning these values; only ``jobs.apply.actions`` acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.records import ObjectType


class ActionKind(StrEnum):
    REASSIGN = "reassign"
    UPDATE = "update"
    CREATE_TASK = "create_task"
    CREATE_LEAD = "create_lead"
    """Create a lead (``activity_score``); the payload is the lead, the record id the person's email."""
    CLOSE = "close"
    MERGE = "merge"
    NOTIFY = "notify"
    DELETE = "delete"
    """Delete a task (``warden revert`` of the run that created it); the payload names it (``task_id``)."""


class ActionStatus(StrEnum):
    PLANNED = "planned"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


class PlanStatus(StrEnum):
    """What a dry run says would become of an action, from the ledger's claim on its key."""

    WOULD_APPLY = "would_apply"
    ALREADY_APPLIED = "already_applied"
    WOULD_RETRY = "would_retry"
    """It failed before (or a dead run left it in flight): the next apply tries it again."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One record breaking one rule, in words a sales manager understands."""

    rule: str
    object: ObjectType
    record_id: str
    owner_id: str | None
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    """JSON-ready facts behind the reason: dates, field values, the policy line that applies."""


@dataclass(frozen=True, slots=True)
class Action:
    """One change to make in the CRM.

    ``key`` is the idempotency key (rule, record, period): two runs that would make the same change
    produce the same key, so the ledger applies it once.
    ``payload`` holds the normalized fields to set (``update``/``reassign``/``close``) or the task to
    create (``create_task``), JSON-ready.
    """

    kind: ActionKind
    object: ObjectType
    record_id: str
    key: str
    reason: str
    rule: str
    payload: dict[str, Any] = field(default_factory=dict)
    requires: str | None = None
    """Key of an action that must be applied first (a task for the new owner needs the reassignment)."""


@dataclass(frozen=True, slots=True)
class Skip:
    """A record a rule could not judge (missing owner, unknown stage...) and why."""

    rule: str
    object: ObjectType
    record_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RuleResult:
    findings: list[Finding] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    recheck: dict[str, datetime] = field(default_factory=dict)
    """Record id -> the next moment the rule's judgment of it may change with nothing else changing (a
    deadline passing, a day count moving on): a rule that follows change judges it again then."""

    def gather(self, other: RuleResult) -> None:
        """Add ``other``'s findings, actions and skips (not its clocks), as a run gathers its rules' plans."""
        self.findings.extend(other.findings)
        self.actions.extend(other.actions)
        self.skips.extend(other.skips)

    def due_again(self, record_id: str, at: datetime) -> None:
        """Note that the judgment of ``record_id`` may change at ``at`` (the earliest such moment wins)."""
        known = self.recheck.get(record_id)
        if known is None or at < known:
            self.recheck[record_id] = at


def by_rule(result: RuleResult) -> dict[str, RuleResult]:
    """``result``'s findings, actions and skips apart by the rule each names (clocks left out), in their order."""
    plans: dict[str, RuleResult] = {}
    for item in result.findings:
        plans.setdefault(item.rule, RuleResult()).findings.append(item)
    for action in result.actions:
        plans.setdefault(action.rule, RuleResult()).actions.append(action)
    for skip in result.skips:
        plans.setdefault(skip.rule, RuleResult()).skips.append(skip)
    return plans


@dataclass(frozen=True)
class RulePass:
    """How one rule's plan in a run came about, so the ledger can record only what changed since its last pass.

    A pass that carried judgments forward names the pass they came from and the records whose judgment
    changed since; every other record's findings and actions are that pass's. The ledger records the
    change alone when the rows it holds open for the rule are that earlier pass's (``store.ledger``).
    """

    pass_id: str
    carried_from: str | None = None
    """The pass whose judgments this one carried forward (None: it judged every record, or carried forward those
    of a pass made before passes had ids)."""
    changed: RuleResult = field(default_factory=RuleResult)
    """Carried forward: the findings, actions and skips now of the records whose judgment changed."""
    records: frozenset[str] = frozenset()
    """Carried forward: the records whose judgment changed (some now hold nothing)."""
    was: RuleResult | None = None
    """Carried forward, when this process knows it: the findings, actions and skips of those records in the pass
    carried from. The ledger then reads back a record's open rows of a kind only if it held something of it."""
