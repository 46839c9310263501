"""The scheduled dedupe rule: new duplicates become findings; auto-tier clusters merge when the policy allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from config.policy_file import load_policy, parse_policy
from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from demo.org import seed_demo
from domain.plan import RuleResult
from domain.records import Account, ObjectType
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import FAMILIES, rules_for
from jobs.apply.undo import undo
from jobs.pipeline import RunResult, run_job
from store.ledger import Ledger
from tests.dedupe.merge_support import crm_state, ledger_sessions, seeded_crm
from tests.memory_org import InMemoryOrg

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
POLICY = """\
rules:
  - {id: new-duplicates, kind: dedupe, new_within_days: 7, schedule: "0 6 * * *"}
"""
AUTO_MERGE = POLICY + "dedupe: {auto_merge: true, max_auto_merges: 1}\n"


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


def scheduled(crm: LocalCRM, sessions: sessionmaker[Session], policy: str, apply: bool = True) -> RunResult:
    return run_job("dedupe", connector=crm, connection="local", policy=parse_policy(policy), sessions=sessions,
                   now=NOW, apply=apply)


def live(crm: LocalCRM) -> list[str]:
    return sorted(a.id for a in crm.iter_changed(ObjectType.ACCOUNT, None) if not a.deleted)


def test_auto_merge_merges_only_auto_tier_clusters_undoably_and_never_again_after_undo(tmp_path: Path) -> None:
    """Globex (same name and domain) merges unattended; name-only Acme waits for review; undo sticks."""
    crm, sessions = seeded_crm(tmp_path / "crm.db"), ledger_sessions(tmp_path / "warden.db")
    before = crm_state(crm)
    dry = scheduled(crm, sessions, AUTO_MERGE, apply=False)
    assert [(a.action.record_id, a.status) for a in dry.actions] == [("acc-6", "would_apply")]
    assert crm_state(crm) == before
    run = scheduled(crm, sessions, AUTO_MERGE)
    assert [(a.action.record_id, a.action.payload["loser_ids"], a.status) for a in run.actions] == [
        ("acc-6", ["acc-5"], "applied")]
    assert live(crm) == ["acc-1", "acc-2", "acc-3", "acc-4", "acc-6", "acc-7", "acc-8"]
    undo(run.run_id, crm, sessions, NOW, apply=True)
    assert crm_state(crm) == before
    assert scheduled(crm, sessions, AUTO_MERGE).actions == []
    assert crm_state(crm) == before


def test_auto_merges_respect_the_per_run_limit_and_the_next_run_takes_the_rest(tmp_path: Path) -> None:
    """With max_auto_merges 1, two evidence-backed clusters merge over two runs, one each."""
    crm, sessions = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW), ledger_sessions(tmp_path / "warden.db")
    crm.insert_records([account("g1", "Globex GmbH", 900, "globex.de"), account("g2", "Globex", 300, "globex.de"),
                        account("i1", "Initech LLC", 900, "initech.com"), account("i2", "Initech", 300, "initech.com")])
    merged = [[a.action.record_id for a in scheduled(crm, sessions, AUTO_MERGE).actions if a.status == "applied"]
              for _ in range(3)]
    assert [len(m) for m in merged] == [1, 1, 0]
    assert len(live(crm)) == 2


def test_new_duplicate_findings_say_whether_the_job_merges_them(tmp_path: Path) -> None:
    """A new duplicate's finding names the planned merge and its undo; once undone, the admin's commands."""
    crm, sessions = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW), ledger_sessions(tmp_path / "warden.db")
    crm.insert_records([account("old", "Globex GmbH", 900, "globex.de"), account("new", "Globex", 2, "globex.de")])
    run = scheduled(crm, sessions, AUTO_MERGE)
    (planned,) = run.findings
    assert "planned to merge into" in planned.reason and "an admin can undo it (key merge:local:" in planned.reason
    undo(run.run_id, crm, sessions, NOW, apply=True)
    (undone,) = scheduled(crm, sessions, AUTO_MERGE).findings
    assert "an admin undid their merge before, so only an admin merges them again" in undone.reason


def test_the_packaged_policy_flags_the_demo_orgs_new_duplicate(tmp_path: Path) -> None:
    """`warden demo` shows the account entered again this week, and with auto merge off nothing merges."""
    crm, sessions = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW), ledger_sessions(tmp_path / "warden.db")
    seed_demo(crm, NOW)
    run = run_job("dedupe", connector=crm, connection="local", policy=load_policy(PACKAGED_POLICY),
                  sessions=sessions, now=NOW, apply=True)
    assert [(f.rule, f.record_id) for f in run.findings] == [("new-duplicates", "acc-000011")]
    assert "'HOOLI'" in run.findings[0].reason and run.actions == []
