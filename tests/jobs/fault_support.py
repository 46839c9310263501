"""What the fault tests share: the org's set-up per test, an uninterrupted apply to compare with, the checks.

Import the fixtures (``seeded``, ``reference``, ``setup``) into a test module to use them.
"""

from __future__ import annotations

import math
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from domain.plan import ActionStatus
from store.db import make_engine, migrate, session_factory
from store.models import ActionRow, RunRow
from tests.jobs import fault_driver
from tests.jobs.fault_driver import Fault, Outcome
from tests.jobs.fault_org import NOW, POLICY, crm_state, seed

RUN_ALL = ("run", "all", "--apply", "--now", NOW.isoformat())
PERCENTS = range(5, 101, 5)


@dataclass(frozen=True)
class Reference:
    """What an uninterrupted apply and its re-run leave: the CRM, the keys applied, the CRM calls of the apply."""

    crm: dict[str, Any]
    applied: frozenset[str]
    calls: int

    def call_at(self, percent: int) -> int:
        """The CRM call at ``percent`` of the apply (the first call at least)."""
        return max(1, math.ceil(self.calls * percent / 100))

    def step_at(self, percent: int) -> int:
        """:meth:`call_at`, skipping the test when the previous 5% step already landed on that call."""
        call = self.call_at(percent)
        if percent > 5 and call == self.call_at(percent - 5):
            pytest.skip("the same call as the previous step")
        return call


@dataclass(frozen=True)
class Setup:
    folder: Path
    env: dict[str, str]

    def warden(self, *argv: str, fault: Fault | None = None) -> Outcome:
        return fault_driver.run(argv, self.env, self.folder / "report.json", fault)

    @property
    def crm(self) -> Path:
        return self.folder / "crm.db"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed(tmp_path_factory.mktemp("seeded") / "crm.db")


def _setup(folder: Path, seeded: Path, database_url: str) -> Setup:
    shutil.copy(seeded, folder / "crm.db")
    policy = folder / "policy.yaml"
    policy.write_text(POLICY)
    env = {"WARDEN_DATABASE_URL": database_url, "WARDEN_LOCAL_CRM_URL": f"sqlite:///{folder / 'crm.db'}",
           "WARDEN_POLICY": str(policy), "WARDEN_CRM": "local", "COLUMNS": "200"}
    return Setup(folder, env)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, seeded: Path) -> Reference:
    folder = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{folder / 'warden.db'}"
    setup = _setup(folder, seeded, url)
    first = setup.warden(*RUN_ALL)
    assert first.exit_code == 0, first.output
    assert setup.warden(*RUN_ALL).exit_code == 0
    engine = make_engine(url)
    migrate(engine)
    applied = frozenset(key for key, count in applied_keys(engine).items() if count)
    engine.dispose()
    return Reference(crm_state(setup.crm), applied, first.calls)


@pytest.fixture
def setup(tmp_path: Path, seeded: Path, database_url: str, engine: Engine) -> Setup:
    return _setup(tmp_path, seeded, database_url)


def applied_keys(engine: Engine) -> Counter[str]:
    with session_factory(engine)() as session:
        stmt = select(ActionRow.key).join(RunRow, RunRow.id == ActionRow.run_id).where(
            RunRow.dry_run.is_(False), ActionRow.opened.is_(None), ActionRow.status == ActionStatus.APPLIED.value)
        return Counter(session.scalars(stmt))


def assert_settled(engine: Engine) -> Counter[str]:
    """No key applied twice, no run left running, no action left planned; returns the applied keys."""
    applied = applied_keys(engine)
    doubled = sorted(key for key, count in applied.items() if count > 1)
    assert not doubled, f"applied more than once: {doubled}"
    with session_factory(engine)() as session:
        running = session.scalars(select(RunRow.id).where(RunRow.status == "running")).all()
        planned = session.scalars(
            select(ActionRow.key).join(RunRow, RunRow.id == ActionRow.run_id)
            .where(RunRow.dry_run.is_(False), ActionRow.opened.is_(None),  # the runs' own: the shared plan is never
                   ActionRow.status == ActionStatus.PLANNED.value)).all()  # applied nor settled
    assert not running, f"runs left running: {running}"
    assert not planned, f"actions left planned: {planned}"
    return applied


def assert_like_an_uninterrupted_apply(engine: Engine, setup: Setup, reference: Reference) -> None:
    """The CRM equals the reference's, each key is applied once, nothing is left running or planned."""
    applied = assert_settled(engine)
    assert set(applied) == reference.applied, (
        f"missing: {sorted(reference.applied - set(applied))}, extra: {sorted(set(applied) - reference.applied)}")
    state = crm_state(setup.crm)
    for table, rows in reference.crm.items():
        assert state[table] == rows, f"the CRM's {table} differ from an uninterrupted apply's"
