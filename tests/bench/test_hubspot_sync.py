from __future__ import annotations

from bench.hubspot_sync import Bench


def test_tiny_bench_spends_the_minimum_calls_and_gets_no_429() -> None:
    """At a tiny size every phase spends exactly the calls the API requires and is never throttled."""
    phases = Bench(records=300, scale=100, latency_ms=0, updates=300).run()
    assert [p.name for p in phases] == ["first sync", "1%-changed sync", "300 updates"]
    assert [(p.calls, p.throttled) for p in phases] == [(p.minimum, 0) for p in phases]
    assert [p.records for p in phases] == [900, 9, 300]
