"""The values of a plan file, checked one at a time, and spreadsheet-safe text cells.

An admin edits plans in a spreadsheet, so whatever comes back is checked as a schema: each bad value
raises ``BadValue`` with what is wrong, and the reader adds the file, row and column. Cells we write
that a spreadsheet would run as a formula (starting ``= + - @``, tab or carriage return) get a
leading ``'``, which reading takes off again.
"""

from __future__ import annotations

import json
from typing import Any

from dedupe.score import Tier
from domain.records import ObjectType

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MERGED_TYPES = {t.value: t for t in (ObjectType.ACCOUNT, ObjectType.CONTACT, ObjectType.LEAD)}


class BadValue(ValueError):
    """One value of a plan file that does not fit its column; the message says why, not where."""


def safe_cell(text: str) -> str:
    """``text`` with a ``'`` in front if a spreadsheet would take it for a formula (or it already starts so)."""
    return f"'{text}" if text.lstrip("'").startswith(FORMULA_STARTS) else text


def cell_text(cell: str) -> str:
    """A text cell as written before ``safe_cell``."""
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS) else cell


def tier(value: object) -> Tier:
    if not isinstance(value, str) or value not in {t.value for t in Tier}:
        raise BadValue(f"{value!r} is not auto or review")
    return Tier(value)


def merged_type(value: object) -> ObjectType:
    """What a cluster merges; empty (a plan written before the ``object`` column) is accounts."""
    found = MERGED_TYPES.get((value or "account").strip().lower()) if isinstance(value, str | None) else None
    if found is None:
        raise BadValue(f"{value!r} is not account, contact or lead")
    return found


def score(value: object) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value) if value.strip() else 0.0
        except ValueError:
            number = None
    if number is None or not 0 <= number <= 100:
        raise BadValue(f"{value!r} is not a number from 0 to 100")
    return number


def text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadValue("empty" if value in (None, "") else f"{value!r} is not text")
    return value.strip()


def json_object(value: object) -> dict[str, Any]:
    """A JSON object, from its text (a CSV cell, empty for none) or as parsed (a JSON plan)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise BadValue(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, dict):
        raise BadValue(f'not a JSON object like {{"website": "acme.com"}} but {type(value).__name__} {value!r}')
    return value


def id_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise BadValue(f"{value!r} is not a list of record ids")
    return tuple(value)


def names(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadValue(f"{value!r} is not an object of record id -> name")
    return value


def flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"{value!r} is not true or false")
    return value
