"""``warden doctor``: is this org ready for this policy? Every problem is one line: what is wrong, and the fix.

The checks compare the org's metadata (``domain.inspection.OrgFacts``, read by the CRM's connector)
and its users with what the policy names; they call nothing themselves. ``--fix`` asks the
connector to create the task key field, the one thing doctor creates.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields

from config.policy import Policy, Stage
from domain.inspection import ObjectAccess, OrgFacts, PipelineFacts, StageFacts
from domain.invocation import warden_command
from domain.records import RECORD_CLASSES, ObjectType, Owner

LOW_BUDGET = 0.1
"""Below this share of the daily API allocation left, the budget is a problem."""
ACCESS_FIX = {
    "salesforce": "give the integration user's profile or a permission set {what} on {name}",
    "hubspot": "grant the app the scope crm.objects.{name}.{scope}",
}
STANDARD_FIELDS = {obj: frozenset(f.name for f in fields(cls)) - {"extra"} for obj, cls in RECORD_CLASSES.items()}


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what}: {self.fix}"


@dataclass
class Diagnosis:
    passed: list[str] = field(default_factory=list)
    """What was checked and found right, one line each."""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``name`` (ignoring case), if any is close enough to be a likely meant one."""
    by_folded = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(name.lower(), list(by_folded), n=1, cutoff=0.7)
    return by_folded[found[0]] if found else None


def _instead(name: str, candidates: Iterable[str], otherwise: str) -> str:
    suggestion = closest(name, candidates)
    return f"did you mean {suggestion!r}? Otherwise {otherwise}" if suggestion else otherwise


def diagnose(policy: Policy, facts: OrgFacts, owners: Sequence[Owner], task_key_problem: str | None) -> Diagnosis:
    """Every check of the policy against the org; problems in the order an admin fixes them."""
    found = Diagnosis()
    checks = [("permissions", _access(facts)), ("task key field", _key(task_key_problem)),
              ("opportunity stages", _stages(policy, facts)), ("lead statuses", _statuses(policy, facts)),
              ("owners", _owners(policy, facts.crm, owners)), ("queues", _queues(policy, facts.crm, owners)),
              ("account types", _account_types(policy, facts)), ("custom fields", _fields(policy, facts)),
              ("API budget", _budget(facts))]
    for label, problems in checks:
        listed = list(problems)
        found.problems.extend(listed)
        if not listed:
            found.passed.append(label)
    return found


def _access(facts: OrgFacts) -> Iterator[Problem]:
    template = ACCESS_FIX.get(facts.crm, "give the integration user {what} on {name}")
    for access in facts.access:
        for what, allowed, scope in _abilities(access):
            if allowed is False:
                yield Problem(f"the integration user may not {what} {access.crm_name}",
                              template.format(what=what.capitalize(), name=access.crm_name, scope=scope))


def _abilities(access: ObjectAccess) -> list[tuple[str, bool | None, str]]:
    return [("read", access.read, "read"), ("edit", access.update, "write"), ("create", access.create, "write"),
            ("merge", access.merge, "write")]


def _key(problem: str | None) -> Iterator[Problem]:
    if problem is not None:
        what, _, fix = problem.partition(": ")
        yield Problem(what, fix or f"run `{warden_command()} doctor --fix`")


def _canonical(policy: Policy, crm: str, name: str) -> str:
    aliases = {k.strip().lower(): v for k, v in policy.stages.aliases.of(crm).items()}
    return aliases.get(name.strip().lower(), name)


def _stages(policy: Policy, facts: OrgFacts) -> Iterator[Problem]:
    org_names = {p.name.lower() for p in facts.pipelines}
    for own in policy.stages.pipelines:
        if own.name.lower() not in org_names:
            yield Problem(f"stages.pipelines names {own.name!r}, which is not a pipeline of this {facts.crm} org",
                          _instead(own.name, [p.name for p in facts.pipelines], "remove it"))
    for pipeline in (p for p in facts.pipelines if p.stages):  # a pipeline without stages holds no deal
        yield from _compare(policy, facts.crm, f"pipeline {pipeline.name!r}", _where(policy, pipeline),
                            policy.stages.for_pipeline(pipeline.name), pipeline.stages)


def _where(policy: Policy, pipeline: PipelineFacts) -> str:
    own = [p.name for p in policy.stages.pipelines if p.name.lower() == pipeline.name.lower()]
    return f"stages.pipelines[{own[0]}]" if own else "stages.opportunity"


def _statuses(policy: Policy, facts: OrgFacts) -> Iterator[Problem]:
    if facts.lead_statuses:
        yield from _compare(policy, facts.crm, "lead statuses", "stages.lead", policy.stages.lead, facts.lead_statuses)


def _compare(policy: Policy, crm: str, scope: str, where: str, wanted: Sequence[Stage],
             org: Sequence[StageFacts]) -> Iterator[Problem]:
    """Both ways: each policy stage must exist in the org, and each open org stage must be in the policy."""
    org_names = {_canonical(policy, crm, s.name): s for s in org}
    policy_names = {s.name for s in wanted}
    for own in wanted:
        if own.name not in org_names:
            yield Problem(f"{where} names {own.name!r}, which is not in the {crm} org's {scope}",
                          _instead(own.name, org_names, f"remove it, or alias the org's name onto it in "
                                                        f"stages.aliases.{crm}"))
    for name, stage in org_names.items():
        if name not in policy_names and not stage.closed:
            yield Problem(f"the {crm} org's {scope} has {name!r}, which {where} does not name (its records would be "
                          "skipped)", f"add it to {where}, or alias it onto a policy name in stages.aliases.{crm}")


