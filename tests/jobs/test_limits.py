"""Blast-radius limits: a rule whose plan would change too much applies nothing until an admin says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
import structlog
from sqlalchemy import Engine
from typer.testing import CliRunner

from config.policy import Policy
from config.policy_file import PolicyError, parse_policy
from connectors.local import LocalCRM
from domain.records import ObjectType, Opportunity, Owner
from jobs.cli import app
from jobs.pipeline import RunResult, run_job
from store.db import session_factory

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=200)
POLICY = """\
calendar: {{time_zone: UTC}}
stages:
  opportunity:
    - {{name: Discovery}}
    - {{name: Closed Lost, closed: true}}
{limits}
rules:
  - id: stale-deals
    kind: stale_deal
    after_days: 60
    grace_days: 14
    warning: {{subject: Move it}}
    direct_deals: close_lost
    close_reason_field: null
{extra}
"""


def policy(limits: str = "", extra: str = "") -> Policy:
    return parse_policy(POLICY.format(limits=limits, extra=extra))


def seed(crm: LocalCRM, deals: int, start: int = 0, at: datetime = NOW) -> None:
    """``deals`` deals stuck in Discovery since long ago, last edited at ``at`` (so a sync from then sees them)."""
    owner = [] if crm.owners() else [Owner("u-a", "Ann A", "a@x.com", time_zone="UTC")]
    crm.insert_records([
        *owner,
        *[Opportunity(f"o{i}", f"Deal {i}", None, "u-a", "Discovery", OLD, at, stage_changed_at=OLD)
          for i in range(start, start + deals)],
    ])


def open_deals(crm: LocalCRM) -> int:
    return sum(1 for r in crm.iter_changed(ObjectType.OPPORTUNITY, None)
               if isinstance(r, Opportunity) and not r.is_closed)


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[LocalCRM]:
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    yield crm
    crm.close()


def run(crm: LocalCRM, engine: Engine, rules: Policy, *, apply: bool = True, allow_large: bool = False,
        at: datetime = NOW) -> RunResult:
    return run_job("all", connector=crm, connection="local", policy=rules, sessions=session_factory(engine),
                   now=at, apply=apply, allow_large=allow_large)


def test_a_rule_above_its_max_actions_applies_nothing_and_says_why(crm: LocalCRM, engine: Engine) -> None:
    """Five deals to close against max_actions 3: nothing is closed, the run says why in one line."""
    seed(crm, 5)
    result = run(crm, engine, policy(extra="    max_actions: 3"))
    assert open_deals(crm) == 5
    assert {a.status for a in result.actions} == {"skipped"}
    reason = result.held["stale-deals"]
    assert "\n" not in reason and "5 changes" in reason and "max_actions 3" in reason and "--allow-large" in reason
    assert all(a.error == f"held: {reason}" for a in result.actions)
    assert result.summary()["held"] == {"stale-deals": reason}
    assert result.errors == []


def test_allow_large_overrides_once(crm: LocalCRM, engine: Engine) -> None:
    """--allow-large applies the held plan; the next large plan is held again."""
    seed(crm, 5)
    rules = policy(extra="    max_actions: 3")
    assert run(crm, engine, rules, apply=False).held  # a dry run says it would be held
    result = run(crm, engine, rules, allow_large=True)
    assert open_deals(crm) == 0 and result.held == {}
    seed(crm, 4, start=10)
    assert set(run(crm, engine, rules).held) == {"stale-deals"} and open_deals(crm) == 4


def test_only_changes_still_to_make_count_towards_the_limit(crm: LocalCRM, engine: Engine) -> None:
    """Actions an earlier run already applied are not counted again: a steady plan is never held for its size."""
    seed(crm, 3)
    rules = policy(extra="    max_actions: 3")
    run(crm, engine, rules)
    seed(crm, 2, start=10)
    result = run(crm, engine, rules)
    assert result.held == {} and open_deals(crm) == 0


def test_the_policy_default_limits_every_rule(crm: LocalCRM, engine: Engine) -> None:
    """limits.max_actions applies to rules that set none; a rule's own max_actions wins over it."""
    seed(crm, 5)
    assert set(run(crm, engine, policy(limits="limits: {max_actions: 4}"), apply=False).held) == {"stale-deals"}
    rules = policy(limits="limits: {max_actions: 4}", extra="    max_actions: 10")
    assert run(crm, engine, rules, apply=False).held == {}
    assert Policy().limits.max_actions == 500


