"""Lead routing: a new lead goes to the right person on arrival, by the first route that matches.

A lead waits to be routed while it has no owner, sits in one of the rule's ``from_queues``, or is
owned by one of its ``from_owners`` (the CRM's default lead owner). Each route names conditions on
the lead's fields and a target: round-robin in a team (the same weights, caps and out-of-office as
SLA reassignment), a queue, a named owner, or the owner of the account the lead belongs to (dedupe's
lead matcher, ``dedupe.lead_match``: an existing contact, the company name, the email domain). The
routing is a reassignment keyed per lead and routing, so the SLA clock of the new owner starts
when it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from config.policy import Route, RouteRule, ToOwner, ToQueue
from dedupe.lead_match import ExistingMatch, MatchedBy, SystemIndex
from domain.org import OrgData
from domain.plan import Action, ActionKind, Finding, RuleResult
from domain.records import Account, Contact, Lead, ObjectType, Owner
from enforcement.assignment import Assignee, Rotation
from enforcement.conditions import describe, holds
from enforcement.context import RuleContext
from enforcement.tasks import task_payload
from enforcement.wording import record_label

_LEAD = ObjectType.LEAD
_NOBODY = Owner("", "nobody", is_queue=True)
"""Stands in for the current owner of a lead that has none (nobody to leave out of a rotation)."""


def evaluate(rule: RouteRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Plan a reassignment, with its reason, for every lead waiting to be routed."""
    result = RuleResult()
    leads = [lead for lead in org.records(_LEAD) if isinstance(lead, Lead)]
    router = _Router(rule, ctx, org, Rotation(ctx), {lead.id for lead in leads})
    for lead in leads:
        if (waiting := _waiting(rule, ctx, lead)) is not None:
            router.route(lead, waiting, result)
    return result


def waiting_owners(rule: RouteRule, ctx: RuleContext) -> set[str]:
    """The owners a lead waiting to be routed can have, besides none: the rule's queues and default owners."""
    wanted = {e.lower() for e in rule.from_owners}
    queues = {o.id for o in ctx.owners.values() if o.is_queue and o.name in rule.from_queues}
    return queues | {o.id for o in ctx.owners.values() if not o.is_queue and o.email and o.email.lower() in wanted}


def _waiting(rule: RouteRule, ctx: RuleContext, lead: Lead) -> str | None:
    """Where the lead waits to be routed (``in queue Web Leads``), or None when it is not waiting."""
    closed = {s.name for s in ctx.policy.stages.lead if s.closed}
    if lead.status in closed or (rule.statuses and lead.status not in rule.statuses):
        return None
    if rule.created_within_days is not None and (ctx.now - lead.created_at).days >= rule.created_within_days:
        return None
    if lead.owner_id is None:
        return "without an owner"
    owner = ctx.owner(lead.owner_id)
    if owner is None:
        return None
    if owner.is_queue:
        return f"in queue {owner.name}" if owner.name in rule.from_queues else None
    wanted = {e.lower() for e in rule.from_owners}
    return f"with {owner.name}, where new leads land" if owner.email and owner.email.lower() in wanted else None


@dataclass(frozen=True)
class _Passed:
    """Why a matching route passed a lead on to the next one."""

    why: str
    usual: bool = False
    """Not worth repeating in the reason of the routing that follows (a lead with no account, say)."""


