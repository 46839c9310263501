"""JSON text for the ledger's and ``rule_state``'s JSON columns and SQLite's JSON parameters, written by orjson.

The mirror's JSON columns keep ``json.dumps`` (``store.ingest``): their bulk-written rows must match SQLAlchemy's
byte for byte.

A scheduled run writes thousands of findings' evidence and actions' payloads and binds its id lookups on
SQLite as JSON arrays: ``json.dumps`` took 0.23-0.28 s of a steady run at a quarter of the bench's org, and
orjson writes the same values about six times faster. What orjson refuses (an integer beyond 64 bits, which a
CRM's number field may hold) is written by ``json.dumps``, as before.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson


def json_text(value: Any) -> str:
    """``value`` as compact JSON text: keys that are not strings as strings, dataclasses as objects of their fields."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, default=_fields)


def _fields(value: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
