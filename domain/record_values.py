"""A record's fields as the ledger keeps them (JSON values), to compare what a CRM holds with what an action wrote."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from enum import Enum
from typing import Any

from domain.records import Record

BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "deleted"})
"""Fields the CRM keeps for itself, which no action sets and no user edits."""


def json_value(value: Any) -> Any:
    """``value`` as an action's payload holds it: enums by value, dates and datetimes as ISO text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def field_values(record: Record) -> dict[str, Any]:
    """Every field a user or an action can change, custom ones (``extra``) under their own names."""
    values = {f.name: json_value(getattr(record, f.name)) for f in fields(record) if f.name not in BOOKKEEPING}
    return {**{k: v for k, v in values.items() if k != "extra"}, **values.get("extra", {})}
