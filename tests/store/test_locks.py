from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from store.db import make_engine
from store.locks import FileLocks, PostgresLocks, locks_for


@pytest.fixture
def plain_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_the_backend_follows_the_database(plain_engine: Engine) -> None:
    """PostgreSQL gets advisory locks, a SQLite file gets file locks beside it."""
    expected = PostgresLocks if plain_engine.dialect.name == "postgresql" else FileLocks
    assert isinstance(locks_for(plain_engine), expected)


def test_a_second_holder_is_refused_until_the_first_lets_go(plain_engine: Engine) -> None:
    """Two workers asking for the same job on the same connection: only one gets it."""
    first, second = locks_for(plain_engine), locks_for(plain_engine)
    with first.hold("sla", "acme-sf") as taken:
        assert taken
        with second.hold("sla", "acme-sf") as also_taken:
            assert not also_taken
        with second.hold("sla", "acme-hubspot") as other_connection, second.hold("stale", "acme-sf") as other_job:
            assert other_connection and other_job
    with second.hold("sla", "acme-sf") as taken_after:
        assert taken_after


def test_a_killed_holder_leaves_the_job_unlocked(plain_engine: Engine) -> None:
    """A worker process killed with SIGKILL while holding a lock does not block the next one."""
    url = plain_engine.url.render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from store.locks import locks_for\nfrom store.db import make_engine\n"
            f"with locks_for(make_engine({url!r})).hold('sla', 'acme-sf') as taken:\n"
            "    print(taken, flush=True)\n    time.sleep(60)\n"
        )],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        with locks_for(plain_engine).hold("sla", "acme-sf") as taken_while_alive:
            assert not taken_while_alive
    finally:
        holder.kill()
        holder.wait()
    assert _taken_within(plain_engine, seconds=10), "the server releases a dead holder's lock once it sees it gone"


def _taken_within(engine: Engine, seconds: float) -> bool:
    """PostgreSQL frees the lock when the dead client's backend exits: a moment later on a busy machine."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with locks_for(engine).hold("sla", "acme-sf") as taken:
            if taken:
                return True
        time.sleep(0.1)
    return False


def test_an_in_memory_database_has_no_lock_backend() -> None:
    """A database no second process can see is refused with the variable to set."""
    with pytest.raises(ValueError, match="WARDEN_DATABASE_URL"):
        locks_for(make_engine("sqlite:///:memory:"))
