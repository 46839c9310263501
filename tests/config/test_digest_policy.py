"""The policy's digest: block: period, send hour, fallback recipient and the reps' morning list."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.policy_file import PolicyError, load_policy

BASE = """\
version: 1
digest:
  period: {period}
  send_hour: 8
  fallback_recipient: {fallback}
  morning_list: [{reps}]
"""


def write(tmp_path: Path, period: str = "weekly", fallback: str = "ops@example.com", reps: str = "") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(BASE.format(period=period, fallback=fallback, reps=reps))
    return path


def test_shipped_policy_has_a_digest_block() -> None:
    """The example policy sends weekly digests with a fallback recipient."""
    policy = load_policy(Path("config/policy.yaml"))
    assert policy.digest is not None
    assert policy.digest.period == "weekly" and "@" in policy.digest.fallback_recipient


def test_malformed_fallback_is_reported_with_its_line(tmp_path: Path) -> None:
    """A fallback recipient that is not an address is an error naming the key and the line."""
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, fallback="sales ops"))
    problem = caught.value.problems[0]
    assert problem.path == "digest.fallback_recipient" and problem.line == 5
    assert "'sales ops' is not an email address" in problem.message


def test_unknown_period_is_refused(tmp_path: Path) -> None:
    """Only daily and weekly digests exist."""
    with pytest.raises(PolicyError, match=r"digest\.period"):
        load_policy(write(tmp_path, period="monthly"))


def test_morning_list_addresses_are_checked(tmp_path: Path) -> None:
    """Every rep on the morning list must be written as an address."""
    with pytest.raises(PolicyError, match="'alex' is not an email address"):
        load_policy(write(tmp_path, reps="alex.carter@example.com, alex"))


def test_a_marketing_digest_needs_an_acceptance_rule(tmp_path: Path) -> None:
    """digest.marketing sends the lead acceptance report: without an acceptance rule the policy says what to add."""
    path = tmp_path / "policy.yaml"
    path.write_text(BASE.format(period="weekly", fallback="ops@example.com", reps="") + "  marketing: [mkt@x.com]\n")
    with pytest.raises(PolicyError, match=r"digest\.marketing gets the lead acceptance report, which needs an "
                                          r"enabled `kind: acceptance` rule"):
        load_policy(path)
