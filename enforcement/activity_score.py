"""Leads from activity: a person whose scored activity reaches the threshold in the window becomes a lead.

Activities are grouped by person: the lead or contact the CRM links them to, else the email they
came with. A person who reaches the threshold and is not in the system yet gets one lead, ever: the
action's key names the person, so repeated runs (and a run settled after a crash) create it once,
and the connector finds a lead it already made by its email. A person who already is a lead or a
contact (the record the CRM links, a lead with the same email or name and company, a contact the
person matcher confirms) is not duplicated: the record's owner gets a task with the score, at most
one per window. New leads land in the rule's queue, where the route rules route them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from config.policy import ActivityScoreRule, activity_type_key
from dedupe.lead_match import MatchedBy, SystemIndex
from dedupe.normalize import normalize_name
from dedupe.person_fields import normalize_email
from domain.activities import Activity
from domain.org import OrgData
from domain.plan import Action, ActionKind, Finding, RuleResult
from domain.records import Account, Contact, Lead, ObjectType
from enforcement.context import RuleContext
from enforcement.owner_facts import OwnerFacts
from enforcement.tasks import task_payload

_LEAD, _CONTACT = ObjectType.LEAD, ObjectType.CONTACT
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SHOWN_ACTIVITIES = 10
"""Activities listed in a new lead's description or a task, newest first."""


@dataclass
class _Person:
    key: str
    """The normalized email, or ``id:`` and the linked record's id when no email is known."""
    email: str | None = None
    name: str | None = None
    company: str | None = None
    record: Lead | Contact | None = None
    activities: list[Activity] = field(default_factory=list)
    score: int = 0


