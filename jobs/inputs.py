"""What every entry point reads the same way: the store and the policy file.

A bad one stops the command with one line saying what is wrong, and exit code 2.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from config.policy_file import PolicyError, load_policy
from config.settings import Settings
from store.db import make_engine, migrate, session_factory

err = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as one red line on stderr; raise the result to end the command with ``code``."""
    err.print(f"[red]{message}[/]")
    return typer.Exit(code)


def policy_or_exit(settings: Settings, path: Path | None) -> Policy:
    """The policy file named by ``--policy`` or ``WARDEN_POLICY``; every problem in it ends the command."""
    try:
        return load_policy(path or settings.policy_path())
    except PolicyError as exc:
        raise fail(str(exc)) from None


def open_store(settings: Settings, *, migrated: bool = True) -> tuple[Engine, sessionmaker[Session]]:
    """The store named by ``WARDEN_DATABASE_URL``, brought to the latest schema unless ``migrated=False``."""
    engine = make_engine(settings.database_url)
    if migrated:
        migrate(engine)
    return engine, session_factory(engine)
