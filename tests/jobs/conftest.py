"""Fixtures shared by the worker tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from connectors.local import LocalCRM
from domain.records import Owner
from store.db import make_engine, migrate


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
