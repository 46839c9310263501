"""One job at a time per CRM connection, across processes and machines.

Two backends behind one interface: on PostgreSQL a session-level advisory lock
(``pg_try_advisory_lock``) on a 64-bit hash of job and connection, held on a dedicated connection;
on SQLite (one machine by definition) an exclusive ``flock`` on a file beside the database. Both are
released by the operating system or the server when their holder dies, so a killed worker never
leaves a job locked.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, text


class LockError(RuntimeError):
    """A lock file that cannot be created (a full or read-only disk, a folder without write access)."""


class JobLocks(Protocol):
    def hold(self, job: str, connection: str) -> AbstractContextManager[bool]:
        """Try to take the lock without waiting; yield whether it was taken, release on exit."""
        ...


def lock_key(job: str, connection: str) -> int:
    """A signed 64-bit key for ``pg_try_advisory_lock``, stable across processes and machines."""
    digest = hashlib.blake2b(f"crm-warden\0{job}\0{connection}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresLocks:
    """Advisory locks on the store's PostgreSQL server; each hold uses its own connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def hold(self, job: str, connection: str) -> Iterator[bool]:
        key = lock_key(job, connection)
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            taken = bool(db.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
            try:
                yield taken
            finally:
                if taken:
                    db.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


class FileLocks:
    """``flock`` on one file per job and connection in a folder beside the SQLite database."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @contextmanager
    def hold(self, job: str, connection: str) -> Iterator[bool]:
        """Raises ``LockError`` when the lock file cannot be created."""
        path = self._folder / f"{lock_key(job, connection) & 0xFFFFFFFFFFFFFFFF:016x}.lock"
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LockError(f"cannot create the job lock {path}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            _note_holder(fd, f"{job} {connection} pid {os.getpid()}\n")
            yield True
        finally:
            os.close(fd)


def _note_holder(fd: int, note: str) -> None:
    """Write who holds the lock, for a person looking; the ``flock`` is the lock, so a full disk is no matter."""
    with suppress(OSError):
        os.ftruncate(fd, 0)
        os.write(fd, note.encode())


def locks_for(engine: Engine) -> JobLocks:
    """Advisory locks on PostgreSQL; file locks beside the database file on SQLite."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresLocks(engine)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLocks(Path(url.database).with_suffix(".locks"))
    raise ValueError(
        f"no job lock for database {url.render_as_string(hide_password=True)!r}: "
        "set WARDEN_DATABASE_URL to a SQLite file or a PostgreSQL URL"
    )
