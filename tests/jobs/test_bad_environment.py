"""Bad settings in the environment: one line naming the variable and what is wrong, exit 2, before any work."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import POSTGRES_URL
from tests.jobs.probe_support import NOW, warden


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("SMTP_PORT", "abc", "integer"),
    ("SMTP_PORT", "70000", "65535"),
    ("SMTP_SECURITY", "bogus", "'none', 'starttls' or 'ssl'"),
    ("SMTP_SENDER", "warden@example.com\nBcc: everyone@example.com", "line break"),
    ("SALESFORCE_API_SHARE", "5", "less than or equal to 1"),
    ("HUBSPOT_BURST_LIMIT", "-1", "greater than 0"),
    ("WARDEN_METRICS_PORT", "abc", "integer"),
    ("WARDEN_APPLY", "maybe", "boolean"),
    ("WARDEN_CELERY_APPLY", "maybe", "boolean"),
    ("WARDEN_CRM", "pipedrive", "local, salesforce, hubspot"),
    ("SALESFORCE_TASK_KEY_FIELD", "Id FROM Task WHERE Id != null --", "API name"),
    ("SALESFORCE_API_VERSION", "59.0/../../x", "version"),
    ("SALESFORCE_LOGIN_URL", "login.salesforce.com", "http"),
    ("HUBSPOT_API_BASE", "ftp://api.hubapi.com", "http"),
    ("HUBSPOT_PORTAL_ID", "12345\" onclick=\"x", "digits"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    """Each malformed variable stops `status` at start with its name and the reason, not a pydantic dump."""
    monkeypatch.setenv(variable, value)
    line = warden("status").line
    assert line.startswith(f"{variable}: ") and says in line


def test_every_command_checks_the_settings(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run, worker, digest, ledger and dedupe read the same settings the same way."""
    monkeypatch.setenv("SMTP_PORT", "abc")
    for args in (("run", "sla", "--now", NOW), ("worker", "--once"), ("digest", "--now", NOW),
                 ("ledger", "show", "latest"), ("dedupe", "plan", "--out", "plan.csv")):
        assert warden(*args).line.startswith("SMTP_PORT: "), args


