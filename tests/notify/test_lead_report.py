from datetime import timedelta
from typing import Any

from config.policy import AcceptanceRule
from config.policy_file import parse_policy
from domain.records import Lead, ObjectType, Owner, StageChange
from notify.lead_report import lead_report
from tests.enforcement.families import NOW, days_ago
from tests.enforcement.test_acceptance import POLICY

OWNERS = {"u-a": Owner("u-a", "Ann A", "a@x.com", time_zone="America/New_York")}


def lead(id: str, status: str, source: str, **extra: Any) -> Lead:
    return Lead(id, f"Pat {id}", "Initech", "u-a", status, days_ago(7), days_ago(6),
                status_changed_at=days_ago(6), extra={"lead_source": source, "campaign": "Webinar", **extra})


def test_acceptance_rate_reasons_and_time_to_accept_by_source() -> None:
    """Two web leads accepted (one 2 business hours after routing), one rejected with its reason; events pending."""
    policy = parse_policy(POLICY)
    rule = policy.rules[1]
    assert isinstance(rule, AcceptanceRule)
    leads = [lead("w1", "Working", "Web"), lead("w2", "Working", "Web"),
             lead("w3", "Rejected", "Web", rejection_reason="Student"), lead("e1", "New", "Event")]
    monday_10 = NOW - timedelta(days=2, hours=5)  # Monday 19 October 10:00 in New York
    history = {"w1": [StageChange(ObjectType.LEAD, "w1", monday_10 + timedelta(hours=2), "Working")]}
    report = lead_report("local", NOW, NOW - timedelta(days=30), policy, rule, OWNERS, leads, history,
                         {"w1": monday_10})
    rows = {(r.scope, r.name): r for r in report.rows}
    web = rows[("source", "Web")]
    assert (web.leads, web.accepted, web.rejected, web.awaiting, web.acceptance_rate) == (3, 2, 1, 0, 66.7)
    assert rows[("source", "Event")].awaiting == 1 and rows[("source", "Event")].acceptance_rate is None
    assert rows[("all", "all leads")].leads == 4 and rows[("campaign", "Webinar")].accepted == 2
    assert [(r.source, r.reason, r.leads) for r in report.reasons] == [("Web", "Student", 1)]
    w1_hours = 2.0
    assert web.median_hours_to_accept is not None and web.median_hours_to_accept >= w1_hours
