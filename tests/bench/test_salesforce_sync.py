from __future__ import annotations

import pytest

from bench.salesforce_sync import main


def test_tiny_benchmark_spends_the_minimum_calls_and_reads_only_changes(capsys: pytest.CaptureFixture[str]) -> None:
    """At 3,000 records the syncs page at 2,000, writes go 200 at a time, and the resync reads only changes."""
    first, changed, updates, naive = main(
        ["--records", "3000", "--latency-ms", "0", "--updates", "400", "--naive-sample", "10"]
    )
    out = capsys.readouterr().out
    assert "first sync" in out and "1% changed sync" in out and "400 updates" in out
    assert first.calls["read"] == first.minimum and first.records == 3000 + 51
    assert changed.calls["read"] == changed.minimum
    assert changed.records <= 51 + 30 + 5  # owners, the changes, one boundary record per object
    assert updates.calls == {"write": 2} and updates.naive == 400
    assert naive.calls == {"write": 10} and updates.naive_seconds is not None
