"""Progress of long runs: Rich bars on a terminal, a log line every five seconds elsewhere, never on stdout."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from structlog.testing import capture_logs
from typer.testing import CliRunner

from config.policy import Policy
from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from dedupe.plan import build_plan
from dedupe.survivor import AccountFacts
from demo.scaled import seed_scaled
from domain.records import Account, ObjectType
from jobs.cli import app
from jobs.pipeline import run_job
from jobs.progress import BarProgress, LogProgress, progress_on
from store.db import make_engine, migrate, session_factory

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SYNCED = (ObjectType.OWNER, ObjectType.ACCOUNT, ObjectType.OPPORTUNITY, ObjectType.TASK)


def ticking(step: float) -> Callable[[], float]:
    """A clock that moves ``step`` seconds each time it is read."""
    ticks = itertools.count(0.0, step)
    return lambda: next(ticks)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local CRM of some two thousand records."""
    path = tmp_path_factory.mktemp("progress-crm") / "crm.db"
    crm = LocalCRM(path, clock=lambda: NOW)
    seed_scaled(crm, accounts=300, opportunities=750, tasks=750, now=NOW)
    crm.close()
    return path


@pytest.fixture
def org(seeded: Path, tmp_path: Path) -> Iterator[tuple[LocalCRM, Any]]:
    """A copy of the seeded CRM (250 records a page) and a fresh SQLite store."""
    (tmp_path / "crm.db").write_bytes(seeded.read_bytes())
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW, page_size=250)
    engine = make_engine(f"sqlite:///{tmp_path / 'warden.db'}")
    migrate(engine)
    yield crm, session_factory(engine)
    crm.close()
    engine.dispose()


def test_log_lines_come_every_five_seconds_of_advancing_work_and_once_at_the_end() -> None:
    """Updates one second apart log at 5 s and 10 s, then once more when the phase ends, with the counts."""
    clock = ticking(1.0)
    progress = LogProgress(clock=clock)
    with capture_logs() as logs, progress.phase("sync account") as phase:
        for done in range(1, 12):
            phase.update(done * 100, pages=done)
    assert [(e["event"], e["records"], e["pages"]) for e in logs] == [
        ("progress", 400, 4), ("progress", 900, 9), ("progress.done", 1100, 11)]
    assert logs[-1]["phase"] == "sync account" and logs[-1]["seconds"] == 12.0


def test_a_phase_an_error_ends_logs_no_done_line() -> None:
    """A sync the CRM broke off is not reported as done (the error is logged where it is handled)."""
    with capture_logs() as logs, pytest.raises(RuntimeError), LogProgress().phase("sync task") as phase:
        phase.update(10)
        raise RuntimeError("connection reset")
    assert [e for e in logs if e["event"] == "progress.done"] == []


def test_a_run_off_a_terminal_logs_each_phase_with_its_counts(org: tuple[LocalCRM, Any]) -> None:
    """Sync (records and pages per object), rules (n of total) and apply (actions) each log their progress."""
    crm, sessions = org
    policy = load_policy(PACKAGED_POLICY)
    before = {obj: crm.count(obj) for obj in SYNCED}
    with capture_logs() as logs:
        result = run_job("all", connector=crm, connection="local", policy=policy, sessions=sessions, now=NOW,
                         apply=True, allow_large=True, progress=LogProgress(clock=ticking(2.0)))
    done = {e["phase"]: e for e in logs if e["event"] == "progress.done"}
    for obj in SYNCED:
        assert done[f"sync {obj.value}"]["records"] == before[obj]
    assert done["sync opportunity"]["pages"] == 3  # 750 records, 250 to a page
    assert done["rules"]["rules"] == done["rules"]["total"] == len([r for r in policy.rules if r.enabled])
    assert done["rules"]["findings"] == len(result.findings)
    assert done["apply"]["actions"] == done["apply"]["total"] == len(result.actions) > 0
    assert done["apply"]["applied"] == result.summary()["actions_by_status"]["applied"]
    periodic = [e for e in logs if e["event"] == "progress"]
    assert periodic and all({"phase", "seconds"} <= set(e) for e in periodic)


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120), out


def test_a_run_on_a_terminal_draws_a_bar_per_phase(org: tuple[LocalCRM, Any]) -> None:
    """On a terminal each object's sync, the rules and the apply are drawn as bars with their counts."""
    crm, sessions = org
    console, out = terminal()
    run_job("all", connector=crm, connection="local", policy=load_policy(PACKAGED_POLICY), sessions=sessions,
            now=NOW, apply=True, progress=BarProgress(console))
    drawn = out.getvalue()
    assert "━" in drawn
    for phase in ("sync account", "sync opportunity", "rules", "apply"):
        assert phase in drawn
    assert f"{crm.count(ObjectType.OPPORTUNITY):,} records · 3 pages" in drawn


def test_a_dedupe_plan_on_a_terminal_draws_matching_and_proposing() -> None:
    """`warden dedupe plan` shows its matching steps and the clusters it proposes as bars."""
    accounts = [Account(f"a{i}", f"Acme {i % 40} Holdings", None, NOW, NOW) for i in range(400)]
    console, out = terminal()
    plan = build_plan([AccountFacts(a) for a in accounts], Policy(), progress=BarProgress(console))
    drawn = out.getvalue()
    assert "match accounts" in drawn and "4 of 4 steps" in drawn and "400 accounts" in drawn
    assert f"{len(plan.clusters)} of {len(plan.clusters)} clusters" in drawn


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_are_for_terminals_and_log_lines_for_everything_else() -> None:
    """A worker under systemd, Celery or a pipe gets log lines; a person at a terminal gets bars."""
    assert isinstance(progress_on(Tty()), BarProgress)
    assert isinstance(progress_on(io.StringIO()), LogProgress)


def test_run_json_keeps_stdout_one_document_and_progress_on_stderr(probe_env: Path) -> None:
    """`warden run all --json` in a pipe: stdout parses as JSON; each phase's end is a JSON log line on stderr."""
    result = CliRunner().invoke(app, ["run", "all", "--json", "--now", "2026-11-20T15:00:00Z"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["job"] == "all"
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    phases = {e["phase"]: e for e in lines if e["event"] == "progress.done"}
    assert {"sync account", "sync opportunity", "sync task", "rules"} <= set(phases)
    assert phases["sync account"]["records"] > 0 and phases["sync account"]["pages"] >= 1


def test_dedupe_plan_in_a_pipe_logs_its_steps_on_stderr(env: Path) -> None:
    """`warden dedupe plan --from-csv` off a terminal: the plan on stdout, its matching and proposing on stderr."""
    rows = "".join(f"001A{i:011d},Acme {i % 10} Holdings\n" for i in range(60))
    (env / "accounts.csv").write_text("Account ID,Account Name\n" + rows)
    result = CliRunner().invoke(app, ["dedupe", "plan", "--from-csv", "accounts.csv"])
    assert result.exit_code == 0, result.stderr
    assert "60 accounts" in result.stdout and "progress" not in result.stdout
    done = {e["phase"]: e for e in map(json.loads, result.stderr.splitlines()) if e["event"] == "progress.done"}
    assert done["match accounts"]["accounts"] == 60 and done["match accounts"]["steps"] == 4
    assert done["propose clusters"]["clusters"] == done["propose clusters"]["total"] == 10
