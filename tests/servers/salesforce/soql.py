"""Just enough SOQL for the fake org: SELECT fields FROM object [WHERE a AND b] [ORDER BY f, g] [LIMIT n].

Conditions are ``field op value`` (``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) or ``field IN (values)``;
values are what ``simple_salesforce.format_soql`` writes: quoted strings, numbers, true/false/null,
dates and ISO datetimes. A query outside this subset is a MALFORMED_QUERY, as on Salesforce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'|[(),]|>=|<=|!=|=|<|>|[^\s(),=<>!']+")
UNESCAPE = re.compile(r"\\(.)")


class MalformedQuery(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Query:
    sobject: str
    fields: list[str]
    conditions: list[Condition]
    order: list[str]
    limit: int | None


def parse(soql: str) -> Query:
    match = QUERY.match(soql)
    if match is None:
        raise MalformedQuery(f"unexpected token in query: {soql[:80]!r}")
    fields = [f.strip() for f in match["fields"].split(",")]
    order = [f.strip() for f in (match["order"] or "").split(",") if f.strip()]
    where = _conditions(TOKEN.findall(match["where"])) if match["where"] else []
    return Query(match["obj"], fields, where, order, int(match["limit"]) if match["limit"] else None)


def _conditions(tokens: list[str]) -> list[Condition]:
    conditions, i = [], 0
    while i < len(tokens):
        field, op = tokens[i], tokens[i + 1].upper()
        if op == "IN":
            end = tokens.index(")", i)
            values = [_literal(t) for t in tokens[i + 3 : end] if t != ","]
            conditions.append(Condition(field, "IN", values))
            i = end + 1
        else:
            conditions.append(Condition(field, op, _literal(tokens[i + 2])))
            i += 3
        if i < len(tokens):
            if tokens[i].upper() != "AND":
                raise MalformedQuery(f"only AND is supported, got {tokens[i]!r}")
            i += 1
    return conditions


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return UNESCAPE.sub(r"\1", token[1:-1])
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if "T" in token:
        return datetime.fromisoformat(token.replace("Z", "+00:00")).astimezone(UTC)
    if token.count("-") == 2:
        return date.fromisoformat(token)
    return float(token) if "." in token else int(token)


def comparable(value: Any, like: Any) -> Any:
    """Bring a stored value (Salesforce's JSON form) to the type of the literal it is compared with."""
    if value is None or not isinstance(value, str):
        return value
    if isinstance(like, datetime):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    if isinstance(like, date):
        return date.fromisoformat(value)
    return value


def _folded(field: str, value: Any) -> Any:
    """Text as SOQL compares it: ignoring case, except ids (a 15-character id is case-sensitive)."""
    return value.casefold() if isinstance(value, str) and not field.endswith("Id") else value


def matches(row: dict[str, Any], condition: Condition) -> bool:
    field = condition.field
    if condition.op == "IN":
        return _folded(field, row.get(field)) in [_folded(field, v) for v in condition.value]
    value = comparable(row.get(field), condition.value)
    want = condition.value
    if condition.op in ("=", "!="):
        value, want = _folded(field, value), _folded(field, want)
    if condition.op in ("=", "!="):
        return bool(value == want) == (condition.op == "=")
    if value is None or want is None:
        return False
    return bool({"<": value < want, "<=": value <= want, ">": value > want, ">=": value >= want}[condition.op])


def sort_key(row: dict[str, Any], order: list[str]) -> tuple[Any, ...]:
    return tuple((row.get(f) is None, row.get(f) or "") for f in (o.split()[0] for o in order))
