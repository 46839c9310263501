"""Doctor's checks on plain org facts: what counts as a problem, and the fix each one names."""

from __future__ import annotations

from config.policy_file import parse_policy
from domain.inspection import ObjectAccess, OrgFacts, PipelineFacts, StageFacts
from domain.records import ObjectType, Owner
from jobs.doctor import diagnose

POLICY = """\
queues: [Inbound]
teams: [{name: A, manager: boss@x.com, members: [ann@x.com]}]
account_types: {source_field: lifecycle_stage, values: {customer: customer}}
stages:
  lead: [{name: NEW}]
  opportunity: [{name: Discovery}, {name: Negotiation, required: [amount, bant_budget]},
                {name: Closed Lost, closed: true}]
  aliases: {hubspot: {"Decision Maker Bought-In": Negotiation, "appointment scheduled": Discovery}}
fields: {hubspot: {opportunity: {bant_budget: budget_confirmed}}}
"""
OWNERS = [Owner("1", "Boss", "boss@x.com"), Owner("2", "Ann", "ann@x.com")]


def facts(**changes: object) -> OrgFacts:
    base: dict[str, object] = {
        "crm": "hubspot",
        "pipelines": (PipelineFacts("Sales Pipeline", (
            StageFacts("Appointment Scheduled", 20), StageFacts("Decision Maker Bought-In", 80),
            StageFacts("Closed Lost", 0, True)), default=True),),
        "lead_statuses": (StageFacts("NEW"),), "account_type_field": "lifecycle_stage",
        "account_types": {"lifecycle_stage": ("lead", "customer")},
        "fields": {ObjectType.OPPORTUNITY: frozenset({"dealstage", "amount", "budget_confirmed"})},
        "access": (ObjectAccess(ObjectType.TASK, "tasks", True, None, True),)}
    return OrgFacts(**(base | changes))  # type: ignore[arg-type]


def test_aliased_stages_and_mapped_fields_are_ready() -> None:
    """The CRM's names aliased onto the policy's, in any case, and a mapped custom field raise nothing."""
    found = diagnose(parse_policy(POLICY), facts(), [*OWNERS, Owner("q", "Inbound", is_queue=True)], None)
    assert found.problems == [] and "opportunity stages" in found.passed


def test_hubspot_problems_name_scopes_and_say_hubspot_has_no_queues() -> None:
    """A missing scope names the scope to grant; a queue on HubSpot is explained, not just reported."""
    access = (ObjectAccess(ObjectType.TASK, "tasks", True, None, False),)
    found = diagnose(parse_policy(POLICY), facts(access=access), OWNERS, None)
    lines = [str(p) for p in found.problems]
    assert "the integration user may not create tasks: grant the app the scope crm.objects.tasks.write" in lines
    assert any("HubSpot has no queues" in line for line in lines)


def test_an_unmapped_custom_field_and_a_missing_one_are_told_apart() -> None:
    """A mapped property the portal lacks is named with the closest one; an unmapped required field says to map it."""
    org = facts(fields={ObjectType.OPPORTUNITY: frozenset({"dealstage", "amount", "budget_confirmed_c"})})
    text = POLICY.replace("required: [amount, bant_budget]", "required: [amount, bant_budget, bant_need]")
    lines = [str(p) for p in diagnose(parse_policy(text), org, OWNERS, None).problems]
    assert any("'budget_confirmed', which is not a field" in line and "did you mean 'budget_confirmed_c'" in line
               for line in lines)
    assert any("requires 'bant_need'" in line and "map it: fields: {hubspot: {opportunity: {bant_need:" in line
               for line in lines)
