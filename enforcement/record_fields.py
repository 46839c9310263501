"""Reading a field by the name the policy uses: a normalized field first, then a custom field."""

from __future__ import annotations

import dataclasses
from typing import Any

from domain.records import RECORD_CLASSES, Record

_STANDARD_FIELDS: dict[type, frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls) if f.name != "extra") for cls in RECORD_CLASSES.values()
}


def field_value(record: Record, name: str) -> Any:
    """The value of ``name`` on the record: ``amount`` is a column, ``bant_budget`` lives in ``extra``."""
    if name in _STANDARD_FIELDS[type(record)]:
        return getattr(record, name)
    extra: dict[str, Any] = getattr(record, "extra", {})
    return extra.get(name)


def is_blank(value: Any) -> bool:
    """Missing for a stage gate: None, or text that is only whitespace. Zero is a real value."""
    return value is None or (isinstance(value, str) and not value.strip())
