"""Merge plans for contacts and leads: the person matcher's clusters, each with its master and new values.

The master is the record with the most activity (tasks about it), then the oldest, then the most
complete; ties go to the smallest id. The master keeps its own values, and takes an email or phone
it lacks from the newest record that has one (a merge keeps only the master's fields). The plan is
a ``dedupe.plan.MergePlan`` whose clusters carry their object type, so the plan files, apply,
undo, snapshots and ledger are the accounts' own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from config.policy import Policy
from dedupe.lead_match import contact_person, lead_person
from dedupe.person_match import PersonMerge, PersonSettings, find_people_duplicates
from dedupe.person_score import Person
from dedupe.plan import ClusterPlan, MergePlan
from dedupe.score import Tier
from domain.org import OrgData
from domain.progress import NO_PROGRESS, Progress
from domain.records import Account, Contact, Lead, ObjectType, Task

PERSON_TYPES = (ObjectType.CONTACT, ObjectType.LEAD)
FILLED_FROM_LOSERS = ("email", "phone")

PersonRecord = Contact | Lead


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """One contact or lead and what choosing the master weighs besides its fields."""

    record: PersonRecord
    activities: int = 0


def people_facts(org: OrgData, object_type: ObjectType) -> tuple[list[PersonFacts], dict[str, Account]]:
    """Live contacts (or leads) with the tasks about them counted, and the accounts they belong to."""
    if object_type not in PERSON_TYPES:
        raise ValueError(f"people are contacts or leads, not {object_type.value}")
    activity = Counter(t.who_id for t in org.records(ObjectType.TASK) if isinstance(t, Task) and t.who_id)
    kind = Contact if object_type is ObjectType.CONTACT else Lead
    records = [r for r in org.records(object_type) if isinstance(r, kind) and not r.deleted]
    accounts = {a.id: a for a in org.records(ObjectType.ACCOUNT) if isinstance(a, Account)}
    return [PersonFacts(r, activity[r.id]) for r in records], accounts


def _person(record: PersonRecord, accounts: dict[str, Account]) -> Person:
    return contact_person(record, accounts) if isinstance(record, Contact) else lead_person(record)


def _filled(record: PersonRecord) -> int:
    return sum(bool(getattr(record, name)) for name in ("email", "phone", "owner_id"))


_CRITERIA: tuple[tuple[str, Callable[[PersonFacts], float]], ...] = (
    ("most activity", lambda f: f.activities),
    ("oldest", lambda f: -f.record.created_at.timestamp()),
    ("most complete", lambda f: _filled(f.record)),
)


def choose_master(members: Sequence[PersonFacts]) -> tuple[PersonFacts, str]:
    """The master by activity, age and completeness (ties: the smallest id), and why it won."""
    ranked = sorted(members, key=lambda f: (*(-score(f) for _, score in _CRITERIA), f.record.id))
    master, runner_up = ranked[0], ranked[1]
    for name, score in _CRITERIA:
        if score(master) != score(runner_up):
            if name == "most activity":
                return master, f"most activity ({master.activities} vs {runner_up.activities} tasks)"
            if name == "oldest":
                return master, (f"oldest (created {master.record.created_at:%Y-%m-%d} vs "
                                f"{runner_up.record.created_at:%Y-%m-%d})")
            return master, "most complete (more fields filled)"
    return master, "activity, age and completeness tie: smallest id"


def surviving_fields(master: PersonRecord, members: Sequence[PersonRecord]) -> dict[str, Any]:
    """An email or phone the master lacks, from the newest other record that has one."""
    values: dict[str, Any] = {}
    for name in FILLED_FROM_LOSERS:
        if getattr(master, name):
            continue
        donors = [m for m in members if m is not master and getattr(m, name)]
        if donors:
            values[name] = getattr(max(donors, key=lambda m: (m.updated_at, m.id)), name)
    return values


def _cluster(number: int, merge: PersonMerge, people: Sequence[Person], facts: dict[str, PersonFacts],
             object_type: ObjectType, policy: Policy) -> ClusterPlan:
    members = [facts[i] for i in merge.person_ids]
    master, why = choose_master(members)
    losers = tuple(f.record.id for f in members if f is not master)
    ordered = (master.record.id, *losers)
    joined = {master.record.id: f"master: {why}"}
    for link in merge.matches:
        for mine, other in ((link.left, link.right), (link.right, link.left)):
            joined.setdefault(people[mine].id, f"with {people[other].id}: {link.sentence()}")
    return ClusterPlan(
        joined=joined,
        cluster_id=f"{object_type.value[0]}{number:04d}", tier=merge.tier,
        score=min((m.score for m in merge.matches), default=0.0), master_id=master.record.id, loser_ids=losers,
        names={i: facts[i].record.name for i in ordered},
        fields=surviving_fields(master.record, [f.record for f in members]),
        reason=f"master {master.record.id}: {why}. " + " ".join(merge.reasons(people)),
        approved=merge.tier is Tier.AUTO and policy.dedupe.auto_merge, object=object_type,
    )


def build_people_plan(object_type: ObjectType, facts: Sequence[PersonFacts], accounts: dict[str, Account],
                      policy: Policy, progress: Progress = NO_PROGRESS) -> MergePlan:
    """Match the contacts (or leads) and propose one merge per cluster, auto tier first."""
    people = [_person(f.record, accounts) for f in facts]
    by_id = {f.record.id: f for f in facts}
    result = find_people_duplicates(people, PersonSettings(max_cluster=policy.dedupe.max_cluster), progress)
    reviewed = [set(m.person_ids) for m in result.merges if m.tier is Tier.REVIEW]
    merges = [m for m in result.merges if m.tier is Tier.REVIEW or not any(set(m.person_ids) < r for r in reviewed)]
    ordered = sorted(merges, key=lambda m: (m.tier is not Tier.AUTO, -len(m.person_ids), m.person_ids))
    clusters: list[ClusterPlan] = []
    with progress.phase("propose clusters", total=len(ordered), unit="clusters") as phase:
        for number, merge in enumerate(ordered, start=1):
            clusters.append(_cluster(number, merge, people, by_id, object_type, policy))
            phase.update(number)
    return MergePlan(clusters, [], len(facts), result.pairs_compared, object_type)
