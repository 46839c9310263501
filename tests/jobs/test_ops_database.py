"""Deploying on a platform: database URLs as platforms write them, the release step, and going live by setting."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select, text
from typer.testing import CliRunner

from jobs.cli import app
from store.db import make_engine, session_factory
from store.models import RunRow
from tests.conftest import POSTGRES_URL
from tests.jobs.probe_support import NOW, warden

COMMANDS = [("run", "sla", "--now", NOW), ("status",), ("worker", "--once"), ("migrate",)]
MISSING_DATABASE = f"warden_missing_{uuid.uuid4().hex[:8]}"


def _postgres(database: str, scheme: str = "postgres") -> str:
    """The local PostgreSQL's URL as a platform writes it (``postgres://``), with a password to mask."""
    url = make_url(POSTGRES_URL).set(drivername=scheme, database=database, password="hunter2")
    return url.render_as_string(hide_password=False)


BAD_URLS = [
    pytest.param("postgresql://warden:hunter2@127.0.0.1:9/warden", "127.0.0.1:9/warden", id="unreachable"),
    pytest.param(_postgres(MISSING_DATABASE), f'database "{MISSING_DATABASE}" does not exist', id="missing",
                 marks=pytest.mark.postgres),
    pytest.param("mysql://warden:hunter2@db.example.com/warden", "use sqlite or postgresql", id="scheme"),
    pytest.param("postgres://warden:hunter2@db.example.com:port/warden", "not a database URL", id="malformed"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
@pytest.mark.parametrize(("url", "says"), BAD_URLS)
@pytest.mark.parametrize("variable", ["WARDEN_DATABASE_URL", "DATABASE_URL"])
def test_a_bad_database_url_is_one_line_naming_it_exit_2(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, url: str, says: str, args: tuple[str, ...]
) -> None:
    """Unreachable, missing, unsupported or malformed: one line naming the URL, password masked, exit 2."""
    if "does not exist" in says and os.environ.get("WARDEN_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("WARDEN_TEST_SKIP_POSTGRES=1")
    monkeypatch.delenv("WARDEN_DATABASE_URL")
    monkeypatch.setenv(variable, url)
    line = warden(*args).line
    assert says in line and "hunter2" not in line
    assert line.startswith(f"{variable}: ") or "cannot open the database" in line


@pytest.mark.postgres
def test_a_platform_postgres_url_in_database_url_runs_every_command(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Heroku's ``DATABASE_URL=postgres://...``: migrate, run, worker and status all use it, nothing else set."""
    if os.environ.get("WARDEN_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("WARDEN_TEST_SKIP_POSTGRES=1")
    name = f"warden_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        monkeypatch.delenv("WARDEN_DATABASE_URL")
        monkeypatch.setenv("DATABASE_URL", _postgres(name).replace(":hunter2", ""))
        runner = CliRunner()
        for args in (["migrate"], ["run", "sla", "--now", NOW], ["worker", "--once"], ["status"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
        engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(RunRow)) > 1
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrate_is_the_release_step_and_runs_again_harmlessly(probe_env: Path) -> None:
    """`warden migrate` creates the schema once, says where it is, and a second run changes nothing."""
    runner = CliRunner()
    first = runner.invoke(app, ["migrate"])
    again = runner.invoke(app, ["migrate"])
    assert first.exit_code == again.exit_code == 0, first.output + again.output
    assert "migrated from an empty database to" in first.stdout and "already at" in again.stdout
    assert first.stdout.split()[-1] == again.stdout.split()[-1]
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text().splitlines()
    assert "release: warden migrate" in procfile and "worker: warden worker" in procfile


def _applied_runs(database: Path) -> list[bool]:
    engine = make_engine(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        dry = list(session.scalars(select(RunRow.dry_run)))
    engine.dispose()
    return dry


@pytest.mark.parametrize(("value", "dry_run"), [("true", False), ("false", True), (None, True)])
def test_warden_apply_makes_the_procfile_worker_apply(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, value: str | None, dry_run: bool
) -> None:
    """`warden worker` as the Procfile runs it changes the CRM with WARDEN_APPLY=true, and only then."""
    if value is not None:
        monkeypatch.setenv("WARDEN_APPLY", value)
    result = CliRunner().invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    runs = _applied_runs(probe_env / "warden.db")
    assert runs and set(runs) == {dry_run}