@dataclass
class _Router:
    rule: RouteRule
    ctx: RuleContext
    org: OrgData
    rotation: Rotation
    lead_ids: set[str]
    _system: SystemIndex | None = field(default=None)

    def route(self, lead: Lead, waiting: str, result: RuleResult) -> None:
        current = self.ctx.owner(lead.owner_id) or _NOBODY
        passed: list[_Passed] = []
        for route in self.rule.routes:
            if not holds(lead, route.where):
                continue
            found = self._target(route, lead, current)
            if isinstance(found, _Passed):
                passed.append(found)
                continue
            self._plan(lead, waiting, route, found, current, [p.why for p in passed if not p.usual], result)
            return
        why = "; ".join(p.why for p in passed) or "no route matches it"
        reason = f"{record_label(lead)} waits {waiting}: {why}. Nobody to route it to: add a route that takes it."
        result.findings.append(Finding(self.rule.id, _LEAD, lead.id, lead.owner_id, reason,
                                       {"policy": f"rules[id={self.rule.id}]", "waiting": waiting}))

    def _target(self, route: Route, lead: Lead, current: Owner) -> tuple[Assignee, ExistingMatch | None] | _Passed:
        """Who the route gives the lead to, or why it passes the lead on to the next route."""
        if route.to_account_owner:
            match = self.system.match(lead)
            owner = self.ctx.owner(match.account_owner_id) if match else None
            if match is not None and owner is not None:
                acting = self.rotation.facts.acting(owner)
                if acting is not None:
                    whose = "account owner" if match.account_id else "contact owner"
                    how = whose if acting is owner else f"manager of the {whose} {owner.name}, who left"
                    return Assignee(acting, how), match
            if route.to is None:
                return _Passed(f"route {route.name!r} found no account owner for it", usual=True)
        assert route.to is not None
        if isinstance(route.to, ToOwner):
            person = self.ctx.owner_by_email(route.to.owner)
            if person is None or not person.active:
                return _Passed(f"route {route.name!r} names {route.to.owner}, who is not an active user")
            return Assignee(person, "named in the route"), None
        chosen = self.rotation.choose(route.to, current, lead.id)
        if chosen is None:
            return _Passed(f"route {route.name!r} has nobody available ({_describe_target(route)})")
        return chosen, None

    @property
    def system(self) -> SystemIndex:
        if self._system is None:
            accounts = [a for a in self.org.records(ObjectType.ACCOUNT) if isinstance(a, Account)]
            contacts = [c for c in self.org.records(ObjectType.CONTACT) if isinstance(c, Contact)]
            self._system = SystemIndex(contacts, accounts, self.lead_ids)
        return self._system

    def _plan(self, lead: Lead, waiting: str, route: Route, found: tuple[Assignee, ExistingMatch | None],
              current: Owner, passed: list[str], result: RuleResult) -> None:
        assignee, match = found
        if assignee.owner.id == current.id:
            return
        owned = self.ctx.owner(match.account_owner_id) if match else None
        because = (f"it {match.what}, owned by {owned.name if owned else assignee.owner.name}: {match.evidence}"
                   if match else describe(route.where) or "every lead")
        skipped = f" ({'; '.join(passed)})" if passed else ""
        reason = (f"{_described(lead)} waits {waiting}: route {route.name!r} takes it ({because}){skipped}. "
                  f"Route to {assignee.owner.name} ({assignee.how}).")
        evidence = {"policy": f"rules[id={self.rule.id}].routes[{route.name}]", "waiting": waiting,
                    "route": route.name, "new_owner": assignee.owner.email or assignee.owner.name,
                    "account": match.account_id if match else None,
                    "contact": match.record_id if match and match.matched_by is MatchedBy.CONTACT else None}
        result.findings.append(Finding(self.rule.id, _LEAD, lead.id, assignee.owner.id, reason, evidence))
        times = self.ctx.history.reassignments.get((self.rule.id, lead.id), 0)
        key = f"{self.rule.id}:{_LEAD}:{lead.id}:{times}"
        result.actions.append(Action(ActionKind.REASSIGN, _LEAD, lead.id, key, reason, self.rule.id,
                                     {"owner_id": assignee.owner.id}))
        if self.rule.task is not None and not assignee.owner.is_queue:
            task = task_payload(self.rotation.facts, self.rule.task, assignee.owner, reason, who_id=lead.id)
            result.actions.append(Action(ActionKind.CREATE_TASK, _LEAD, lead.id, f"{key}:task", reason,
                                         self.rule.id, task, requires=key))


def _described(lead: Lead) -> str:
    """``Lead 'Wei Garcia' of Globex``."""
    company = f" of {lead.company}" if lead.company else ""
    return f"{record_label(lead)}{company}"


def _describe_target(route: Route) -> str:
    target = route.to
    if target is None:
        return "account owner"
    if isinstance(target, ToOwner):
        return target.owner
    return f"queue {target.queue}" if isinstance(target, ToQueue) else f"team {target.team}"
