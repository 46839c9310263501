from datetime import date, timedelta

from domain.org import History
from domain.plan import ActionKind
from domain.records import ObjectType, Task, TaskPriority, TaskStatus, TaskType
from tests.enforcement.families import NOW, account, days_ago, evaluate, lead, opp


def test_deal_unmoved_for_sixty_days_warns_its_owner_first() -> None:
    """At 59 days nothing happens; at 60 the owner gets a warning task naming the deadline."""
    assert not evaluate("stale-deals", [opp(unmoved_days=59.9)]).findings
    result = evaluate("stale-deals", [opp(unmoved_days=60)])
    [finding] = result.findings
    assert "sat in stage 'Discovery' for 60 days" in finding.reason
    assert "closed lost in 14 days" in finding.reason
    [action] = result.actions
    assert action.kind is ActionKind.CREATE_TASK
    assert action.payload["owner_id"] == "u-a" and action.payload["what_id"] == "o1"


def test_closed_and_won_deals_are_never_stale() -> None:
    """Closed deals are left alone however long ago their stage changed."""
    records = [
        opp("won", unmoved_days=500, stage="Closed Won", is_closed=True, is_won=True),
        opp("lost", unmoved_days=500, stage="Closed Lost"),
    ]
    assert not evaluate("stale-deals", records).findings


def test_pushed_close_date_is_not_movement() -> None:
    """A deal whose close date was just pushed into the future is still stale if its stage sat still."""
    pushed = opp(unmoved_days=70, close_date=date(2027, 3, 1), updated_at=days_ago(0.1))
    [finding] = evaluate("stale-deals", [pushed]).findings
    assert finding.evidence["close_date"] == "2027-03-01"
    assert finding.evidence["days_unmoved"] == 70


def test_direct_deal_past_grace_is_closed_lost_with_a_reason() -> None:
    """After 60 + 14 days a direct deal is closed into the policy's closed-lost stage, saying why."""
    [action] = evaluate("stale-deals", [opp(unmoved_days=74)]).actions
    assert action.kind is ActionKind.CLOSE
    assert action.payload["stage"] == "Closed Lost" and action.payload["is_closed"] is True
    assert "74 days in Discovery" in action.payload["close_reason"]


def test_partner_deal_past_grace_is_pulled_back_to_the_channel_manager() -> None:
    """A partner deal goes to the partner account's owner and loses its partner."""
    partner = account("p1", owner="u-cm", account_type="Partner")
    deal = opp(unmoved_days=80, partner_account_id="p1")
    result = evaluate("stale-deals", [partner, deal])
    [action] = result.actions
    assert action.kind is ActionKind.REASSIGN
    assert action.payload == {"owner_id": "u-cm", "partner_account_id": None}
    assert "Pull it back from the partner to Channel Carla" in result.findings[0].reason


def test_pipeline_outcome_overrides_the_segment() -> None:
    """A partner deal in the Renewals pipeline is closed lost, as the policy says for that pipeline."""
    deal = opp(unmoved_days=80, partner_account_id="p1", pipeline="Renewals")
    [action] = evaluate("stale-deals", [account("p1", owner="u-cm"), deal]).actions
    assert action.kind is ActionKind.CLOSE


def test_partner_without_an_owner_is_a_finding_without_action() -> None:
    """When nobody owns the partner account the finding says so and nothing is planned."""
    result = evaluate("stale-deals", [account("p1", owner=None), opp(unmoved_days=80, partner_account_id="p1")])
    assert not result.actions
    assert "has no active owner to act as channel manager" in result.findings[0].reason


def test_pull_back_restarts_the_clock() -> None:
    """Once this rule pulled a deal back, it is judged from that moment, not from its old stage change."""
    history = History(last_reassigned={("stale-deals", "o1"): days_ago(5)})
    assert not evaluate("stale-deals", [opp(unmoved_days=200)], history=history).findings


def test_departed_owner_warning_goes_to_the_manager() -> None:
    """An inactive owner's warning task lands on their manager's desk."""
    result = evaluate("stale-deals", [opp(owner="u-gone", unmoved_days=61)])
    assert result.actions[0].payload["owner_id"] == "u-boss"
    assert "Warn Boss, manager of Gone G, who has left." in result.findings[0].reason
    assert result.findings[0].owner_id == "u-boss" and result.findings[0].evidence["owner"] == "gone@x.com"


def test_stale_deal_keys_are_stable_and_change_with_the_stage_period() -> None:
    """The same stage period gives the same key on any later run; a new stage period gives a new key."""
    first = evaluate("stale-deals", [opp(unmoved_days=61)]).actions[0].key
    assert evaluate("stale-deals", [opp(unmoved_days=61)]).actions[0].key == first
    assert evaluate("stale-deals", [opp(unmoved_days=61)], now=NOW + timedelta(days=3)).actions[0].key == first
    stuck_again = opp(stage="Demo", stage_changed_at=NOW + timedelta(days=1), probability=25.0)
    [again] = evaluate("stale-deals", [stuck_again], now=NOW + timedelta(days=62)).actions
    assert again.key != first


def test_qualified_lead_idle_for_thirty_days_returns_to_marketing() -> None:
    """The lead goes to the Marketing Queue with the status the policy names."""
    assert not evaluate("stale-leads", [lead(idle_days=29)]).findings
    [action] = evaluate("stale-leads", [lead(idle_days=31)]).actions
    assert action.kind is ActionKind.REASSIGN and action.object is ObjectType.LEAD
    assert action.payload == {"owner_id": "q-mkt", "status": "Returned to Marketing"}


def test_recent_activity_keeps_a_lead_fresh() -> None:
    """A call completed ten days ago counts as activity even if the status sat still."""
    call = Task("t1", "Check-in", "u-a", TaskStatus.COMPLETED, TaskType.CALL, TaskPriority.NORMAL,
                days_ago(10), days_ago(10), completed_at=days_ago(10), who_id="l1")
    assert not evaluate("stale-leads", [lead(idle_days=90), call]).findings


def test_only_qualified_leads_and_not_those_in_a_queue_are_returned() -> None:
    """Working leads and leads already in a queue are not stale-lead findings."""
    records = [lead("l1", idle_days=90, status="Working"), lead("l2", owner="q-mkt", idle_days=90)]
    assert not evaluate("stale-leads", records).findings