def evaluate(rule: ActivityScoreRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Plan a lead for each person new to the system over the threshold, a task for each one already in it."""
    result = RuleResult()
    since = ctx.now - timedelta(days=rule.window_days)
    scored = [a for a in org.activities(since) if a.occurred_at <= ctx.now and rule.points_of(a.activity_type)]
    if not scored:
        return result
    known = _Known(org)
    hot = [p for p in _people(rule, scored, known) if p.score >= rule.threshold]
    facts = OwnerFacts(ctx)
    ours = set(ctx.history.created_leads.values())
    for person in sorted(hot, key=lambda p: p.key):
        _judge(rule, ctx, facts, known, ours, person, result)
    return result


class _Known:
    """The org's leads and contacts, indexed for finding a person in them."""

    def __init__(self, org: OrgData) -> None:
        self.leads = {r.id: r for r in org.records(_LEAD) if isinstance(r, Lead)}
        self.contacts = {r.id: r for r in org.records(_CONTACT) if isinstance(r, Contact)}
        accounts = [r for r in org.records(ObjectType.ACCOUNT) if isinstance(r, Account)]
        self.system = SystemIndex(self.contacts.values(), accounts)
        self._by_email: dict[str, Lead | Contact] = {}
        self._by_name: dict[tuple[str, str], Lead] = {}
        records: list[Lead | Contact] = [*self.contacts.values(), *self.leads.values()]
        for record in sorted(records, key=lambda r: (isinstance(r, Lead), _EPOCH - r.created_at, r.id)):
            # written in this order, the last wins: a lead over a contact, the oldest of duplicates
            if email := normalize_email(record.email):
                self._by_email[email] = record
            if isinstance(record, Lead) and record.company and (company := normalize_name(record.company)):
                self._by_name[(_name_key(record.name), company)] = record

    def linked(self, record_id: str | None) -> Lead | Contact | None:
        if record_id is None:
            return None
        return self.leads.get(record_id) or self.contacts.get(record_id)

    def find(self, person: _Person) -> tuple[Lead | Contact, str] | None:
        """The lead or contact this person already is, and how it was told."""
        if person.record is not None:
            return person.record, "the CRM links the activity to it"
        if person.email and (same := self._by_email.get(person.email)):
            return same, f"same email {person.email}"
        company = normalize_name(person.company) if person.company else ""
        if person.name and company and (lead := self._by_name.get((_name_key(person.name), company))):
            return lead, f"same name and company ({person.name}, {person.company})"
        probe = Lead(person.key, person.name or "", person.company, None, None, _EPOCH, _EPOCH, email=person.email)
        found = self.system.match(probe)
        if found is not None and found.matched_by is MatchedBy.CONTACT:
            return self.contacts[found.record_id], found.reason.split(": ", 1)[-1]
        return None


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _people(rule: ActivityScoreRule, activities: Iterable[Activity], known: _Known) -> list[_Person]:
    people: dict[str, _Person] = {}
    for activity in activities:
        record = known.linked(activity.person_id)
        email = normalize_email(record.email if record is not None and record.email else activity.email)
        key = email or (f"id:{activity.person_id}" if activity.person_id else None)
        if key is None:
            continue  # nobody to score: neither an email nor a record the CRM links
        person = people.setdefault(key, _Person(key, email))
        person.record = person.record or record
        person.email = person.email or email
        person.name = activity.name or person.name or (record.name if record is not None else None)
        person.company = activity.company or person.company
        person.activities.append(activity)
        person.score += rule.points_of(activity.activity_type)
    return list(people.values())


def _judge(rule: ActivityScoreRule, ctx: RuleContext, facts: OwnerFacts, known: _Known, ours: set[str],
           person: _Person, result: RuleResult) -> None:
    lead_key = f"{rule.id}:lead:{person.key}"
    if lead_key in ctx.history.created_leads:
        return  # this rule made the person's lead already: one lead per person, ever
    found = known.find(person)
    if found is not None and found[0].id in ours:
        return  # the lead this rule created (the CRM links later activity to it)
    scored = _scored(rule, person)
    if found is not None:
        _task(rule, ctx, facts, person, scored, *found, result)
    elif person.email is not None:
        _new_lead(rule, ctx, person, scored, lead_key, result)


def _scored(rule: ActivityScoreRule, person: _Person) -> str:
    """``Jane Doe <jane@acme.com> of Acme scored 45 points in 30 days (threshold 40: 2 web visits...)``."""
    who = person.name or person.email or person.key
    if person.name and person.email:
        who = f"{person.name} <{person.email}>"
    of = f" of {person.company}" if person.company else ""
    return (f"{who}{of} scored {person.score} points in {rule.window_days} days (threshold {rule.threshold}: "
            f"{_summary(rule, person.activities)})")


def _summary(rule: ActivityScoreRule, activities: list[Activity]) -> str:
    """``2 web visits (10), 1 download (15)``: per type as the policy names it, most points first."""
    names = {activity_type_key(n): n for n in rule.points}
    counts = Counter(activity_type_key(a.activity_type) for a in activities)
    parts = sorted(counts.items(), key=lambda kv: (-kv[1] * rule.points[names[kv[0]]], kv[0]))
    return ", ".join(f"{n} {names[k]}{'s' if n > 1 and not names[k].endswith('s') else ''} "
                     f"({n * rule.points[names[k]]})" for k, n in parts)


def _details(person: _Person) -> str:
    """The latest activities, one line each: when, what, about what, from where."""
    latest = sorted(person.activities, key=lambda a: (a.occurred_at, a.id), reverse=True)[:SHOWN_ACTIVITIES]
    lines = [f"- {a.occurred_at:%Y-%m-%d %H:%M} UTC {a.activity_type}{f': {a.detail}' if a.detail else ''}"
             f"{f' ({a.source})' if a.source != 'crm' else ''}" for a in latest]
    more = len(person.activities) - len(latest)
    return "\n".join([*lines, *([f"... and {more} earlier"] if more > 0 else [])])


def _evidence(rule: ActivityScoreRule, person: _Person, **more: Any) -> dict[str, Any]:
    return {"policy": f"rules[id={rule.id}]", "score": person.score, "threshold": rule.threshold,
            "window_days": rule.window_days, "email": person.email,
            "activities": dict(Counter(a.activity_type for a in person.activities)), **more}


def _task(rule: ActivityScoreRule, ctx: RuleContext, facts: OwnerFacts, person: _Person, scored: str,
          record: Lead | Contact, how: str, result: RuleResult) -> None:
    kind = "lead" if isinstance(record, Lead) else "contact"
    obj = _LEAD if isinstance(record, Lead) else _CONTACT
    owner = ctx.owner(record.owner_id)
    acting = facts.acting(owner) if owner is not None and not owner.is_queue else None
    already = f"Already {kind} {record.name!r} ({how}), so no new lead"
    evidence = _evidence(rule, person, existing=record.id, matched_by=how)
    if acting is None:
        where = f"in queue {owner.name}" if owner is not None else "without an owner who is still here"
        reason = f"{scored}. {already}; the {kind} sits {where}, so nobody gets a task until it has an owner."
        result.findings.append(Finding(rule.id, obj, record.id, record.owner_id, reason, evidence))
        return
    reason = f"{scored}. {already}; a task for {acting.name} to follow up instead."
    period = (ctx.now - _EPOCH).days // rule.window_days
    key = f"{rule.id}:task:{obj}:{record.id}:{period}"
    result.findings.append(Finding(rule.id, obj, record.id, acting.id, reason, evidence))
    task = task_payload(facts, rule.task, acting, f"{reason}\n\n{_details(person)}", who_id=record.id)
    result.actions.append(Action(ActionKind.CREATE_TASK, obj, record.id, key, reason, rule.id, task))


def _new_lead(rule: ActivityScoreRule, ctx: RuleContext, person: _Person, scored: str, key: str,
              result: RuleResult) -> None:
    assert person.email is not None
    queue = ctx.queue(rule.new_leads_queue) if rule.new_leads_queue else None
    lands = f"in queue {queue.name}" if queue is not None else "without an owner"
    reason = f"{scored}. Not a lead or contact yet: create a lead {lands}, for the route rules to route."
    payload = {"name": person.name or person.email.split("@", 1)[0], "email": person.email,
               "company": person.company, "owner_id": queue.id if queue is not None else None,
               "status": rule.lead_status, "lead_source": rule.lead_source,
               "description": f"{scored}.\n\n{_details(person)}", "score": person.score}
    result.findings.append(Finding(rule.id, _LEAD, person.email, None, reason, _evidence(rule, person)))
    result.actions.append(Action(ActionKind.CREATE_LEAD, _LEAD, person.email, key, reason, rule.id, payload))
