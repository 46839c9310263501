"""The fault suite: an apply of every rule family killed or cut off from its ledger at each step, then run again.

Each case runs ``warden run all --apply`` in a child process (``tests.jobs.fault_driver``) that
SIGKILLs itself, or whose ledger stops accepting writes, right after its Nth CRM call; the calls
are those of an uninterrupted apply of the same plan, taken at every 5%. After the re-run the CRM
must be exactly the CRM of an uninterrupted apply (and its re-run), every key applied once, no
run left running and no action left planned.
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
            RunRow.dry_run.is_(False), ActionRow.status == ActionStatus.APPLIED.value)
        return Counter(session.scalars(stmt))


def assert_like_an_uninterrupted_apply(engine: Engine, setup: Setup, reference: Reference) -> None:
    """The CRM equals the reference's, each key is applied once, nothing is left running or planned."""
    applied = applied_keys(engine)
    doubled = sorted(key for key, count in applied.items() if count > 1)
    assert not doubled, f"applied more than once: {doubled}"
    assert set(applied) == reference.applied, (
        f"missing: {sorted(reference.applied - set(applied))}, extra: {sorted(set(applied) - reference.applied)}")
    with session_factory(engine)() as session:
        running = session.scalars(select(RunRow.id).where(RunRow.status == "running")).all()
        planned = session.scalars(
            select(ActionRow.key).join(RunRow, RunRow.id == ActionRow.run_id)
            .where(RunRow.dry_run.is_(False), ActionRow.status == ActionStatus.PLANNED.value)).all()
    assert not running, f"runs left running: {running}"
    assert not planned, f"actions left planned: {planned}"
    state = crm_state(setup.crm)
    for table, rows in reference.crm.items():
        assert state[table] == rows, f"the CRM's {table} differ from an uninterrupted apply's"


@pytest.mark.slow
@pytest.mark.parametrize("percent", PERCENTS)
def test_killed_at_any_point_of_the_apply_then_run_again(
    percent: int, reference: Reference, setup: Setup, engine: Engine
) -> None:
    """SIGKILL right after a CRM call, before the ledger records it; the next run settles it from the CRM."""
    killed = setup.warden(*RUN_ALL, fault=Fault(reference.step_at(percent), "kill"))
    assert killed.exit_code == -9, killed.output
    again = setup.warden(*RUN_ALL)
    assert again.exit_code == 0, again.output
    assert_like_an_uninterrupted_apply(engine, setup, reference)


@pytest.mark.slow
@pytest.mark.parametrize("percent", PERCENTS)
def test_ledger_full_after_a_crm_call_then_run_again(
    percent: int, reference: Reference, setup: Setup, engine: Engine
) -> None:
    """The ledger refuses every write after a CRM call: the run stops there, and the next one settles it."""
    failed = setup.warden(*RUN_ALL, fault=Fault(reference.step_at(percent), "ledger_full"))
    assert failed.exit_code != 0, failed.output
    assert failed.calls == failed.calls_at_first_ledger_failure, "a CRM call went out after a ledger write failed"
    again = setup.warden(*RUN_ALL)
    assert again.exit_code == 0, again.output
    assert_like_an_uninterrupted_apply(engine, setup, reference)


@pytest.mark.parametrize("percent", (50, 100))
def test_a_ledger_hiccup_after_a_crm_call_is_retried_in_the_same_run(
    percent: int, reference: Reference, setup: Setup, engine: Engine
) -> None:
    """A write the ledger refuses twice, then accepts, is retried before anything else: the run finishes alone."""
    hiccup = setup.warden(*RUN_ALL, fault=Fault(reference.call_at(percent), "ledger_hiccup"))
    assert hiccup.exit_code == 0, hiccup.output
    assert setup.warden(*RUN_ALL).exit_code == 0
    assert_like_an_uninterrupted_apply(engine, setup, reference)
