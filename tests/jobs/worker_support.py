"""Helpers for the worker tests: a fake clock, a seeded demo CRM, and a worker wired to both."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from config.policy import FieldMaps
from config.policy_connections import ConnectionPolicy
from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from demo.org import seed_demo
from demo.scaled import seed_scaled
from domain.connector import Connector
from jobs.job_runner import JobRunner
from jobs.policy_keeper import PolicyKeeper
from jobs.shutdown import ShutdownFlag
from jobs.worker import Worker
from store.db import session_factory
from store.heartbeats import Heartbeat
from store.locks import locks_for

SEEDED_AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
"""A Friday, 10:00 in New York (the packaged policy's zone)."""


@dataclass
class FakeClock:
    now: datetime = SEEDED_AT

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def seed_demo_crm(path: Path) -> Path:
    """The full demo org: hundreds of violations, for tests that need a long apply."""
    crm = LocalCRM(path, clock=lambda: SEEDED_AT)
    seed_demo(crm, SEEDED_AT)
    crm.close()
    return path


def seed_small_crm(path: Path) -> Path:
    """A few dozen records with the demo owners: enough for every job to find something, fast."""
    crm = LocalCRM(path, clock=lambda: SEEDED_AT)
    seed_scaled(crm, accounts=10, opportunities=20, tasks=20, now=SEEDED_AT)
    crm.close()
    return path


def copy_crm(seeded: Path, folder: Path) -> Path:
    target = folder / "crm.db"
    shutil.copy(seeded, target)
    return target


def copy_policy(folder: Path) -> Path:
    target = folder / "policy.yaml"
    shutil.copy(PACKAGED_POLICY, target)
    return target


def local_connector(path: Path, clock: Callable[[], datetime]) -> Callable[[ConnectionPolicy, FieldMaps], Connector]:
    return lambda _connection, _fields: LocalCRM(path, clock=clock)


def make_worker(
    engine: Engine,
    policy: Path,
    connector_for: Callable[[ConnectionPolicy, FieldMaps], Connector],
    clock: FakeClock,
    *,
    apply: bool = False,
    shutdown: ShutdownFlag | None = None,
) -> Worker:
    sessions = session_factory(engine)
    runner = JobRunner(sessions, locks_for(engine), connector_for, apply, shutdown or ShutdownFlag())
    return Worker(PolicyKeeper(policy, "local"), runner, Heartbeat(sessions, clock), clock)
