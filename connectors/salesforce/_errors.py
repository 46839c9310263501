"""Salesforce faults translated into connector errors, through one code -> class table.

Salesforce names the fault in ``errorCode`` (REST), ``statusCode`` (per record) or ``faultcode``
(SOAP); the HTTP status is the fallback when the body names nothing we know.
"""

from __future__ import annotations

from typing import Any

from connectors._retry import RateLimited, first_line
from domain.errors import ConnectorError, CredentialsError, FatalConnectorError, RetriableConnectorError


class SessionExpired(CredentialsError):
    """The access token is no longer accepted; a credentials error unless the connector can log in again."""


class RequestLimitExceeded(RateLimited):
    """Salesforce refused the call for its rate or concurrency limit: back off, then try again."""


ERROR_CODE_CLASSES: dict[str, type[ConnectorError]] = {
    "INVALID_SESSION_ID": SessionExpired,
    "REQUEST_LIMIT_EXCEEDED": RequestLimitExceeded,
    "UNABLE_TO_LOCK_ROW": RetriableConnectorError,
    "SERVER_UNAVAILABLE": RetriableConnectorError,
    "INVALID_FIELD": FatalConnectorError,
    "MALFORMED_QUERY": FatalConnectorError,
    "MALFORMED_ID": FatalConnectorError,
    "INVALID_TYPE": FatalConnectorError,
    "INVALID_TYPE_FOR_OPERATION": FatalConnectorError,
    "REQUIRED_FIELD_MISSING": FatalConnectorError,
    "API_DISABLED_FOR_ORG": FatalConnectorError,
    "INSUFFICIENT_ACCESS": FatalConnectorError,
}

STATUS_CLASSES: dict[int, type[ConnectorError]] = {
    400: FatalConnectorError,
    401: SessionExpired,
    403: FatalConnectorError,
    404: FatalConnectorError,
    500: RetriableConnectorError,
    502: RetriableConnectorError,
    503: RetriableConnectorError,
    504: RetriableConnectorError,
}

HINTS: dict[str, str] = {
    "INVALID_SESSION_ID": "set SALESFORCE_CLIENT_ID/SALESFORCE_CLIENT_SECRET (or the JWT settings) so the "
    "connector can log in again, or give a fresh SALESFORCE_ACCESS_TOKEN",
    "INVALID_FIELD": "check the field map for this object: the org has no such field, or the user cannot see it",
    "API_DISABLED_FOR_ORG": "the org's edition has no API access; use an edition with API access",
    "INSUFFICIENT_ACCESS": "give the integration user access to this object",
}

RETRIABLE_RECORD_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})
"""Per-record codes in an sObject Collections answer that a later attempt may clear."""


def error_code(content: Any) -> tuple[str, str]:
    """The ``(errorCode, message)`` of a REST error body (a JSON list).

    A body that is not Salesforce's JSON (a gateway's HTML page, plain text, nothing) has no code;
    its message is its first line, so the HTTP status decides what happens.
    """
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return str(first.get("errorCode", "")), " ".join(str(first.get("message", "")).split())
    if isinstance(content, dict):
        return str(content.get("errorCode", "")), " ".join(str(content.get("message", content)).split())[:300]
    return "", first_line(content if isinstance(content, bytes | str) else None)


def translate(status: int, code: str, message: str, what: str) -> ConnectorError:
    """Build the connector error for a refused call; ``what`` names the call (``GET query Account``)."""
    cls = ERROR_CODE_CLASSES.get(code) or STATUS_CLASSES.get(status)
    if cls is None:
        cls = RetriableConnectorError if status >= 500 else FatalConnectorError
    text = f"Salesforce refused {what} (HTTP {status} {code or 'error'}): {message}"
    hint = HINTS.get(code)
    return cls(f"{text}; {hint}" if hint else text)


def record_error(record_id: str, errors: list[dict[str, Any]]) -> str:
    """One line naming the record and every error Salesforce gave for it."""
    parts = [f"{e.get('statusCode', 'ERROR')} on {record_id}: {e.get('message', '')}" for e in errors]
    return "; ".join(parts) or f"UNKNOWN_ERROR on {record_id}: Salesforce gave no reason"