def test_a_plan_far_above_the_rules_usual_size_is_held(crm: LocalCRM, engine: Engine) -> None:
    """A rule that usually changes 2 records a run and suddenly plans 40 is held, though under max_actions."""
    rules = policy(limits="limits: {unusual_factor: 5, unusual_floor: 10}")
    for day in range(4):
        seed(crm, 2, start=100 + 10 * day, at=NOW + timedelta(days=day))
        assert run(crm, engine, rules, at=NOW + timedelta(days=day)).held == {}
    seed(crm, 40, start=1000, at=NOW + timedelta(days=5))
    result = run(crm, engine, rules, at=NOW + timedelta(days=5))
    reason = result.held["stale-deals"]
    assert "40 changes" in reason and "usually 2" in reason and "--allow-large" in reason
    assert open_deals(crm) == 40


@pytest.mark.parametrize(("text", "where"), [
    ("limits: {max_actions: 0}", "limits.max_actions"),
    ("limits: {unusual_factor: 1}", "limits.unusual_factor"),
])
def test_limits_out_of_range_are_refused_with_their_key(text: str, where: str) -> None:
    """A limit that cannot work is named by its key."""
    with pytest.raises(PolicyError, match=where):
        policy(limits=text)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{tmp_path / 'warden.db'}")
    monkeypatch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{tmp_path / 'crm.db'}")
    (tmp_path / "policy.yaml").write_text(POLICY.format(limits="", extra=""))
    monkeypatch.setenv("WARDEN_POLICY", str(tmp_path / "policy.yaml"))
    monkeypatch.setenv("COLUMNS", "200")
    yield tmp_path
    structlog.reset_defaults()


def test_closing_ten_thousand_deals_needs_allow_large(env: Path) -> None:
    """On the embedded CRM, a policy that would close 10,000 deals applies nothing and says so, until --allow-large."""
    crm = LocalCRM(env / "crm.db", clock=lambda: NOW)
    seed(crm, 10_000)
    now = NOW.isoformat()
    result = CliRunner().invoke(app, ["run", "stale", "--apply", "--now", now])
    assert result.exit_code == 0, result.stdout
    held = [line for line in result.stdout.splitlines() if line.startswith("held")]
    assert len(held) == 1 and "10000 changes" in held[0] and "max_actions 500" in held[0], result.stdout
    assert open_deals(crm) == 10_000
    result = CliRunner().invoke(app, ["run", "stale", "--apply", "--allow-large", "--now", now, "--json"])
    assert json.loads(result.stdout)["summary"]["held"] == {}
    assert open_deals(crm) == 0
    crm.close()


def test_status_and_the_digest_show_a_held_rule_until_a_run_applies_it(env: Path) -> None:
    """`warden status` and each manager's digest name the held rule; after --allow-large they no longer do."""
    (env / "policy.yaml").write_text(POLICY.format(limits="digest: {fallback_recipient: ops@x.com}",
                                                   extra="    max_actions: 3"))
    crm = LocalCRM(env / "crm.db", clock=lambda: NOW)
    seed(crm, 5)
    crm.close()
    now = NOW.isoformat()
    assert CliRunner().invoke(app, ["run", "stale", "--apply", "--now", now]).exit_code == 0
    status = CliRunner().invoke(app, ["status"]).stdout
    assert "held in local: stale-deals plans 5 changes, above its max_actions 3" in status, status
    CliRunner().invoke(app, ["digest", "--now", now, "--preview", "out"])
    mail = message_from_bytes((env / "out" / "ops-x-com.eml").read_bytes(), policy=default)
    for kind in ("plain", "html"):
        part = mail.get_body(preferencelist=(kind,))
        text = part.get_content() if isinstance(part, EmailMessage) else ""
        assert "Held back, nothing applied" in text and "stale-deals plans 5 changes" in text, text
    CliRunner().invoke(app, ["run", "stale", "--apply", "--allow-large", "--now", now])
    assert "held in" not in CliRunner().invoke(app, ["status"]).stdout
