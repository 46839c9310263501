"""Fixtures shared by the worker tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from connectors.local import LocalCRM
from connectors.records import Owner


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
