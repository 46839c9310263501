"""A ledger whose disk fills or turns read-only: every command says so in one line, never a traceback.

At start (nothing written yet) it is bad input, exit 2; during a run or a merge it is a runtime
failure, exit 1, and running the command again finishes the work.
"""

from __future__ import annotations

import csv
import errno
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
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
    filling_disk(monkeypatch, spare_pages=1)
    line = warden("dedupe", "apply", str(plan), "--apply", code=1).line
    assert "full" in line and "ledger" in line and "again" in line


def test_a_full_disk_during_digests_is_one_line_exit_1(probe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest command records what it sent: a ledger that fills stops it with one line."""
    succeeds("run", "all", "--now", NOW)
    filling_disk(monkeypatch, spare_pages=0)
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
