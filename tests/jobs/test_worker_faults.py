from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select

from domain.plan import ActionKind, ActionStatus
from store.db import session_factory
from store.models import ActionRow, RunRow
from tests.jobs.worker_support import copy_crm, copy_policy, seed_demo_crm

ROOT = Path(__file__).resolve().parents[2]
PAUSE = "0.15"
OWNED = ("leads", "opportunities", "accounts", "tasks")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_demo_crm(tmp_path_factory.mktemp("seeded") / "crm.db")


@pytest.fixture
def audited_crm(seeded: Path, tmp_path: Path) -> Path:
    """The demo CRM with triggers that log every owner change, so double applies show."""
    path = copy_crm(seeded, tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE owner_changes (tbl TEXT, id TEXT, new_owner TEXT)")
        for table in OWNED:
            db.execute(
                f"CREATE TRIGGER audit_{table} AFTER UPDATE OF owner_id ON {table} "
                "WHEN OLD.owner_id IS NOT NEW.owner_id BEGIN "
                f"INSERT INTO owner_changes VALUES ('{table}', NEW.id, NEW.owner_id); END"
            )
    return path


def sla_only_policy(folder: Path) -> Path:
    """The packaged policy with only its SLA rules: one job, so the restart stays quick."""
    path = copy_policy(folder)
    policy = yaml.safe_load(path.read_text())
    policy["rules"] = [rule for rule in policy["rules"] if rule["kind"] == "sla"]
    policy["digest"].pop("marketing", None)  # marketing's lead report needs the acceptance rule dropped here
    path.write_text(yaml.safe_dump(policy))
    return path


def start_worker(url: str, crm: Path, policy: Path, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.slow_worker", url, str(crm), str(policy), PAUSE, *flags],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )


def wait_for_apply(worker: subprocess.Popen[str]) -> None:
    assert worker.stdout is not None
    for line in worker.stdout:
        if line.startswith("write update"):
            time.sleep(float(PAUSE) * 2.5)  # a few batches in: mid-apply
            return
    pytest.fail("the worker exited before applying anything")


def assert_every_action_applied_exactly_once(engine: Engine, crm: Path) -> None:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(ActionRow.key, ActionRow.kind, ActionRow.record_id, ActionRow.payload, ActionRow.status)
            .join(RunRow, RunRow.id == ActionRow.run_id).where(RunRow.dry_run.is_(False), ActionRow.opened.is_(None))
        ).all()
    settled = {r.key for r in rows if r.status != ActionStatus.PLANNED}
    assert {r.key for r in rows} == settled, "a planned action was never settled"
    applied = Counter(r.key for r in rows if r.status == ActionStatus.APPLIED)
    assert applied and max(applied.values()) == 1, "a key was applied twice"
    owner_sets = Counter(
        (r.record_id, r.payload["owner_id"]) for r in rows
        if r.status == ActionStatus.APPLIED and r.kind != ActionKind.CREATE_TASK and "owner_id" in r.payload
    )
    with sqlite3.connect(crm) as db:
        changes = Counter((rid, owner) for rid, owner in db.execute("SELECT id, new_owner FROM owner_changes"))
        task_keys = Counter(k for (k,) in db.execute("SELECT external_key FROM tasks WHERE external_key IS NOT NULL"))
    assert changes and all(changes[c] <= owner_sets[c] for c in changes), "an owner change the ledger does not hold"
    created = {r.key for r in rows if r.status == ActionStatus.APPLIED and r.kind == ActionKind.CREATE_TASK}
    assert set(task_keys) == created and max(task_keys.values()) == 1


@pytest.mark.slow
def test_sigterm_mid_apply_stops_cleanly_and_the_restart_finishes_the_plan(
    engine: Engine, database_url: str, audited_crm: Path, tmp_path: Path
) -> None:
    """SIGTERM during an apply: the run ends 'stopped', the process exits 0, a restart applies the rest once."""
    policy = sla_only_policy(tmp_path)
    worker = start_worker(database_url, audited_crm, policy)
    wait_for_apply(worker)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    with session_factory(engine)() as session:
        assert session.scalars(select(RunRow.status).where(RunRow.job == "sla")).all() == ["stopped"]
    restart = start_worker(database_url, audited_crm, policy, "--once")
    assert restart.wait(60) == 0
    assert_every_action_applied_exactly_once(engine, audited_crm)


@pytest.mark.slow
def test_sigkill_mid_apply_loses_nothing_and_duplicates_nothing(
    engine: Engine, database_url: str, audited_crm: Path, tmp_path: Path
) -> None:
    """SIGKILL between CRM writes and ledger entries: the restart recovers them and applies the rest once."""
    policy = sla_only_policy(tmp_path)
    worker = start_worker(database_url, audited_crm, policy)
    wait_for_apply(worker)
    worker.kill()
    worker.wait(10)
    with session_factory(engine)() as session:
        assert session.scalars(select(RunRow.status).where(RunRow.job == "sla")).all() == ["running"]
    restart = start_worker(database_url, audited_crm, policy, "--once")
    assert restart.wait(60) == 0
    with session_factory(engine)() as session:
        statuses = session.scalars(select(RunRow.status).where(RunRow.job == "sla").order_by(RunRow.started_at)).all()
    assert statuses == ["failed", "finished"]
    assert_every_action_applied_exactly_once(engine, audited_crm)
