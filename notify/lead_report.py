"""Lead acceptance: how many leads sales accepted and rejected, why, and how fast, by source and campaign.

Seed 004: marketing needs feedback on the leads it provides, to learn which sources work. Pure: built
from the leads created in the window, their status history and when each was routed, so a test
recomputes it from the records.

- A lead is accepted once it entered one of the acceptance rule's ``accepted`` statuses (its history,
  else its status now), rejected while it is in the ``rejected`` status, awaiting while in ``statuses``.
- The acceptance rate is accepted / (accepted + rejected): leads still awaiting a decision do not count.
- Time to acceptance is business hours in the owner's zone from routing (else creation) to acceptance.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from config.policy import AcceptanceRule, Policy
from domain.records import Lead, Owner, StageChange
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.record_fields import field_value, is_blank

NONE = "(none)"


@dataclass(frozen=True)
class AcceptanceRow:
    scope: str
    """``all``, ``source`` or ``campaign``."""
    name: str
    leads: int
    accepted: int
    rejected: int
    awaiting: int
    acceptance_rate: float | None
    """Percent of the decided leads that were accepted."""
    median_hours_to_accept: float | None


@dataclass(frozen=True)
class ReasonRow:
    source: str
    reason: str
    leads: int


@dataclass
class LeadReport:
    connection: str
    as_of: datetime
    since: datetime
    rows: list[AcceptanceRow] = field(default_factory=list)
    reasons: list[ReasonRow] = field(default_factory=list)

    @property
    def overall(self) -> AcceptanceRow:
        """The row of all leads (the first)."""
        return self.rows[0]

    def by(self, scope: str) -> list[AcceptanceRow]:
        """The rows of one grouping: ``source`` or ``campaign``."""
        return [r for r in self.rows if r.scope == scope]


@dataclass(frozen=True)
class _Outcome:
    lead: Lead
    decision: str | None
    """``accepted``, ``rejected``, ``awaiting`` or None (closed another way)."""
    hours: float | None


def lead_report(connection: str, as_of: datetime, since: datetime, policy: Policy, rule: AcceptanceRule,
                owners: Mapping[str, Owner], leads: Sequence[Lead], history: Mapping[str, list[StageChange]],
                routed: Mapping[str, datetime]) -> LeadReport:
    """The report over ``leads`` (created since ``since``), judged by the acceptance ``rule``."""
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), as_of, owners)
    outcomes = [_outcome(ctx, rule, lead, history.get(lead.id, []), routed.get(lead.id)) for lead in leads]
    report = LeadReport(connection, as_of, since, [_row("all", "all leads", outcomes)])
    for scope, name in (("source", rule.source_field), ("campaign", rule.campaign_field)):
        if name is None:
            continue
        groups: dict[str, list[_Outcome]] = defaultdict(list)
        for outcome in outcomes:
            groups[_text(field_value(outcome.lead, name))].append(outcome)
        report.rows += [_row(scope, group, members) for group, members in sorted(groups.items())]
    reasons = Counter((_text(field_value(o.lead, rule.source_field)), _text(field_value(o.lead, rule.reason_field)))
                      for o in outcomes if o.decision == "rejected")
    report.reasons = [ReasonRow(source, reason, n) for (source, reason), n in sorted(
        reasons.items(), key=lambda item: (-item[1], item[0]))]
    return report


def _text(value: object) -> str:
    return NONE if is_blank(value) else str(value).strip()


def _outcome(ctx: RuleContext, rule: AcceptanceRule, lead: Lead, changes: list[StageChange],
             routed: datetime | None) -> _Outcome:
    accepted_at = next((c.entered_at for c in changes if c.stage in rule.accepted), None)
    if accepted_at is None and lead.status in rule.accepted:
        accepted_at = lead.status_changed_at or lead.updated_at
    if accepted_at is not None:
        start = max(lead.created_at, routed) if routed and routed <= accepted_at else lead.created_at
        zone = ctx.time_zone(ctx.owner(lead.owner_id))
        return _Outcome(lead, "accepted", ctx.calendar.business_hours_between(start, accepted_at, zone))
    if lead.status == rule.rejected:
        return _Outcome(lead, "rejected", None)
    return _Outcome(lead, "awaiting" if lead.status in rule.statuses else None, None)


def _row(scope: str, name: str, outcomes: list[_Outcome]) -> AcceptanceRow:
    count = Counter(o.decision for o in outcomes)
    decided = count["accepted"] + count["rejected"]
    hours = [o.hours for o in outcomes if o.hours is not None]
    return AcceptanceRow(scope, name, len(outcomes), count["accepted"], count["rejected"], count["awaiting"],
                         round(100 * count["accepted"] / decided, 1) if decided else None,
                         round(statistics.median(hours), 1) if hours else None)
