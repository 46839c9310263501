"""Prevention: the scheduled dedupe rule flags new accounts that duplicate existing ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.policy_file import parse_policy
from connectors.records import Account
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.findings import RuleResult
from enforcement.memory import InMemoryOrg
from enforcement.registry import FAMILIES, rules_for

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
POLICY = """\
rules:
  - {id: new-duplicates, kind: dedupe, new_within_days: 7, schedule: "0 6 * * *"}
"""


def account(account_id: str, name: str, days_old: int, website: str | None = None) -> Account:
    created = NOW - timedelta(days=days_old)
    return Account(account_id, name, "u-rep", created, created, website=website, billing_city="Boston")


def evaluate(*accounts: Account) -> RuleResult:
    policy = parse_policy(POLICY)
    ((rule, family),) = rules_for(policy, "dedupe")
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {})
    return family.evaluate(rule, ctx, InMemoryOrg(accounts))


def test_a_new_duplicate_is_flagged_for_its_owner_with_the_match() -> None:
    """An "Acme Products, Inc." created yesterday beside an old "Acme Products" is one finding on the new one."""
    result = evaluate(account("old", "Acme Products", 900, "acmeproducts.com"),
                      account("new", "Acme Products, Inc.", 1, "www.acmeproducts.com"))
    (finding,) = result.findings
    assert (finding.rule, finding.record_id, finding.owner_id) == ("new-duplicates", "new", "u-rep")
    assert "duplicates 'Acme Products' (old)" in finding.reason
    assert finding.evidence["tier"] == "auto" and "acmeproducts.com" in finding.evidence["reasons"][0]
    assert result.actions == []


def test_old_duplicates_and_new_look_alikes_are_not_flagged() -> None:
    """Duplicates older than the window are the admin's plan; a new "Bank of the East" is not a duplicate."""
    result = evaluate(account("a", "Acme Products", 900), account("b", "Acme Products Inc", 300),
                      account("w", "Bank of the West", 900), account("e", "Bank of the East", 2))
    assert result.findings == []


def test_the_dedupe_family_is_its_own_scheduled_job() -> None:
    """The registry runs the dedupe rule under the job name "dedupe"."""
    assert FAMILIES["dedupe"].job == "dedupe"
