"""Deals follow the stages of their own pipeline (a HubSpot pipeline, a Salesforce sales process)."""

from domain.plan import ActionKind
from tests.enforcement.families import POLICY_TEXT, evaluate, opp

PARTNER = POLICY_TEXT.replace("""rules:
""", """  pipelines:
    - name: Partner Pipeline
      opportunity:
        - {name: Registered, required: [close_date], probability: 20}
        - {name: Contract Sent, required: [amount, close_date, partner_account_id], probability: 80}
        - {name: Partner Won, closed: true, won: true, probability: 100}
        - {name: Partner Lost, closed: true, probability: 0}
rules:
""", 1)


def test_a_stage_of_the_deals_own_pipeline_is_gated_by_that_pipeline() -> None:
    """'Contract Sent' exists only in the partner pipeline: its deal is judged there, not skipped."""
    deal = opp(stage="Contract Sent", probability=80.0, pipeline="Partner Pipeline")
    result = evaluate("opp-gates", [deal], policy_text=PARTNER)
    assert not result.skips
    [finding] = result.findings
    assert finding.evidence["missing"] == ["partner_account_id"]


def test_the_same_stage_in_the_default_pipeline_is_skipped_with_the_reason() -> None:
    """A deal outside the partner pipeline cannot be in 'Contract Sent': it is skipped, naming the fix."""
    result = evaluate("opp-gates", [opp(stage="Contract Sent", probability=80.0)], policy_text=PARTNER)
    [skip] = result.skips
    assert "'Contract Sent' is not in the policy's stages.opportunity" in skip.reason
    assert "stages.aliases" in skip.reason


def test_pipeline_names_match_ignoring_case() -> None:
    """The CRM's 'partner pipeline' is the policy's 'Partner Pipeline'."""
    deal = opp(stage="Registered", probability=20.0, pipeline="partner pipeline")
    assert not evaluate("opp-gates", [deal], policy_text=PARTNER).skips


def test_move_back_stays_in_the_deals_pipeline_and_names_it() -> None:
    """Moving back goes to the pipeline's own earlier stage, and the write says which pipeline."""
    deal = opp(stage="Contract Sent", probability=80.0, pipeline="Partner Pipeline", partner_account_id=None)
    [action] = evaluate("opp-gates-back", [deal], policy_text=PARTNER).actions
    assert action.payload == {"stage": "Registered", "probability": 20.0, "pipeline": "Partner Pipeline"}


def test_a_stale_deal_closes_into_its_own_pipelines_lost_stage() -> None:
    """A stale direct deal of the partner pipeline closes as 'Partner Lost', the pipeline's own lost stage."""
    deal = opp(stage="Registered", probability=20.0, pipeline="Partner Pipeline", unmoved_days=90)
    [action] = evaluate("stale-deals", [deal], policy_text=PARTNER).actions
    assert action.kind is ActionKind.CLOSE
    assert action.payload["stage"] == "Partner Lost" and action.payload["pipeline"] == "Partner Pipeline"


def test_a_deal_in_its_pipelines_closed_stage_is_not_stale() -> None:
    """'Partner Won' is closed in the partner pipeline: nothing to warn about."""
    deal = opp(stage="Partner Won", pipeline="Partner Pipeline", unmoved_days=200)
    assert not evaluate("stale-deals", [deal], policy_text=PARTNER).findings
