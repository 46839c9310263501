"""structlog set-up: readable on a terminal, JSON lines elsewhere, secrets never printed."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from domain.secrets import mask_url_secrets

_SECRET_KEY = re.compile(r"token|secret|password|passwd|authorization|api_key|apikey|session_id", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/!=-]+")
REDACTED = "[redacted]"


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Blank every value whose key names a secret; cut bearer tokens and URL passwords out of any string."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if _SECRET_KEY.search(str(key)) else _scrubbed(value)
    return event_dict


def _scrubbed(value: Any) -> Any:
    """``value`` with secrets cut out of its strings, through lists, tuples and dicts."""
    if isinstance(value, str):
        return mask_url_secrets(_BEARER.sub(r"\1" + REDACTED, value) if "Bearer" in value else value)
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _scrubbed(v) for k, v in value.items()}
    return value


def _stderr_logger(*_: Any) -> structlog.PrintLogger:
    """A logger on whatever ``sys.stderr`` is now (test runners swap it), not the one at start-up."""
    return structlog.PrintLogger(sys.stderr)


def configure(json_output: bool | None = None, level: int = logging.INFO, *, through_logging: bool = False) -> None:
    """Configure once, at the entry point. ``json_output`` None means: JSON unless on a terminal.

    ``through_logging``: hand each line to the standard ``logging`` module at its own level, for
    Celery, whose handlers print the level and whose stderr is a logger that calls everything a WARNING.
    """
    if json_output is None:
        json_output = not sys.stderr.isatty()
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory() if through_logging else _stderr_logger,
        cache_logger_on_first_use=False,
    )
