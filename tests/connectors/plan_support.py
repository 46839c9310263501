"""What the "same plan as the embedded CRM" tests share: a store per CRM, a dry run, a comparable plan."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from domain.connector import Connector
from jobs.pipeline import RunResult, run_job
from store.db import make_engine, migrate, session_factory

NOW = datetime(2026, 10, 30, 16, 0, tzinfo=UTC)


def store(path: Path) -> Engine:
    """A ledger and mirror of its own per CRM, on SQLite, whose row order is the order of insertion."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


def plan(connector: Connector, connection: str, engine: Engine) -> RunResult:
    return run_job("all", connector=connector, connection=connection, policy=load_policy(PACKAGED_POLICY),
                   sessions=session_factory(engine), now=NOW, apply=False)


def comparable(result: RunResult) -> list[tuple[Any, ...]]:
    """The plan without what names the connection: rule, kind, record, fields, reason."""
    rows = []
    for outcome in result.actions:
        action = {k: v for k, v in asdict(outcome.action).items() if k not in ("key", "requires")}
        rows.append(tuple(sorted((k, repr(v)) for k, v in action.items())))
    return sorted(rows)
