"""Whether a record meets a route's ``where:`` conditions, and how to say which ones it met."""

from __future__ import annotations

from typing import Any

from config.conditions import Condition, Conditions, Range
from domain.records import Record
from enforcement.record_fields import field_value, is_blank


def holds(record: Record, where: Conditions) -> bool:
    """Every condition holds for the record's value of its field (a blank value meets none)."""
    return all(_meets(field_value(record, name), condition) for name, condition in where.items())


def _meets(value: Any, condition: Condition) -> bool:
    if is_blank(value):
        return False
    if isinstance(condition, Range):
        number = _number(value)
        return number is not None and (condition.at_least is None or number >= condition.at_least) and (
            condition.below is None or number < condition.below)
    return any(_same(value, wanted) for wanted in condition)


def _number(value: Any) -> float | None:
    """Numbers come as numbers (Salesforce) or as text (HubSpot, CSV): ``"1,200"`` is 1200."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        return None


def _same(value: Any, wanted: str | float) -> bool:
    if isinstance(wanted, str):
        return str(value).strip().casefold() == wanted.strip().casefold()
    return _number(value) == wanted


def describe(where: Conditions) -> str:
    """``country is US or CA, employees at least 1000``."""
    parts = []
    for name, condition in where.items():
        if isinstance(condition, Range):
            parts.append(f"{name} {condition.describe()}")
        else:
            parts.append(f"{name} is {' or '.join(f'{v:g}' if isinstance(v, float) else str(v) for v in condition)}")
    return ", ".join(parts)
