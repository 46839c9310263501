"""Bad command-line options and credentials: one line naming the culprit, exit 2, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from jobs.cli import app
from tests.jobs.probe_support import NOW, warden
from tests.servers.hubspot.server import HubSpotServer
from tests.servers.salesforce.server import FakeSalesforce, serve


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1900-01-01T00:00:00Z",
                                    "3000-01-01T12:00:00+01:00"])
def test_a_clock_out_of_range_is_refused(probe_env: Path, moment: str) -> None:
    """--now far outside the years a CRM can hold is named, not an OverflowError halfway through the rules."""
    line = warden("run", "all", "--now", moment).line
    assert line.startswith("--now: ") and moment in line and "between" in line


@pytest.mark.parametrize("moment", ["yesterday", "2026-11-20T15:00:00"])
def test_a_clock_that_is_not_an_aware_iso_moment_is_refused(probe_env: Path, moment: str) -> None:
    """A word or a moment without its offset is one line naming --now."""
    assert warden("run", "sla", "--now", moment).line.startswith("--now: ")


def test_preview_into_a_file_is_refused(probe_env: Path) -> None:
    """--preview names a folder; pointing it at a file says so instead of a FileExistsError."""
    taken = probe_env / "notes.txt"
    taken.write_text("mine\n")
    line = warden("digest", "--now", NOW, "--preview", str(taken)).line
    assert line.startswith("--preview: ") and str(taken) in line and "not a folder" in line
    assert taken.read_text() == "mine\n"


def test_missing_salesforce_credentials_are_one_line(probe_env: Path) -> None:
    """No credentials at all: one line listing the variables to set, exit 2."""
    line = warden("run", "sla", "--crm", "salesforce", "--now", NOW).line
    assert "SALESFORCE_CLIENT_ID" in line and "SALESFORCE_ACCESS_TOKEN" in line


@pytest.mark.parametrize("content", [b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
                                     b"\x00\xff\xfe binary \x80\x81", b""])
def test_a_garbage_private_key_file_is_named(probe_env: Path, monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    """A JWT key file that is not a PEM private key is refused with the variable's name, before any call."""
    key = probe_env / "server.key"
    key.write_bytes(content)
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", "client")
    monkeypatch.setenv("SALESFORCE_USERNAME", "integration@example.com")
    monkeypatch.setenv("SALESFORCE_PRIVATE_KEY_FILE", str(key))
    monkeypatch.setenv("SALESFORCE_LOGIN_URL", "https://127.0.0.1:9")
    line = warden("run", "sla", "--crm", "salesforce", "--now", NOW).line
    assert line.startswith("SALESFORCE_PRIVATE_KEY_FILE: ") and str(key) in line and "private key" in line


@pytest.fixture(scope="module")
def salesforce(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeSalesforce, str]]:
    with serve(ca_dir=tmp_path_factory.mktemp("ca")) as running:
        yield running


def test_refused_salesforce_login_exits_2_and_masks_the_login_url_password(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, salesforce: tuple[FakeSalesforce, str]
) -> None:
    """Wrong client credentials are bad input (exit 2, as the README says); a password in the URL is never shown."""
    fake, bundle = salesforce
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    monkeypatch.setenv("SALESFORCE_LOGIN_URL", fake.url.replace("https://", "https://admin:hunter2@"))
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", "wrong-secret")
    outcome = warden("run", "sla", "--crm", "salesforce", "--now", NOW)
    assert "refused" in outcome.line and "admin:***@localhost" in outcome.line
    assert "hunter2" not in outcome.line + outcome.stdout
    ledger = create_engine(f"sqlite:///{probe_env / 'warden.db'}")
    with ledger.connect() as connection:
        stored = json.dumps([list(map(str, row)) for row in connection.execute(text("SELECT * FROM runs"))])
    ledger.dispose()
    assert "hunter2" not in stored


def test_a_refused_hubspot_token_exits_2(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HubSpot answering 401 to a private-app token is a credential error: one line naming the variable, exit 2."""
    with HubSpotServer() as server:
        monkeypatch.setenv("HUBSPOT_API_BASE", server.url)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "not-a-token")
        line = warden("run", "sla", "--crm", "hubspot", "--now", NOW).line
    assert "HUBSPOT_ACCESS_TOKEN" in line and "not-a-token" not in line


@pytest.mark.parametrize("args", [("run", "sla"), ("digest",), ("dedupe", "plan")])
def test_an_unknown_crm_is_named_with_the_choices(probe_env: Path, args: tuple[str, ...]) -> None:
    """--crm with a CRM nobody knows: one line listing the ones that exist, from every command that takes it."""
    line = warden(*args, "--crm", "pipedrive").line
    assert "'pipedrive'" in line and "local, salesforce, hubspot" in line


@pytest.mark.parametrize(("args", "command", "culprit"), [
    (["run", "--job", "sla"], "warden run", "--job"),
    (["run"], "warden run", "'job'"),
    (["run", "all", "--now"], "warden run", "--now"),
    (["run", "nosuchjob"], "warden run", "nosuchjob"),
    (["--bogus"], "warden", "--bogus"),
    (["nosuch"], "warden", "'nosuch'"),
    (["ledger", "show", "latest", "--limit", "5"], "warden ledger show", "--limit"),
    (["report", "nosuch"], "warden report", "'nosuch'"),
    (["dedupe", "plan", "--workers", "many"], "warden dedupe plan", "--workers"),
    (["dedupe", "plan", "--workers", "0"], "warden dedupe plan", "--workers"),
    (["worker", "--interval", "5"], "warden worker", "--interval"),
])
def test_a_usage_mistake_is_one_line_naming_the_command_and_its_help(
    probe_env: Path, args: list[str], command: str, culprit: str
) -> None:
    """An unknown option or command, a missing or mistyped value: one line, not Click's usage box, exit 2."""
    line = warden(*args).line
    assert line.startswith(f"{command}: ") and culprit in line and line.endswith(f"see '{command} --help'")


def test_a_group_given_no_command_still_shows_its_commands(probe_env: Path) -> None:
    """``warden ledger`` alone is not a mistake to put on one line: its help lists the commands to choose from."""
    result = CliRunner().invoke(app, ["ledger"])
    assert result.exit_code == 2 and "show" in result.output and "Look at what runs found and did." in result.output
