from domain.plan import ActionKind
from domain.records import ObjectType
from tests.enforcement.families import days_ago, evaluate, lead, opp


def test_complete_record_in_its_stage_passes() -> None:
    """A Demo deal with amount, close date and the stage's probability is fine."""
    assert not evaluate("opp-gates", [opp(stage="Demo", probability=25.0)]).findings


def test_missing_required_field_asks_the_owner_to_complete_it() -> None:
    """A Demo deal without an amount gets a task for its owner naming the missing field."""
    result = evaluate("opp-gates", [opp(stage="Demo", amount=None, probability=25.0)])
    [finding] = result.findings
    assert "is in stage 'Demo' but its required amount is missing" in finding.reason
    assert finding.evidence["missing"] == ["amount"]
    [action] = result.actions
    assert action.kind is ActionKind.CREATE_TASK and action.payload["owner_id"] == "u-a"


def test_custom_bant_fields_are_required_too() -> None:
    """Negotiation needs bant_budget, kept as a custom field; blank text counts as missing."""
    deal = opp(stage="Negotiation", probability=70.0, extra={"bant_budget": "  "})
    [finding] = evaluate("opp-gates", [deal]).findings
    assert finding.evidence["missing"] == ["bant_budget"]


def test_probability_that_differs_from_the_stage_is_a_finding() -> None:
    """A Demo deal at 60% where the stage fixes 25% is flagged; with move_back the probability is set."""
    deal = opp(stage="Demo", probability=60.0)
    [finding] = evaluate("opp-gates", [deal]).findings
    assert "probability is 60% where the stage fixes 25%" in finding.reason
    [action] = evaluate("opp-gates-back", [deal]).actions
    assert action.kind is ActionKind.UPDATE and action.payload == {"probability": 25.0}


def test_move_back_goes_to_the_last_stage_the_record_qualifies_for() -> None:
    """A Negotiation deal without amount moves back to Discovery (Demo needs the amount too)."""
    deal = opp(stage="Negotiation", amount=None, probability=70.0, extra={"bant_budget": "yes"})
    [action] = evaluate("opp-gates-back", [deal]).actions
    assert action.kind is ActionKind.UPDATE
    assert action.payload == {"stage": "Discovery", "probability": 10.0}


def test_move_back_with_no_qualifying_stage_falls_back_to_a_task() -> None:
    """With no close date even Discovery is not met: the owner is asked to complete the deal."""
    result = evaluate("opp-gates-back", [opp(stage="Demo", close_date=None, probability=25.0)])
    assert [a.kind for a in result.actions] == [ActionKind.CREATE_TASK]
    assert "no earlier stage's requirements are met either" in result.findings[0].reason


def test_qualified_lead_without_bant_moves_back_a_status() -> None:
    """A Qualified lead missing its budget answer goes back to Working, the stage before."""
    [action] = evaluate("lead-gates", [lead(extra={"bant_need": "CRM"})]).actions
    assert action.object is ObjectType.LEAD and action.payload == {"status": "Working"}


def test_unknown_stage_is_skipped_with_a_reason_and_closed_deals_pass() -> None:
    """A stage the policy does not define is a skip naming it; closed deals are not gated."""
    result = evaluate("opp-gates", [opp("o1", stage="Proposal"), opp("o2", stage="Closed Won", is_closed=True,
                                                                        amount=None, probability=100.0)])
    assert not result.findings
    [skip] = result.skips
    assert skip.record_id == "o1" and "stage 'Proposal' is not in the policy's stages.opportunity" in skip.reason


def test_departed_owner_task_goes_to_the_manager() -> None:
    """The completion task for an inactive owner's deal is created for their manager."""
    result = evaluate("opp-gates", [opp(owner="u-gone", stage="Demo", amount=None, probability=25.0)])
    assert result.actions[0].payload["owner_id"] == "u-boss" and result.findings[0].owner_id == "u-boss"


def test_gate_key_is_stable_and_new_when_the_stage_is_entered_again() -> None:
    """The same stage entry gives the same key; re-entering the stage later gives a new key."""
    first = evaluate("opp-gates", [opp(stage="Demo", amount=None, probability=25.0)]).actions[0].key
    assert evaluate("opp-gates", [opp(stage="Demo", amount=None, probability=25.0)]).actions[0].key == first
    again = opp(stage="Demo", amount=None, probability=25.0, stage_changed_at=days_ago(0.5))
    assert evaluate("opp-gates", [again]).actions[0].key != first
