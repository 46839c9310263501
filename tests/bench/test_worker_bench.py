from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from domain.records import ObjectType

ROOT = Path(__file__).resolve().parents[2]
TASKS = re.compile(r"^(one worker process|celery x2 processes) .* (\d+) tasks (\{.*?\})", re.MULTILINE)
PASS_CALLS = re.compile(r"each job syncing for itself (\d+) calls .* one sync per pass (\d+) calls")


@pytest.mark.slow
def test_the_worker_bench_runs_both_modes_on_a_tiny_load() -> None:
    """One small portal: the single worker and Celery each run every job and the figures are printed.

    A pass over the unchanged portal costs at most a call per object type, against a sync per job before.

    In a process of its own: the Celery client's broker connections would otherwise stay in this one,
    and a later forked dedupe worker would block closing the copies it inherits.
    """
    out = subprocess.run(
        [sys.executable, "-m", "bench.worker", "--scale", "0.005", "--latency-ms", "1", "--processes", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=True,
    ).stdout  # fmt: skip
    counted = {mode: (int(tasks), ast.literal_eval(statuses)) for mode, tasks, statuses in TASKS.findall(out)}
    jobs, single = counted["one worker process"]
    assert jobs >= 5 and single == {"finished": jobs}, out
    syncs = len(ObjectType)  # Celery syncs each object type in a task of its own
    assert counted["celery x2 processes"] == (jobs + syncs, {"finished": jobs + syncs}), out
    assert "speed-up" in out
    each_job, one_sync = map(int, PASS_CALLS.findall(out)[0])
    assert one_sync <= len(ObjectType) < each_job, out  # one connection: at most a call per object type
