"""Fixtures shared by the worker tests."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import Engine

from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from domain.records import Owner
from store.db import make_engine, migrate
from tests.jobs.probe_support import SETTING_PREFIXES
from tests.jobs.worker_support import copy_policy, seed_small_crm


class BlockingCRM(LocalCRM):
    """A local CRM whose owner listing (the start of every sync) waits until the test lets it go."""

    entered = threading.Event()
    release = threading.Event()

    def owners(self) -> list[Owner]:
        self.entered.set()
        self.release.wait(20)
        return super().owners()


@pytest.fixture
def blocking() -> Iterator[type[BlockingCRM]]:
    """``BlockingCRM``, reset for this test and released when it ends."""
    BlockingCRM.entered.clear()
    BlockingCRM.release.clear()
    yield BlockingCRM
    BlockingCRM.release.set()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite store, for behaviour that does not depend on the database."""
    engine = make_engine(f"sqlite:///{tmp_path / 'warden.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def small_crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small seeded local CRM, copied by each test that runs a job on it."""
    return seed_small_crm(tmp_path_factory.mktemp("probe-crm") / "crm.db")


@pytest.fixture
def probe_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_crm: Path) -> Iterator[Path]:
    """A working set-up (SQLite store, small local CRM, a copy of the shipped policy) to break one input of."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(SETTING_PREFIXES) and not n.startswith("WARDEN_TEST_")]:
        monkeypatch.delenv(name)
    crm = tmp_path / "crm.db"
    crm.write_bytes(small_crm.read_bytes())
    monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{tmp_path / 'warden.db'}")
    monkeypatch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{crm}")
    monkeypatch.setenv("WARDEN_POLICY", str(copy_policy(tmp_path)))
    monkeypatch.setenv("WARDEN_CRM", "local")
    monkeypatch.setenv("COLUMNS", "100")
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield tmp_path
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    structlog.reset_defaults()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI on an empty embedded CRM and ledger in ``tmp_path``, with the shipped policy.

    A module that needs its own CRM or policy defines its own ``env``, which takes precedence.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{tmp_path / 'warden.db'}")
    monkeypatch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{tmp_path / 'crm.db'}")
    monkeypatch.setenv("WARDEN_POLICY", str(PACKAGED_POLICY))
    monkeypatch.setenv("COLUMNS", "200")
    yield tmp_path
    structlog.reset_defaults()  # the CLI configures logging for the process; leave it as other tests expect
