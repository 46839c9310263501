"""The one retry policy of the remote connectors (tenacity): how many tries, how long each waits, what is logged.

Each connector says which of its failures are worth repeating (``on``); the waits are shared: what
the CRM asked for (:class:`TryAgain` with ``wait_s``), a long backoff after a rate limit that names
no wait (:class:`RateLimited`), a short exponential one after anything else. Sleep is passed in, so
tests record the waits instead of sleeping them.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from domain.errors import RetriableConnectorError

log = structlog.get_logger(__name__)
Sleep = Callable[[float], None]

_TRANSIENT_WAIT = wait_exponential(multiplier=0.5, max=10)
_RATE_LIMIT_WAIT = wait_exponential(multiplier=5, max=120)


class TryAgain(RetriableConnectorError):
    """A failed call that is safe to send again, after ``wait_s`` seconds when known (else the backoff)."""

    def __init__(self, message: str, wait_s: float | None = None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class RateLimited(RetriableConnectorError):
    """The CRM refused the call for its rate or concurrency limit without saying how long to wait."""


def backoff(state: RetryCallState) -> float:
    """Seconds before the next try: the CRM's own wait, long after a rate limit, short otherwise."""
    failure = state.outcome.exception() if state.outcome else None
    if isinstance(failure, TryAgain) and failure.wait_s is not None:
        return failure.wait_s
    return (_RATE_LIMIT_WAIT if isinstance(failure, RateLimited) else _TRANSIENT_WAIT)(state)


def _logger(crm: str) -> Callable[[RetryCallState], None]:
    def log_retry(state: RetryCallState) -> None:
        """Say which fault is retried and how long it waits (never a token or a body)."""
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(f"{crm}.retry", attempt=state.attempt_number, wait_seconds=round(wait, 2),
                    error=type(failure).__name__, detail=str(failure)[:300])

    return log_retry


def retrying(crm: str, *, attempts: int, sleep: Sleep,
             on: type[BaseException] = RetriableConnectorError) -> Retrying:
    """Try a call up to ``attempts`` times while it fails with ``on``; the last failure is raised as it is."""
    return Retrying(stop=stop_after_attempt(attempts), wait=backoff, retry=retry_if_exception_type(on),
                    sleep=sleep, before_sleep=_logger(crm), reraise=True)
