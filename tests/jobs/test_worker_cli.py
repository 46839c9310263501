from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jobs.cli import app
from tests.jobs.worker_support import copy_policy, seed_small_crm


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A SQLite store, a small local CRM and a policy file, named by the usual variables."""
    monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{tmp_path / 'warden.db'}")
    monkeypatch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{seed_small_crm(tmp_path / 'crm.db')}")
    monkeypatch.setenv("WARDEN_CRM", "local")
    monkeypatch.delenv("WARDEN_METRICS_PORT", raising=False)
    policy = copy_policy(tmp_path)
    monkeypatch.setenv("WARDEN_POLICY", str(policy))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield policy
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_worker_once_then_status_reports_every_job(environment: Path) -> None:
    """`warden worker --once` runs the due jobs; `warden status --json` then shows each with its next run."""
    runner = CliRunner()
    ran = runner.invoke(app, ["worker", "--once"])
    assert ran.exit_code == 0, ran.output
    shown = runner.invoke(app, ["status", "--json"])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert {(j["connection"], j["job"], j["outcome"]) for j in report["jobs"]} == {
        ("local", job, "finished")
        for job in ("sla", "stale", "cadence", "overdue", "gates", "dedupe", "route", "accept", "activity", "digest")
    }
    assert all(j["next_run_at"] > report["now"] for j in report["jobs"])
    assert report["workers"][0]["state"] == "idle" and report["policy_error"] is None


def test_status_names_a_broken_policy_file(environment: Path) -> None:
    """With a policy that never loaded, status says which file and why, and exits non-zero."""
    environment.write_text("rules: [{kind: nonsense}]\n")
    shown = CliRunner().invoke(app, ["status"])
    assert shown.exit_code == 2
    assert str(environment) in shown.output and "rules.0" in shown.output
