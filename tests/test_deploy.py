"""The deployment files run commands that exist: Procfile, Dockerfile and compose.yaml against the CLI.

No Docker daemon is needed: the files are read as the platforms read them and each command they
start is looked up in the ``warden`` CLI, or is Celery on ``jobs.celery_app``.
"""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import AliasChoices

from config.settings import Settings
from jobs.cli import app

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
CELERY_PREFIX = ["celery", "-A", "jobs.celery_app"]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())  # type: ignore[no-any-return]


def _runs_something_real(argv: list[str]) -> None:
    """``warden COMMAND ...`` with a command the CLI has, or Celery's worker or beat on our app."""
    if argv[0] == "warden":
        assert argv[1] in COMMANDS, f"warden has no command {argv[1]!r}"
    else:
        assert argv[:3] == CELERY_PREFIX and argv[3] in ("worker", "beat"), argv
        assert importlib.util.find_spec("jobs.celery_app") is not None


def test_every_procfile_line_runs_a_real_command() -> None:
    """release, worker, celery-worker and celery-beat each start something that exists."""
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(lines) == {"release", "worker", "celery-worker", "celery-beat"}
    assert lines["release"] == "warden migrate" and lines["worker"] == "warden worker"
    for command in lines.values():
        _runs_something_real(shlex.split(command))


def test_the_image_is_slim_non_root_and_starts_warden() -> None:
    """python:3.11-slim, installed with pip, run as the unprivileged user, `warden` as entrypoint."""
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert any(line.startswith("RUN pip install .") for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["warden"]' in lines


def test_compose_runs_worker_celery_and_beat_after_migrate_on_postgres_and_redis() -> None:
    """Each service starts a real command; all wait for `warden migrate`; the store is PostgreSQL, the broker Redis."""
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "worker", "celery-worker", "celery-beat"} <= set(services)
    assert services["migrate"]["command"] == ["migrate"]
    for name in ("migrate", "worker", "celery-worker", "celery-beat"):
        service = services[name]
        argv = list(service.get("entrypoint") or ["warden"]) + list(service.get("command") or [])
        _runs_something_real(argv)
        environment = service["environment"]
        assert environment["WARDEN_DATABASE_URL"].startswith("postgresql://")
        assert environment["WARDEN_CELERY_BROKER_URL"].startswith("redis://redis:")
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_sets_only_variables_warden_reads() -> None:
    """A misspelt variable in compose.yaml would be ignored silently: every WARDEN_ one is a setting."""
    known = {str(choice) for field in Settings.model_fields.values()
             if isinstance(field.validation_alias, AliasChoices) for choice in field.validation_alias.choices}
    for service in _compose()["services"].values():
        for variable in service.get("environment", {}):
            assert not variable.startswith("WARDEN_") or variable in known, variable
