"""New leads already in the system (seed 003): marked with what they match, never merged or moved.

A new lead (open, created within ``new_within_days``) that dedupe's lead matcher
(``dedupe.lead_match``) finds to be an existing contact, or someone at an existing account, is a
finding for its owner's digest saying which contact or account and on what evidence. Nothing is
written to the CRM: the mark is the finding, in the ledger and the digest, and a route with
``to_account_owner`` is what sends such a lead to the account's owner.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import timedelta

from config.policy import ExistingLeadRule
from dedupe.lead_match import ExistingMatch, MatchedBy, SystemIndex
from domain.org import OrgData
from domain.plan import Finding, RuleResult
from domain.records import Account, Contact, Lead, ObjectType
from enforcement.context import RuleContext
from enforcement.wording import record_label


def evaluate(rule: ExistingLeadRule, ctx: RuleContext, org: OrgData,
             indexed: Callable[[], SystemIndex] | None = None) -> RuleResult:
    """A finding for every new lead that is an existing contact or belongs to an existing account.

    ``indexed`` gives the org's contacts (but those that are leads) and accounts already indexed, when a
    caller keeps them between passes; by default they are read from ``org`` when a new lead needs them.
    """
    leads = [lead for lead in org.records(ObjectType.LEAD) if isinstance(lead, Lead)]
    closed = {s.name for s in ctx.policy.stages.lead if s.closed}
    since = ctx.now - timedelta(days=rule.new_within_days)
    new = [lead for lead in leads if lead.created_at >= since and lead.status not in closed]
    result = RuleResult()
    if not new:
        return result
    index = indexed() if indexed is not None else system_index(org, [lead.id for lead in leads])
    for lead in new:
        if (match := index.match(lead)) is not None:
            result.findings.append(_finding(rule, ctx, lead, match))
        result.due_again(lead.id, lead.created_at + timedelta(days=rule.new_within_days))
    return result


def system_index(org: OrgData, leads: Collection[str] = ()) -> SystemIndex:
    """The org's contacts, but those whose id is one of ``leads``, and accounts, indexed for looking leads up."""
    contacts = [c for c in org.records(ObjectType.CONTACT) if isinstance(c, Contact)]
    accounts = [a for a in org.records(ObjectType.ACCOUNT) if isinstance(a, Account)]
    return SystemIndex(contacts, accounts, leads)


def _finding(rule: ExistingLeadRule, ctx: RuleContext, lead: Lead, match: ExistingMatch) -> Finding:
    owner = ctx.owner(match.account_owner_id)
    whose = "" if owner is None else f", owned by {owner.name}"
    company = f" of {lead.company}" if lead.company else ""
    known = "that contact, not as a new person" if match.matched_by is MatchedBy.CONTACT else (
        "someone at that account, not as a new company")
    reason = (f"{record_label(lead)}{company}, new on {lead.created_at:%Y-%m-%d}, is already in the system: it "
              f"{match.what}{whose}. Evidence: {match.evidence}. Work it as {known}.")
    return Finding(rule.id, ObjectType.LEAD, lead.id, lead.owner_id, reason, {
        "policy": f"rules[{rule.id}].new_within_days = {rule.new_within_days}",
        "matched_by": match.matched_by.value,
        "contact": match.record_id if match.matched_by is MatchedBy.CONTACT else None,
        "account": match.account_id,
        "account_owner": (owner.email or owner.name) if owner else match.account_owner_id,
        "evidence": match.evidence,
        "since": lead.created_at.isoformat(),
    })
