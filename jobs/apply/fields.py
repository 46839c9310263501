"""Compare what the CRM holds with what an action wrote (values as the ledger keeps them: ``domain.record_values``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.record_values import field_values, json_value
from domain.records import Record

__all__ = ["field_values", "json_value", "shows"]


def shows(record: Record | None, payload: Mapping[str, Any]) -> bool:
    """Whether the CRM's ``record`` already holds every value ``payload`` sets."""
    if record is None:
        return False
    held = field_values(record)
    return all(name in held and held[name] == json_value(value) for name, value in payload.items())