@pytest.mark.parametrize(("url", "says"), [
    ("garbage", "not a database URL"),
    ("foo://user@host/db", "sqlite or postgresql"),
    ("mysql://user@host/db", "sqlite or postgresql"),
    ("postgresql+asyncpg://user@host/db", "driver"),
])
def test_a_malformed_database_url_is_named(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    """A database URL SQLAlchemy cannot use is refused before anything connects."""
    monkeypatch.setenv("WARDEN_DATABASE_URL", url)
    line = warden("status").line
    assert line.startswith("WARDEN_DATABASE_URL: ") and says in line


def test_database_url_password_is_masked_in_the_message(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal shows the URL without its password."""
    monkeypatch.setenv("WARDEN_DATABASE_URL", "foo://warden:hunter2@db.example.com/warden")
    line = warden("status").line
    assert "hunter2" not in line and "warden:***@db.example.com" in line


def test_database_url_is_read_from_database_url_when_warden_database_url_is_unset(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Platforms that set DATABASE_URL (Heroku, Render) need no second variable."""
    monkeypatch.delenv("WARDEN_DATABASE_URL")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{probe_env / 'platform.db'}")
    from typer.testing import CliRunner

    from jobs.cli import app

    result = CliRunner().invoke(app, ["ledger", "show", "latest"])
    assert (probe_env / "platform.db").exists(), result.output
    monkeypatch.setenv("DATABASE_URL", "garbage")
    assert warden("status").line.startswith("DATABASE_URL: ")


UNREACHABLE = "postgresql://warden:hunter2@127.0.0.1:9/warden"


@pytest.mark.parametrize("args", [("run", "sla", "--now", NOW), ("status",), ("worker", "--once"),
                                  ("digest", "--now", NOW), ("ledger", "show", "latest"), ("demo", "--now", NOW),
                                  ("dedupe", "plan"), ("dedupe", "undo", "some-run")])
def test_an_unreachable_database_is_one_line_with_the_password_masked(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    """Nothing listens on the port: every command that opens the store says so in one line, exit 2."""
    monkeypatch.setenv("WARDEN_DATABASE_URL", UNREACHABLE)
    line = warden(*args).line
    assert "cannot open the database postgresql+psycopg://warden:***@127.0.0.1:9/warden" in line
    assert "hunter2" not in line


@pytest.mark.postgres
def test_a_missing_postgres_database_is_named(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that is up but has no such database: the line names the database and says what is missing."""
    if os.environ.get("WARDEN_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("WARDEN_TEST_SKIP_POSTGRES=1")
    missing = make_url(POSTGRES_URL).set(database=f"warden_missing_{uuid.uuid4().hex[:8]}", password="s3cret")
    monkeypatch.setenv("WARDEN_DATABASE_URL", missing.render_as_string(hide_password=False))
    line = warden("run", "sla", "--now", NOW).line
    assert missing.database is not None and missing.database in line and "does not exist" in line
    assert "s3cret" not in line


@pytest.mark.postgres
def test_a_heroku_style_postgres_url_is_accepted(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`postgres://user@host/db`, as Heroku writes it, opens the store on PostgreSQL with psycopg."""
    if os.environ.get("WARDEN_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("WARDEN_TEST_SKIP_POSTGRES=1")
    name = f"warden_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(POSTGRES_URL).set(database=name)
        heroku = url.render_as_string(hide_password=False).replace(url.drivername, "postgres", 1)
        assert heroku.startswith("postgres://")
        monkeypatch.setenv("DATABASE_URL", heroku)
        monkeypatch.delenv("WARDEN_DATABASE_URL")
        from typer.testing import CliRunner

        from jobs.cli import app

        result = CliRunner().invoke(app, ["run", "sla", "--now", NOW])
        assert result.exit_code == 0, result.output
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_read_only_ledger_is_one_line(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger that cannot be written (a read-only disk) stops the command at start with exit 2."""
    ledger = probe_env / "warden.db"
    assert warden("ledger", "show", "nope", code=1).code == 1  # creates and migrates the ledger
    monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///file:{ledger}?mode=ro&uri=true")
    line = warden("run", "sla", "--now", NOW).line
    assert "cannot open the database" in line and "readonly" in line.replace("read-only", "readonly")


def test_a_full_disk_under_the_ledger_is_one_line(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills while the ledger is created stops the command with one line, exit 2."""
    from sqlalchemy import event

    from store import db

    made = db.make_engine

    def full_disk(url: str, **kwargs: object) -> object:
        engine = made(url, **kwargs)
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA max_page_count=3"))
        return engine

    monkeypatch.setattr("jobs.inputs.make_engine", full_disk)
    line = warden("run", "sla", "--now", NOW).line
    assert "cannot open the database" in line and "full" in line


def test_a_full_disk_mid_run_is_one_line_exit_1(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger write that fails during a run is a runtime failure: one line, exit 1, re-run to finish."""
    from sqlalchemy import event

    from store import db

    assert warden("ledger", "show", "nope", code=1).code == 1  # the schema fits; the run's rows will not
    made = db.make_engine

    def filling_disk(url: str, **kwargs: object) -> object:
        engine = made(url, **kwargs)

        def cap(conn: object, _: object) -> None:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]  # type: ignore[attr-defined]
            conn.execute(f"PRAGMA max_page_count={pages + 2}")  # type: ignore[attr-defined]

        event.listen(engine, "connect", cap)
        return engine

    monkeypatch.setattr("jobs.inputs.make_engine", filling_disk)
    line = warden("run", "all", "--now", NOW, code=1).line
    assert "full" in line and "ledger" in line


def test_a_local_crm_file_that_is_not_a_database_is_named(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WARDEN_LOCAL_CRM_URL pointing at some other file: one line naming the file and the variable."""
    other = probe_env / "notes.db"
    other.write_text("not sqlite\n" * 100)
    monkeypatch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{other}")
    for args in (("run", "sla", "--now", NOW), ("demo", "--now", NOW)):
        line = warden(*args).line
        assert str(other) in line and "WARDEN_LOCAL_CRM_URL" in line and "not a database" in line


def test_a_ledger_file_that_is_not_a_database_is_named(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WARDEN_DATABASE_URL pointing at a text file: one line, exit 2."""
    other = probe_env / "ledger.txt"
    other.write_text("not sqlite\n" * 100)
    monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{other}")
    assert "not a database" in warden("status").line


def test_celery_refuses_bad_settings_in_one_line(probe_env: Path) -> None:
    """`celery -A jobs.celery_app` reads the same settings at import: one line per bad variable, exit 2."""
    env = {**os.environ, "SMTP_PORT": "abc", "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run([sys.executable, "-c", "import jobs.celery_app"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "SMTP_PORT: Input should be a valid integer, unable to parse string as an integer (got 'abc')"]


def test_a_celery_worker_without_its_store_stops_in_one_line(probe_env: Path) -> None:
    """`celery -A jobs.celery_app worker` whose database is unreachable exits 2 with the line, password masked."""
    celery = Path(sys.executable).with_name("celery")
    env = {**os.environ, "WARDEN_DATABASE_URL": UNREACHABLE, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run([str(celery), "-A", "jobs.celery_app", "worker", "--pool", "solo", "-Q", "probe-no-store"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot open the database postgresql+psycopg://warden:***@127.0.0.1:9/warden" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


@pytest.mark.parametrize(("variables", "says"), [
    ({"ACME_SF_API_SHARE": "5"}, "ACME_SF_API_SHARE: Input should be less than or equal to 1"),
    ({"ACME_SF_LOGIN_URL": "login.acme.example"}, "ACME_SF_LOGIN_URL: should be an http(s) URL"),
])
def test_a_connections_own_variables_are_checked_when_the_worker_starts(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], says: str
) -> None:
    """A policy connection reading ACME_SF_* stops the worker at start, naming the prefixed variable."""
    policy = probe_env / "policy.yaml"
    policy.write_text(policy.read_text() + "\nconnections:\n  - {name: acme, crm: salesforce, env_prefix: ACME_SF_}\n")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    line = warden("worker", "--once").line
    assert "connection 'acme'" in line and says in line
