"""Client-side rate limiting for HubSpot: stay under the portal's limits instead of hitting 429s.

HubSpot counts requests in a rolling window (``TEN_SECONDLY_ROLLING``: the burst limit per 10 s of
the subscription tier) and limits the search API separately to a few requests per second. The
limiter remembers when it sent each request and waits, before sending, until the oldest one has
left the window. Each request is counted from the moment its answer arrived, which is never before
the server counted it, so a slow or paused network cannot make two windows overlap on the server's
side; a small margin absorbs clock drift. The rate headers of each response tell the limiter when
other apps share the portal's allowance.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connectors._retry import Sleep

Clock = Callable[[], float]


@dataclass
class RollingWindow:
    """At most ``limit`` events in any ``length_s`` seconds, by the times they were let through."""

    limit: int
    length_s: float
    sent: deque[float] = field(default_factory=deque)

    def _forget(self, now: float) -> None:
        while self.sent and self.sent[0] <= now - self.length_s:
            self.sent.popleft()

    def wait_needed(self, now: float) -> float:
        """Seconds until one more event fits in the window (0 when it fits now)."""
        self._forget(now)
        if len(self.sent) < self.limit:
            return 0.0
        return self.sent[len(self.sent) - self.limit] + self.length_s - now

    def record(self, now: float) -> None:
        self.sent.append(now)

    def restamp(self, now: float) -> None:
        """Move the latest event to ``now`` (when its answer arrived)."""
        if self.sent:
            self.sent[-1] = max(self.sent[-1], now)

    def fill_to(self, used: int, now: float) -> None:
        """Count ``used`` events in the window, as the server reports: other apps spent the rest."""
        self._forget(now)
        while len(self.sent) < min(used, self.limit):
            self.sent.append(now)


class RateLimiter:
    """Waits before each request so that neither the burst window nor the search window overflows.

    Args:
        burst: requests allowed per ``interval_s`` (``HUBSPOT_BURST_LIMIT``).
        interval_s: the burst window, 10 s on HubSpot.
        search_per_s: search requests allowed per ``search_interval_s`` (one second on HubSpot).
        clock: monotonic seconds; injected so tests run on a fake clock.
        sleep: how to wait; injected likewise.
        margin: fraction added to each window to absorb clock skew and latency.
    """

    def __init__(self, burst: int, *, clock: Clock, sleep: Sleep, interval_s: float = 10.0,
                 search_per_s: int = 5, search_interval_s: float = 1.0, margin: float = 0.02) -> None:
        self.burst = RollingWindow(burst, interval_s * (1 + margin))
        self.search = RollingWindow(search_per_s, search_interval_s * (1 + margin))
        self._clock = clock
        self._sleep = sleep
        self._pending: tuple[RollingWindow, ...] = ()

    def acquire(self, *, search: bool = False) -> None:
        """Block until one more request (a search request when ``search``) may be sent, and count it."""
        windows = (self.burst, self.search) if search else (self.burst,)
        while True:
            wait = max(w.wait_needed(self._clock()) for w in windows)
            if wait <= 0:
                break
            self._sleep(wait)
        now = self._clock()
        for window in windows:
            window.record(now)
        self._pending = windows

    def answered(self) -> None:
        """Count the request just sent from now, when its answer (or its failure) arrived."""
        now = self._clock()
        for window in self._pending:
            window.restamp(now)
        self._pending = ()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Trust the server's count when it has seen more requests than we sent (a shared portal)."""
        remaining = headers.get("X-HubSpot-RateLimit-Remaining")
        maximum = headers.get("X-HubSpot-RateLimit-Max")
        if remaining is None or maximum is None:
            return
        used = int(maximum) - int(remaining)
        self.burst.fill_to(used, self._clock())

    def throttled(self, policy: str) -> None:
        """After a 429: treat the window it names as full, so the next request waits it out."""
        window = self.search if policy == "SECONDLY" else self.burst
        window.fill_to(window.limit, self._clock())
