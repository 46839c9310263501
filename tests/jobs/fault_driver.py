"""Run a ``warden`` command in a child process that dies, or loses its ledger, at an exact CRM call.

The child swaps the embedded CRM for :class:`CountingCRM`, which makes each batch of ``BATCH``
records, each snapshot, each merge of two losers and each fetch its own call and counts them. A
:class:`Fault` says what happens right after call N returns: the process SIGKILLs itself
(``kill``), or every later ledger commit fails as on a full disk (``ledger_full``) or only the next
few do (``ledger_hiccup``). Nothing in the project knows about it: the command runs as a user runs
it, through the CLI. Children fork from a server that imported the project once (multiprocessing's
forkserver), so a run costs a fraction of a second rather than a Python start-up.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from connectors.kinds import KINDS
from connectors.local import LocalCRM
from domain.connector import MergeResult, NewLead, NewTask, RecordUpdate, Snapshot, WriteResult
from domain.records import ObjectType, Record
from jobs.apply import actions
from jobs.cli import app
from tests.enforcement.families import NOW

T = TypeVar("T")
BATCH = 2
LOSERS_PER_CALL = 2
HICCUP_COMMITS = 2
"""Commits a hiccup fails: fewer than the ledger's write attempts, so the run itself gets over it."""
Effect = Literal["kill", "ledger_full", "ledger_hiccup"]


@dataclass(frozen=True)
class Fault:
    after_call: int
    effect: Effect


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    """-9 when the child killed itself."""
    calls: int
    output: str
    calls_at_first_ledger_failure: int | None = None


class _Calls:
    def __init__(self, fault: Fault | None) -> None:
        self.count = 0
        self.fault = fault
        self.failing_commits = 0
        self.count_at_first_failure: int | None = None

    def done(self) -> None:
        self.count += 1
        if self.fault is None or self.count != self.fault.after_call:
            return
        if self.fault.effect == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        self.failing_commits = -1 if self.fault.effect == "ledger_full" else HICCUP_COMMITS

    def commit(self, session: Session) -> None:
        if self.failing_commits == 0:
            return
        self.failing_commits -= 1 if self.failing_commits > 0 else 0
        if self.count_at_first_failure is None:
            self.count_at_first_failure = self.count
        raise OperationalError("COMMIT", {}, OSError(28, "No space left on device"))


class CountingCRM(LocalCRM):
    """The embedded CRM with a fixed clock, where every batch, snapshot, merge step and fetch is one counted call."""

    calls: _Calls

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        return self._in_calls(updates, super().update)

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        return self._in_calls(tasks, super().create_tasks)

    def create_leads(self, leads: Sequence[NewLead]) -> list[WriteResult]:
        return self._in_calls(leads, super().create_leads)

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        return self._call(lambda: super(CountingCRM, self).snapshot(object_type, record_ids))

    def fetch(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        return self._call(lambda: super(CountingCRM, self).fetch(object_type, record_ids))

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        self._call(lambda: super(CountingCRM, self).restore(snapshots))

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        merged: list[str] = []
        for start in range(0, len(loser_ids), LOSERS_PER_CALL):
            step = loser_ids[start:start + LOSERS_PER_CALL]
            result = self._call(lambda step=step: super(CountingCRM, self).merge(object_type, master_id, step))
            if not result.ok:
                return MergeResult(master_id, tuple(merged), False, result.error)
            merged.extend(step)
        return MergeResult(master_id, tuple(merged))

    def _in_calls(self, items: Sequence[Any], write: Callable[[Sequence[Any]], list[WriteResult]]) -> list[WriteResult]:
        results: list[WriteResult] = []
        for start in range(0, len(items), BATCH):
            results.extend(self._call(lambda start=start: write(items[start:start + BATCH])))
        return results

    def _call(self, call: Callable[[], T]) -> T:
        result = call()
        self.calls.done()
        return result


def _child(argv: list[str], env: dict[str, str], fault: Fault | None, report: str) -> None:
    """The child process: run ``warden ARGV`` with the fault armed and write what happened to ``report``."""
    os.environ.update(env)
    calls = _Calls(fault)
    crm_path = env["WARDEN_LOCAL_CRM_URL"].removeprefix("sqlite:///")

    def counting(_settings: Any, _fields: Any) -> CountingCRM:
        crm = CountingCRM(crm_path, clock=lambda: NOW, batch_size=BATCH)
        crm.calls = calls
        return crm

    KINDS["local"] = dataclasses.replace(KINDS["local"], open=counting)
    event.listen(Session, "before_commit", calls.commit)
    actions.APPLY_BATCH = BATCH  # the ledger records each CRM call's answers before the next call
    time.sleep = _no_wait  # the ledger's retries: their timing is not under test
    result = CliRunner().invoke(app, argv)
    output = result.output + (f"\n{result.exception!r}" if result.exception else "")
    Path(report).write_text(json.dumps({"calls": calls.count, "output": output,
                                        "calls_at_first_ledger_failure": calls.count_at_first_failure}))
    os._exit(result.exit_code)


def run(argv: Sequence[str], env: dict[str, str], report: Path, fault: Fault | None = None) -> Outcome:
    """Run ``warden ARGV`` in a child with ``env`` set and ``fault`` armed; wait for it to exit or die."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    report.unlink(missing_ok=True)
    child = context.Process(target=_child, args=(list(argv), env, fault, str(report)))
    child.start()
    child.join(120)
    if child.exitcode is None:
        child.kill()
        raise TimeoutError(f"warden {' '.join(argv)} did not finish in 120 s")
    told = json.loads(report.read_text()) if report.exists() else {"calls": -1, "output": "(killed)"}
    return Outcome(child.exitcode, told["calls"], told["output"], told.get("calls_at_first_ledger_failure"))


def _no_wait(_seconds: float) -> None:
    return None

