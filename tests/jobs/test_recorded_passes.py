"""A scheduled run records only the records its rules judged differently, and every run reads back all it found."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from domain.org import History
from domain.plan import Action, Finding, RulePass, RuleResult
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from enforcement.registry import rules_for
from jobs import rule_passes
from store import ledger as ledger_module
from store import mirror
from store.db import session_factory
from store.ledger import Ledger
from store.run_report import ActionEntry
from tests.jobs.test_rule_passes import POLICY, Org

FATES = ("records", "records", "records", "dies", "records", "records without passes", "records", "records")
"""What becomes of each scheduled run after its rules: it records its plan (saying how its rules made it, or not),
or it dies before recording anything, its rules' judgments already stored."""


def _said(items: Iterable[Finding | Action | ActionEntry]) -> Counter[tuple[Any, ...]]:
    """What each finding or planned action says, as the ledger gives it back (JSON has no tuples)."""
    said: Counter[tuple[Any, ...]] = Counter()
    for item in items:
        if isinstance(item, Finding):
            said[(item.rule, item.record_id, item.owner_id, item.reason, json.dumps(item.evidence))] += 1
        else:
            said[(item.rule, item.key, item.kind, item.record_id, item.reason, json.dumps(item.payload))] += 1
    return said


@pytest.fixture(autouse=True)
def no_safety_net(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rule_passes, "FULL_PASS_EVERY", timedelta(days=10_000))


@pytest.mark.parametrize("seed", [3, 11])
def test_runs_that_record_only_what_changed_read_back_everything_they_found(
        engine: Engine, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dry runs after random edits, one of which dies between its rules and its recording, and one of which does not
    say how its rules made the plan: each run reads back exactly its findings and plan. A run reads a rule's whole
    set of open rows only when it cannot build on what the ledger holds: after a full pass, after the run that died
    and after the run that did not say; otherwise only the rows of the records judged differently, of each kind
    (findings, plan, skips) those that held some."""
    read_in_full: list[str] = []
    read = ledger_module._OpenRows.read

    def noted(self: Any, rule: str) -> Any:
        read_in_full.append(rule)
        return read(self, rule)

    monkeypatch.setattr(ledger_module._OpenRows, "read", noted)
    read_back: list[int] = []
    read_records = ledger_module._OpenRows.read_records

    def counted(self: Any, rule: str, record_ids: Any) -> None:
        read_back.append(len(record_ids))
        read_records(self, rule, record_ids)

    monkeypatch.setattr(ledger_module._OpenRows, "read_records", counted)
    connection = f"passes-{seed}-{random.random()}"
    sessions = session_factory(engine)
    ledger = Ledger(sessions)
    org = Org(random.Random(seed), POLICY)
    rng = random.Random(seed)
    calendar = BusinessCalendar(POLICY.calendar)
    recorded: list[tuple[str, RuleResult]] = []
    for step, fate in enumerate(FATES):
        org.now += timedelta(minutes=rng.choice((7, 73, 23 * 60)))
        for _ in range(rng.randint(2, 8) if step else 0):
            org.change()
        mirror.sync(org.reader, sessions, connection)
        plan, plans, passes = RuleResult(), dict[str, RuleResult](), dict[str, RulePass]()
        with sessions() as session:
            base = mirror.MirrorOrg(session, connection)
            ctx = RuleContext(POLICY, calendar, org.now, base.owners(), History(), connection)
            for rule, family in rules_for(POLICY, "all"):
                made = rule_passes.evaluate(rule, family, ctx, base, session, sessions)
                plan.gather(made.result)
                plans[rule.id], passes[rule.id] = made.result, made.made
        if fate == "dies":
            continue
        given = {} if fate == "records without passes" else passes
        read_in_full.clear()
        read_back.clear()
        run_id = ledger.start_run("all", connection, dry_run=True, now=org.now)
        ledger.record_dry_run(run_id, plans, list(passes), given)
        recorded.append((run_id, plan))
        follows = fate == "records" and step > 0 and FATES[step - 1] == "records"
        judged_all = {rule for rule, made in passes.items() if made.carried_from is None}
        expected = judged_all if follows else set(passes)
        read_per_rule = 3  # its findings, skips and plan
        assert Counter(read_in_full) == Counter({rule: read_per_rule for rule in expected}), f"step {step}: {fate}"
        changed = sum(len(made.records) for rule, made in passes.items() if rule not in expected)
        if follows and changed:  # of each kind, only the changed records that held some are read back
            assert sum(read_back) < read_per_rule * changed, f"step {step}"
    for run_id, plan in recorded:
        report = ledger.run_report(run_id)
        assert _said(report.findings) == _said(plan.findings)
        assert _said(report.actions) == _said(plan.actions)
        assert Counter(report.skips) == Counter(plan.skips)
