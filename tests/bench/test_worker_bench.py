from __future__ import annotations

import pytest

from bench import worker
from connectors.records import ObjectType


@pytest.mark.slow
def test_the_worker_bench_runs_both_modes_on_a_tiny_load(capsys: pytest.CaptureFixture[str]) -> None:
    """One small portal: the single worker and Celery each run every job and the figures are printed."""
    single, celery = worker.main(["--scale", "0.005", "--latency-ms", "1", "--processes", "2"])
    jobs = single.tasks
    assert jobs >= 5 and single.statuses == {"finished": jobs}
    syncs = len(ObjectType)  # Celery syncs each object type in a task of its own
    assert celery.tasks == jobs + syncs and celery.statuses == {"finished": jobs + syncs}
    out = capsys.readouterr().out
    assert "one worker process" in out and "celery x2 processes" in out and "speed-up" in out
