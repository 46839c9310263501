"""A ledger whose disk fills or turns read-only: every command says so in one line, never a traceback.

At start (nothing written yet) it is bad input, exit 2; during a run or a merge it is a runtime
failure, exit 1, and running the command again finishes the work.
"""

from __future__ import annotations

import csv
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from jobs.cli import app
from store import db
from tests.dedupe.merge_support import seeded_crm
from tests.jobs.probe_support import NOW, warden


def filling_disk(monkeypatch: pytest.MonkeyPatch, spare_pages: int = 2) -> None:
    """Each new connection to the ledger may grow it by ``spare_pages`` pages only: a disk about to be full."""
    made = db.make_engine

    def capped(url: str, **kwargs: Any) -> Any:
        engine = made(url, **kwargs)

        def cap(conn: Any, _: object) -> None:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count={pages + spare_pages}")

        event.listen(engine, "connect", cap)
        return engine

    monkeypatch.setattr("jobs.inputs.make_engine", capped)


def succeeds(*args: str) -> str:
    """Run ``warden ARGS``; assert it exited 0; its output."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def no_space(*_: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_lock_note_that_does_not_fit_does_not_stop_the_run(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pid written into a job's lock file is a courtesy: a full disk there still runs the job."""
    monkeypatch.setattr("store.locks.os.write", no_space)
    succeeds("run", "sla", "--now", NOW)


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_lock_file_that_cannot_be_made_is_one_line(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, failure: int
) -> None:
    """No room (or no right) to create the job's lock file beside the ledger: one line naming it, exit 2."""
    def refuse(*_: object) -> None:
        raise OSError(failure, os.strerror(failure))

    warden("ledger", "show", "nope", code=1)  # the ledger exists; only its lock folder is refused
    monkeypatch.setattr("store.locks.os.open", refuse)
    line = warden("run", "sla", "--now", NOW).line
    assert "warden.locks" in line and os.strerror(failure) in line
    worker = CliRunner().invoke(app, ["worker", "--once"])
    assert worker.exit_code == 0 and "Traceback" not in worker.output, worker.output
    assert '"event": "job.failed"' in worker.output and os.strerror(failure) in worker.output


def approved_plan(env: Path) -> Path:
    """A plan of the merge test org's duplicates, every cluster approved."""
    (env / "crm.db").unlink()
    seeded_crm(env / "crm.db").close()
    plan = env / "plan.csv"
    succeeds("dedupe", "plan", "--out", str(plan), "--workers", "1")
    with plan.open(newline="") as source:
        rows = list(csv.DictReader(source))
    assert rows, "the small CRM has no duplicate accounts to merge"
    with plan.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "approve": "yes"} for row in rows)
    return plan


def test_a_full_disk_during_a_merge_is_one_line_exit_1(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`dedupe apply --apply` whose ledger fills mid-way stops with one line; the next apply finishes."""
    plan = approved_plan(probe_env)
    filling_disk(monkeypatch, spare_pages=0)
    line = warden("dedupe", "apply", str(plan), "--apply", code=1).line
    assert "full" in line and "ledger" in line and "again" in line


def test_a_full_disk_during_digests_is_one_line_exit_1(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest command records what it sent: a ledger that fills stops it with one line."""
    succeeds("run", "all", "--now", NOW)

    def full(*_: object) -> None:  # whether a page cap is met depends on how much room the last pages have left
        raise OperationalError("INSERT INTO actions", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr("store.ledger.append_rows", full)  # the digest records each letter before it is sent
    line = warden("digest", "--now", NOW, "--send", code=1).line
    assert "full" in line and "ledger" in line


def test_a_worker_whose_ledger_fills_logs_the_failure_and_exits_cleanly(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`worker --once` on a ledger that fills: each job is logged as failed, no traceback on the terminal."""
    warden("ledger", "show", "nope", code=1)  # the schema fits; the runs will not
    filling_disk(monkeypatch, spare_pages=3)
    result = CliRunner().invoke(app, ["worker", "--once", "--apply"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in "".join(line for line in result.output.splitlines() if not line.startswith("{"))
    assert '"event": "job.failed"' in result.output and "full" in result.output


@contextmanager
def small_disk(folder: Path, size: str, *, holding: Path, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``folder`` holding a copy of ``holding`` (skips where mounting is not allowed)."""
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                           capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root")
    try:
        (folder / holding.name).write_bytes(holding.read_bytes())
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder / holding.name
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("args", [("run", "sla", "--now", NOW), ("status",), ("digest", "--now", NOW)])
def test_a_ledger_on_a_read_only_disk_names_the_folder(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    """SQLite says only "unable to open database file": the line adds that the ledger's folder is read-only."""
    succeeds("run", "sla", "--now", NOW)
    with small_disk(probe_env / "disk", "20m", holding=probe_env / "warden.db", read_only=True) as ledger:
        monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{ledger}")
        line = warden(*args).line
    assert "cannot open the database" in line and f"its folder {ledger.parent} cannot be written" in line


@pytest.mark.parametrize("command", ["run", "dedupe"])
def test_a_ledger_on_a_disk_that_fills_is_one_line(probe_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                   command: str) -> None:
    """On a real disk with 48 KB to spare, `run all --apply` and `dedupe apply --apply` end in one line, no traceback.

    Whether the disk fills while the command opens the ledger (exit 2) or during its work (exit 1)
    depends on how much the write-ahead log grows first.
    """
    plan = approved_plan(probe_env)
    succeeds("run", "all", "--now", NOW)
    args = ("run", "all", "--now", NOW, "--apply") if command == "run" else ("dedupe", "apply", str(plan), "--apply")
    ledger = probe_env / "warden.db"
    with small_disk(probe_env / "disk", str(ledger.stat().st_size + 48 * 1024), holding=ledger) as full:
        monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{full}")
        result = CliRunner().invoke(app, list(args))
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("{")]
    assert result.exit_code in (1, 2) and len(lines) == 1 and "full" in lines[0], result.output


def test_a_heartbeat_the_full_ledger_refuses_does_not_stop_the_worker(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`worker --once` whose heartbeat writes fail (a full disk) logs `heartbeat.failed` and still runs its jobs."""
    def full(*_: object, **__: object) -> None:
        disk_full = sqlite3.OperationalError("database or disk is full")
        raise OperationalError("INSERT INTO worker_heartbeats", {}, disk_full)

    monkeypatch.setattr("store.heartbeats.Heartbeat.beat", full)
    result = CliRunner().invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert '"event": "heartbeat.failed"' in result.output and '"event": "job.done"' in result.output
