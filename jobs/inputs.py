"""What every entry point reads the same way: the settings, the store, the policy file, the clock.

A bad one stops the command with one line saying what is wrong (one per bad variable or policy
key), and exit code 2, before any work starts.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import typer
from alembic.util.exc import CommandError
from rich.console import Console
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from config.policy_file import PolicyError, load_policy
from config.settings import Settings, SettingsError, load_settings
from connectors.kinds import KINDS
from domain.secrets import mask_url_secrets
from store.db import check_writable, make_engine, migrate, session_factory

err = Console(stderr=True)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
"""``--now`` must fall in [EARLIEST, LATEST): the years a CRM's dates and the holiday calendars cover."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` in red on stderr, unwrapped, secrets in URLs masked; raise the result to exit with ``code``."""
    err.print(mask_url_secrets(message), style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    """The settings from the environment and ``.env``; each bad variable is one line, then exit 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc)) from None


def crm_or_exit(crm: str | None, settings: Settings) -> str:
    """``--crm``, or ``WARDEN_CRM`` when absent; a CRM kind nobody knows ends the command."""
    chosen = crm or settings.crm
    if chosen not in KINDS:
        raise fail(f"--crm: unknown CRM {chosen!r}: use one of {', '.join(KINDS)}")
    return chosen


def policy_or_exit(settings: Settings, path: Path | None) -> Policy:
    """The policy file named by ``--policy`` or ``WARDEN_POLICY``; every problem in it ends the command."""
    try:
        return load_policy(path or settings.policy_path())
    except PolicyError as exc:
        raise fail(str(exc)) from None


def open_store(settings: Settings, *, migrated: bool = True) -> tuple[Engine, sessionmaker[Session]]:
    """The store named by ``WARDEN_DATABASE_URL``, brought to the latest schema unless ``migrated=False``.

    A database that cannot be reached, does not exist, or cannot be written (a read-only or full
    disk) ends the command with one line naming it (password masked), exit 2.
    """
    try:
        engine = make_engine(settings.database_url)
        if migrated:
            migrate(engine)
            check_writable(engine)
    except (SQLAlchemyError, CommandError, OSError) as exc:
        raise fail(f"cannot open the database {settings.database_url}: {database_reason(exc)}"
                   f"{_folder_hint(settings.database_url)}") from None
    return engine, session_factory(engine)


def _folder_hint(url: str) -> str:
    """SQLite says only "unable to open database file" when it cannot create its journal beside the file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database.startswith("file:"):
        return ""
    folder = Path(parsed.database).absolute().parent
    if folder.is_dir() and not os.access(folder, os.W_OK):
        return f" (its folder {folder} cannot be written: a read-only disk?)"
    return ""


def ledger_failed(settings: Settings, exc: BaseException, during: str = "the run") -> typer.Exit:
    """A ledger write that failed once work had started (a disk that filled): exit 1, re-running finishes it."""
    return fail(f"the ledger {settings.database_url} failed during {during}: {database_reason(exc)}; "
                f"{during} stopped there: run it again to finish", 1)


def database_reason(exc: BaseException) -> str:
    """The driver's own words for a database failure, on one line (SQLAlchemy wraps them in a long text)."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).split("\n(Background on this error")[0]
    return " ".join(text.split()) or type(cause).__name__


def clock_or_exit(value: str | None) -> datetime:
    """``--now`` as an aware UTC datetime (now when absent); a bad or out-of-range moment ends the command."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--now: {value!r} is not an ISO-8601 date-time such as 2026-11-20T15:00:00Z") from None
    if moment.tzinfo is None:
        raise fail(f"--now: {value!r} has no UTC offset: add Z or +HH:MM")
    try:
        utc: datetime | None = moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved across midnight by its offset
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise fail(f"--now: {value} is out of range: give a moment between {EARLIEST:%Y-%m-%d} and "
                   f"{LATEST.year - 1}-12-31")
    return utc


def folder_or_exit(folder: Path | None, option: str) -> Path | None:
    """The folder ``option`` names, created if missing; a file or a folder that cannot be made ends the command."""
    if folder is None:
        return None
    if folder.exists() and not folder.is_dir():
        raise fail(f"{option}: {folder} is a file, not a folder: name a folder for the {option.strip('-')} files")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"{option}: cannot create the folder {folder}: {exc.strerror}") from None
    return folder
