"""A password written into SALESFORCE_LOGIN_URL reaches no terminal line, log event or ledger row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from jobs.cli import app
from tests.jobs.probe_support import NOW


def test_an_unreachable_login_url_is_logged_and_recorded_with_its_password_masked(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retries' log events, the final line and the failed run in the ledger all show admin:***@."""
    monkeypatch.setenv("SALESFORCE_LOGIN_URL", "http://admin:hunter2@127.0.0.1:9")
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", "client")
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", "secret")
    result = CliRunner().invoke(app, ["run", "sla", "--crm", "salesforce", "--now", NOW])
    assert result.exit_code == 1 and "admin:***@127.0.0.1:9" in result.stderr, result.output
    assert '"event"' in result.stderr and "hunter2" not in result.output
    ledger = create_engine(f"sqlite:///{probe_env / 'warden.db'}")
    with ledger.connect() as connection:
        stored = [str(row) for table in ("runs", "actions")
                  for row in connection.execute(text(f"SELECT * FROM {table}"))]
    ledger.dispose()
    assert stored and not [row for row in stored if "hunter2" in row]
