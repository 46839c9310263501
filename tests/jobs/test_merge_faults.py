"""``warden dedupe apply`` killed, or cut off from its ledger, after each CRM call; then applied again and undone.

After the second apply the CRM equals an uninterrupted apply's and each merge is applied once.
Undoing the runs that merged then puts the CRM back exactly as it was before the first apply: the
snapshots a merge took before its first write are the ones undo restores, even when the process
died after giving the master its new values and before merging.
"""

from __future__ import annotations

import csv
import math
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from domain.plan import ActionKind, ActionStatus
from store.db import session_factory
from store.models import ActionRow, RunRow
from tests.dedupe.merge_support import seeded_crm
from tests.jobs import fault_driver
from tests.jobs.fault_driver import Effect, Fault, Outcome
from tests.jobs.fault_org import crm_state

PERCENTS = range(5, 101, 5)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite only: the rule suite (``test_apply_faults``) already settles merges on PostgreSQL too."""
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'warden.db'}"


@dataclass(frozen=True)
class Setup:
    folder: Path
    env: dict[str, str]

    def warden(self, *argv: str, fault: Fault | None = None) -> Outcome:
        return fault_driver.run(argv, self.env, self.folder / "report.json", fault)


def _setup(folder: Path, source: Path, database_url: str) -> Setup:
    for name in ("crm.db", "plan.csv"):
        if (source / name).exists() and source != folder:
            shutil.copy(source / name, folder / name)
    env = {"WARDEN_DATABASE_URL": database_url, "WARDEN_LOCAL_CRM_URL": f"sqlite:///{folder / 'crm.db'}",
           "WARDEN_CRM": "local", "COLUMNS": "200"}
    return Setup(folder, env)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded CRM and its merge plan with every cluster approved."""
    folder = tmp_path_factory.mktemp("planned")
    seeded_crm(folder / "crm.db").close()
    setup = _setup(folder, folder, f"sqlite:///{folder / 'plan.db'}")
    made = setup.warden("dedupe", "plan", "--out", str(folder / "plan.csv"))
    assert made.exit_code == 0, made.output
    with (folder / "plan.csv").open(newline="") as source:
        rows = [{**row, "approve": "yes"} for row in csv.DictReader(source)]
    with (folder / "plan.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


@dataclass(frozen=True)
class Reference:
    before: dict[str, Any]
    after: dict[str, Any]
    calls: int


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, planned: Path) -> Reference:
    folder = tmp_path_factory.mktemp("reference")
    setup = _setup(folder, planned, f"sqlite:///{folder / 'warden.db'}")
    before = crm_state(folder / "crm.db")
    applied = setup.warden(*_apply(folder))
    assert applied.exit_code == 0 and "2 merged" in applied.output, applied.output
    return Reference(before, crm_state(folder / "crm.db"), applied.calls)


def _apply(folder: Path) -> tuple[str, ...]:
    return ("dedupe", "apply", str(folder / "plan.csv"), "--apply")


def _call_at(reference: Reference, percent: int) -> int:
    call = max(1, math.ceil(reference.calls * percent / 100))
    if percent > 5 and call == max(1, math.ceil(reference.calls * (percent - 5) / 100)):
        pytest.skip("the same call as the previous step")
    return call


def _merge_runs(engine: Engine) -> tuple[Counter[str], list[str]]:
    """Applied merge keys with how often, and the runs that applied merges."""
    with session_factory(engine)() as session:
        rows = session.execute(
            select(ActionRow.key, ActionRow.run_id).join(RunRow, RunRow.id == ActionRow.run_id)
            .where(ActionRow.kind == ActionKind.MERGE.value, ActionRow.status == ActionStatus.APPLIED.value)).all()
    return Counter(key for key, _ in rows), sorted({run_id for _, run_id in rows})


@pytest.mark.slow
@pytest.mark.parametrize("effect", ["kill"])
@pytest.mark.parametrize("percent", PERCENTS)
def test_a_merge_apply_cut_short_is_finished_once_and_undone_exactly(
    percent: int, effect: Effect, reference: Reference, planned: Path, tmp_path: Path, database_url: str,
    engine: Engine,
) -> None:
    """Whatever call the fault follows, re-applying merges each cluster once and undo restores every field."""
    setup = _setup(tmp_path, planned, database_url)
    cut = setup.warden(*_apply(tmp_path), fault=Fault(_call_at(reference, percent), effect))
    assert cut.exit_code != 0, cut.output
    again = setup.warden(*_apply(tmp_path))
    assert again.exit_code == 0, again.output
    assert crm_state(tmp_path / "crm.db") == reference.after
    applied, runs = _merge_runs(engine)
    assert len(applied) == 2 and set(applied.values()) == {1}, applied
    for run_id in runs:
        undone = setup.warden("dedupe", "undo", run_id, "--apply")
        assert undone.exit_code == 0, undone.output
    assert crm_state(tmp_path / "crm.db") == reference.before
