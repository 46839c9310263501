"""HubSpot's refusals resolved through one status -> action table, as Salesforce's are by error code.

An action says what the request door does: repeat the request, wait out a rate limit, refresh the
token, fail only the record, or stop the run with the fix in the message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from connectors._retry import first_line


class Act(StrEnum):
    RETRY = "retry"
    """A passing fault (5xx, gateway, dropped connection): the same request may succeed."""
    THROTTLE = "throttle"
    """A 429: wait as the limit says, or stop for the day on the daily limit."""
    REAUTHENTICATE = "reauthenticate"
    """The token expired: refresh it once (OAuth apps), else stop."""
    RECORD = "record"
    """This record was refused; the rest of the run goes on."""
    FATAL = "fatal"
    """Retrying cannot help: stop the run and say how to fix it."""


@dataclass(frozen=True)
class Resolution:
    act: Act
    fix: str = ""
    """What the user should do, for fatal answers."""


STATUS_RESOLUTIONS: dict[int, Resolution] = {
    0: Resolution(Act.RETRY),
    400: Resolution(Act.RECORD),
    401: Resolution(Act.REAUTHENTICATE, "set a valid HUBSPOT_ACCESS_TOKEN, or HUBSPOT_CLIENT_ID/SECRET/REFRESH_TOKEN "
                                        "to refresh"),
    403: Resolution(Act.FATAL, "grant the app the CRM scopes for this object (crm.objects.*.read/write)"),
    404: Resolution(Act.RECORD),
    409: Resolution(Act.RECORD),
    422: Resolution(Act.RECORD),
    429: Resolution(Act.THROTTLE),
    500: Resolution(Act.RETRY),
    502: Resolution(Act.RETRY),
    503: Resolution(Act.RETRY),
    504: Resolution(Act.RETRY),
}


def resolve(status: int) -> Resolution:
    """The table's action for an HTTP status; any other 5xx is retried, any other status is fatal."""
    return STATUS_RESOLUTIONS.get(status) or Resolution(Act.RETRY if status >= 500 else Act.FATAL)


def message_of(body: bytes | str | None) -> tuple[str, dict[str, Any]]:
    """HubSpot's ``message`` and the parsed body.

    The SDK hands error bodies over as bytes or text depending on the exception class; a body that
    is not a JSON object (a gateway's HTML page, plain text, nothing) gives its first line.
    """
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return first_line(body), {}
    return " ".join(str(parsed.get("message", parsed)).split()), parsed
