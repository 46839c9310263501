"""The one retry policy of the remote connectors (tenacity): how many tries, how long each waits, what is logged.

Each connector says which of its failures are worth repeating (``on``); the waits are shared: what
the CRM asked for (:class:`TryAgain` with ``wait_s``), a long backoff after a rate limit that names
no wait (:class:`RateLimited`), a short exponential one after anything else. Sleep is passed in, so
tests record the waits instead of sleeping them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from domain.errors import RetriableConnectorError

log = structlog.get_logger(__name__)
Sleep = Callable[[float], None]

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
FIRST_LINE_CHARS = 200

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


def first_line(body: bytes | str | None) -> str:
    """The first line worth showing of an error body that is not JSON: an HTML page's title or first text.

    Gateways and load balancers answer with HTML or plain text; a message must stay one line.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    title = _TITLE.search(text)
    if title is not None:
        text = title.group(1)
    lines = (" ".join(html.unescape(_TAG.sub(" ", line)).split()) for line in text.splitlines())
    found = next((line for line in lines if line), "")
    return found[:FIRST_LINE_CHARS] or "(empty body)"


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
