"""Post JSON to a Slack or Microsoft Teams incoming webhook, retrying what a retry can fix.

A 5xx, a 429 (after its ``Retry-After``, at most a minute) or a dropped connection is tried again
with backoff, three times in all; anything else (a 4xx: a revoked or malformed webhook) fails at
once. A failure raises ``WebhookFailed`` naming the variable that holds the URL, never the URL
(it is the channel's password); the ledger keeps the message pending and the next run retries it,
as it does for SMTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from notify.smtp import DeliveryError

log = structlog.get_logger(__name__)
ATTEMPTS = 3
TIMEOUT_SECONDS = 20.0
MAX_RETRY_AFTER = 60.0
_BACKOFF = wait_exponential(multiplier=1, max=20)


class WebhookFailed(DeliveryError):
    """The webhook did not take the message (after retrying what could be retried)."""


class _Transient(Exception):
    def __init__(self, message: str, wait_s: float | None = None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class WebhookSender:
    """``sender.post(url, payload, where="EAST_SLACK_WEBHOOK")``: one JSON message to one webhook."""

    def __init__(
        self, http: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep,
        attempts: int = ATTEMPTS, timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._http = http or requests.Session()
        self._sleep = sleep
        self._attempts = attempts
        self._timeout = timeout

    def post(self, url: str, payload: dict[str, Any], where: str) -> None:
        """Deliver ``payload``; raises ``WebhookFailed`` saying what the webhook in ``where`` answered."""
        retrying = Retrying(stop=stop_after_attempt(self._attempts), wait=_wait, sleep=self._sleep,
                            retry=retry_if_exception_type(_Transient), before_sleep=_log(where), reraise=True)
        try:
            retrying(self._post_once, url, payload, where)
        except _Transient as exc:
            raise WebhookFailed(f"{exc} (tried {self._attempts} times)") from None

    def _post_once(self, url: str, payload: dict[str, Any], where: str) -> None:
        try:
            response = self._http.post(url, json=payload, timeout=self._timeout)
        except requests.RequestException as exc:
            raise _Transient(f"the webhook in {where} could not be reached: {type(exc).__name__}") from None
        if response.status_code < 300:
            return
        said = f"the webhook in {where} answered HTTP {response.status_code}: {response.text[:200]!r}"
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(said, _retry_after(response))
        raise WebhookFailed(said + "; check the URL in that variable and that the channel still exists")


def _retry_after(response: requests.Response) -> float | None:
    try:
        return min(float(response.headers.get("Retry-After", "")), MAX_RETRY_AFTER)
    except ValueError:
        return None


def _wait(state: RetryCallState) -> float:
    failure = state.outcome.exception() if state.outcome else None
    if isinstance(failure, _Transient) and failure.wait_s is not None:
        return failure.wait_s
    return _BACKOFF(state)


def _log(where: str) -> Callable[[RetryCallState], None]:
    def log_retry(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        log.warning("chat.retry", webhook=where, attempt=state.attempt_number, detail=str(failure)[:300])

    return log_retry
