"""`warden policy init` drafts a policy that loads, whatever names and shapes the org has."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from config.policy_file import parse_policy
from domain.inspection import OrgFacts, PipelineFacts, StageFacts, TeamFacts
from domain.records import Owner
from jobs.doctor import diagnose
from jobs.policy_init import draft_policy

names = st.text(min_size=1, max_size=30)
stages = st.builds(StageFacts, names, st.one_of(st.none(), st.floats(0, 100)), st.booleans(), st.booleans())


@st.composite
def orgs(draw: st.DrawFn) -> tuple[OrgFacts, list[Owner]]:
    stage_lists = st.lists(stages, max_size=6, unique_by=lambda s: s.name).map(tuple)
    pipelines = draw(st.lists(st.builds(PipelineFacts, names, stage_lists), max_size=3,
                              unique_by=lambda p: p.name.strip().lower()))  # CRMs keep pipeline names apart
    statuses = tuple(draw(st.lists(st.builds(StageFacts, names, st.none(), st.booleans(), st.booleans()),
                                   max_size=5, unique_by=lambda s: s.name)))
    emails = draw(st.lists(st.sampled_from(["a@x.com", "b@x.com", "c@x.com", "d@x.com", "not-an-email"]),
                           unique=True, max_size=5))
    owners = [Owner(f"u{n}", draw(names), email, manager_id=draw(st.sampled_from([None, "u0", "u1"])))
              for n, email in enumerate(emails)]
    owners += [Owner("q1", name, is_queue=True) for name in draw(st.lists(names, max_size=2, unique=True))]
    facts = OrgFacts(
        crm=draw(st.sampled_from(["salesforce", "hubspot"])), pipelines=tuple(pipelines), lead_statuses=statuses,
        account_type_field="account_type", account_types={"account_type": tuple(draw(st.lists(names, max_size=5)))},
        fields={}, access=(), teams=tuple(TeamFacts(draw(names), ("u0", "u1", "u9")) for _ in range(draw(
            st.integers(0, 2)))), time_zone=draw(st.sampled_from([None, "Europe/Berlin", "US/Eastern", "Mars/Base"])),
        country=draw(st.sampled_from([None, "DE", "US", "ZZ"])),
        pipeline_field=draw(st.sampled_from([None, "RecordTypeId"])))
    return facts, owners


@settings(max_examples=150, deadline=None)
@given(orgs())
def test_the_draft_loads_and_keeps_every_stage_and_status_name(org: tuple[OrgFacts, list[Owner]]) -> None:
    """Any names (quotes, colons, emoji, control characters), any shapes: the draft validates and names them."""
    facts, owners = org
    policy = parse_policy(draft_policy(facts, owners, date(2026, 5, 6)), "draft")
    assert [s.name for s in policy.stages.lead] == [s.name for s in facts.lead_statuses]
    default = facts.pipeline(None)
    assert [s.name for s in policy.stages.opportunity] == ([s.name for s in default.stages] if default else [])
    assert all(m in {"a@x.com", "b@x.com", "c@x.com", "d@x.com"} for t in policy.teams for m in (t.manager, *t.members))


@settings(max_examples=100, deadline=None)
@given(orgs())
def test_doctor_finds_nothing_to_fix_in_a_policy_drafted_from_the_same_org(org: tuple[OrgFacts, list[Owner]]) -> None:
    """init and doctor agree: the draft names only what the org has and everything open it has."""
    facts, owners = org
    policy = parse_policy(draft_policy(facts, owners, date(2026, 5, 6)), "draft")
    found = diagnose(policy, facts, owners, None)
    allowed = "maps to 'customer'"  # an org whose account types name no customer: a real gap, said as one
    assert [p for p in found.problems if allowed not in p.what] == []