def _people(policy: Policy) -> Iterator[tuple[str, str]]:
    for team in policy.teams:
        yield team.manager, f"teams[{team.name}].manager"
        for member in team.members:
            yield member, f"teams[{team.name}].members"
    for owner in policy.owners:
        yield owner.email, "owners"
    if policy.digest is not None:
        for rep in policy.digest.morning_list:
            yield rep, "digest.morning_list"


def _owners(policy: Policy, crm: str, owners: Sequence[Owner]) -> Iterator[Problem]:
    users = {o.email.lower(): o for o in owners if o.email and not o.is_queue}
    active = [o.email for o in owners if o.email and o.active and not o.is_queue]
    for email, where in _people(policy):
        user = users.get(email.lower())
        if user is None:
            yield Problem(f"{where} names {email!r}, who is not a user of the {crm} org",
                          _instead(email, active, "correct the address or remove it"))
        elif not user.active:
            yield Problem(f"{where} names {email!r}, who is deactivated in the {crm} org",
                          "remove them, or name who took over their work")


def _queues(policy: Policy, crm: str, owners: Sequence[Owner]) -> Iterator[Problem]:
    queues = [o.name for o in owners if o.is_queue]
    for name in policy.queues:
        if name not in queues:
            otherwise = ("HubSpot has no queues: remove it and the rules that send work to it"
                         if crm == "hubspot" else f"create the queue in {crm} or remove it")
            yield Problem(f"queues names {name!r}, which is not a queue of the {crm} org",
                          _instead(name, queues, otherwise))


def _account_types(policy: Policy, facts: OrgFacts) -> Iterator[Problem]:
    mapping = policy.account_types
    known = [v for name in (mapping.source_field, *mapping.also_from) for v in facts.account_types.get(name, ())]
    if not any(name in facts.account_types for name in (mapping.source_field, *mapping.also_from)):
        return
    folded = {v.strip().lower() for v in known}
    for value in mapping.values:
        if value.strip().lower() not in folded:
            yield Problem(f"account_types.values maps {value!r}, which no account can have in the {facts.crm} org",
                          _instead(value, known, "remove it"))
    if not any(mapping.category(v) == "customer" for v in known):
        yield Problem(f"no {facts.crm} account type value maps to 'customer', so the cadence rule finds no customers",
                      f"map one of {', '.join(known[:8])} to customer in account_types.values")


def _fields(policy: Policy, facts: OrgFacts) -> Iterator[Problem]:
    maps = getattr(policy.fields, facts.crm, {})
    mapped: dict[str, dict[str, str]] = {obj: dict(names) for obj, names in maps.items()}
    for obj, names in mapped.items():
        have = facts.fields.get(ObjectType(obj))
        for name, crm_field in names.items():
            base = crm_field.split(".")[0]
            if have is not None and base not in have:
                yield Problem(f"fields.{facts.crm}.{obj}.{name} names {crm_field!r}, which is not a field of the "
                              f"{facts.crm} {obj} object (or the integration user cannot see it)",
                              _instead(crm_field, have, f"create the field, or map {name} to an existing one"))
    needed = [(ObjectType.LEAD, s, f) for s in policy.stages.lead for f in s.required]
    needed += [(ObjectType.OPPORTUNITY, s, f) for s in policy.stages.all_opportunity() for f in s.required]
    seen: set[tuple[ObjectType, str]] = set()
    for obj, stage, name in needed:
        if name in STANDARD_FIELDS[obj] or name in mapped.get(obj.value, {}) or (obj, name) in seen:
            continue
        seen.add((obj, name))
        have = facts.fields.get(obj, frozenset())
        article = "an" if obj.value[0] in "aeiou" else "a"
        yield Problem(f"stage {stage.name!r} requires {name!r}, which is not a field of {article} {obj.value} and not "
                      f"mapped in fields.{facts.crm}.{obj.value}",
                      _instead(name, have, f"map it: fields: {{{facts.crm}: {{{obj.value}: {{{name}: <the "
                                           f"{facts.crm} field>}}}}}}, or drop it from the stage"))
    unmapped = mapped.get("opportunity", {}).get("pipeline") != facts.pipeline_field
    if facts.pipeline_field and policy.stages.pipelines and unmapped:
        yield Problem(f"the {facts.crm} org keeps each deal's sales process in {facts.pipeline_field}, which the "
                      "policy does not map, so stages.pipelines would never apply",
                      f"add fields: {{{facts.crm}: {{opportunity: {{pipeline: {facts.pipeline_field}}}}}}}")


def _budget(facts: OrgFacts) -> Iterator[Problem]:
    limit, left = facts.daily_limit, facts.daily_remaining
    if limit and left is not None and left < limit * LOW_BUDGET:
        yield Problem(f"only {left:,} of the org's {limit:,} daily API calls are left",
                      "run later, or lower the share runs may spend (SALESFORCE_API_SHARE / connections' api_share)")


def budget_line(facts: OrgFacts) -> str | None:
    """The API budget left today, for the report."""
    if facts.daily_limit is None or facts.daily_remaining is None:
        return None
    return f"API budget: {facts.daily_remaining:,} of {facts.daily_limit:,} daily calls left"
