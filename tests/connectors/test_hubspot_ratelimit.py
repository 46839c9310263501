from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from connectors.hubspot._ratelimit import RateLimiter
from domain.connector import RecordUpdate
from domain.records import ObjectType
from tests.connectors.hubspot_fixtures import SecondsClock, connect, hubspot
from tests.servers.hubspot.seed import seed
from tests.servers.hubspot.server import Limits


def _limiter(clock: SecondsClock, burst: int = 10, margin: float = 0.0) -> RateLimiter:
    return RateLimiter(burst, clock=clock, sleep=clock.sleep, margin=margin)


@given(st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=60), st.integers(1, 12))
def test_no_ten_second_window_ever_holds_more_than_the_burst(gaps: list[float], burst: int) -> None:
    """Whatever the pauses between requests, no 10-second window holds more than the burst limit."""
    clock = SecondsClock()
    limiter = _limiter(clock, burst)
    sent = []
    for gap in gaps:
        clock.now += gap
        limiter.acquire()
        sent.append(clock.now)
    assert all(sum(1 for t in sent if start <= t < start + 10) <= burst for start in sent)


def test_the_burst_goes_out_at_once_and_the_next_waits_for_the_window() -> None:
    """Ten requests leave immediately; the eleventh waits until the first leaves the 10 s window."""
    clock = SecondsClock()
    limiter = _limiter(clock)
    for _ in range(11):
        limiter.acquire()
    assert clock.slept == [10.0]


def test_a_slow_answer_counts_from_when_it_arrived() -> None:
    """A request answered 3 s after it was sent frees its slot 10 s after the answer, not the send."""
    clock = SecondsClock()
    limiter = _limiter(clock, burst=1)
    limiter.acquire()
    clock.now += 3
    limiter.answered()
    limiter.acquire()
    assert clock.slept == [10.0]


def test_search_requests_are_held_to_five_per_second() -> None:
    """Twelve searches take more than two seconds even with burst to spare."""
    clock = SecondsClock()
    limiter = _limiter(clock, burst=100)
    start = clock.now
    for _ in range(12):
        limiter.acquire(search=True)
    assert clock.now - start >= 2.0


def test_headers_from_a_shared_portal_slow_us_down() -> None:
    """When HubSpot reports fewer requests left than we think, the limiter waits sooner."""
    clock = SecondsClock()
    limiter = _limiter(clock)
    limiter.acquire()
    limiter.observe({"X-HubSpot-RateLimit-Max": "10", "X-HubSpot-RateLimit-Remaining": "0"})
    limiter.acquire()
    assert clock.slept and clock.slept[0] > 9.9


def test_steady_state_sync_gets_no_429_from_a_portal_enforcing_the_limit() -> None:
    """Reading and writing far more than one window's worth never trips the server's rolling limit."""
    with hubspot(Limits(burst=20, interval_s=10.0, search_per_s=5)) as (server, clock):
        seeded = seed(server.portal, 1500, deals_per=1, tasks_per=0)
        connector = connect(server, clock, burst=20)
        synced = list(connector.iter_changed(ObjectType.OPPORTUNITY, None))
        changed = list(connector.iter_changed(ObjectType.OPPORTUNITY, datetime(2020, 1, 1, tzinfo=UTC)))
        updates = [RecordUpdate(f"k{d}", ObjectType.OPPORTUNITY, d, {"amount": 7}) for d in seeded.deals]
        results = connector.update(updates * 2)
        assert len(synced) == len(changed) == 1500 and all(r.ok for r in results)
        assert server.state.throttled == 0
        assert server.requests() > 50 and clock.now - 1000 > 20


def test_a_429_makes_the_connector_wait_out_the_window_and_retry() -> None:
    """A portal shared with another app answers 429 once; the connector waits and finishes the sync."""
    with hubspot(Limits(burst=20)) as (server, clock):
        seeded = seed(server.portal, 150, deals_per=0, tasks_per=0)
        for _ in range(20):
            server.state.window.append(clock.now)  # another app spent the whole window
        accounts = list(connect(server, clock, burst=20).iter_changed(ObjectType.ACCOUNT, None))
        assert [a.id for a in accounts] == seeded.companies
        assert server.state.throttled == 1 and max(clock.slept) >= 10
