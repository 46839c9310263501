"""Prevention: the scheduled dedupe rule flags new accounts that duplicate existing ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.policy_file import parse_policy
from connectors.local import LocalCRM
from connectors.records import Account
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.findings import RuleResult
from enforcement.memory import InMemoryOrg
from enforcement.registry import FAMILIES, rules_for
from jobs.pipeline import run_job
from store.ledger import Ledger
from tests.dedupe.merge_support import ledger_sessions

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


def test_the_scheduled_job_records_new_duplicates_as_findings(tmp_path: Path) -> None:
    """`warden run dedupe` syncs, evaluates and leaves the finding in the ledger, where digests read it."""
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    crm.insert_records([account("old", "Globex GmbH", 900, "globex.de"), account("new", "Globex", 2, "globex.de")])
    sessions = ledger_sessions(tmp_path / "warden.db")
    result = run_job("dedupe", connector=crm, connection="local", policy=parse_policy(POLICY), sessions=sessions,
                     now=NOW, apply=False)
    assert [(f.rule, f.record_id) for f in result.findings] == [("new-duplicates", "new")]
    assert Ledger(sessions).run_report(result.run_id).findings == result.findings
