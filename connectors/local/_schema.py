"""The embedded CRM's tables: one per record type, columns derived from ``domain.records``.

Deriving the columns from the record dataclasses keeps the SQLite schema and the normalized
vocabulary from drifting apart. Values are stored as SQLite's plain types: datetimes as ISO-8601
UTC text of fixed width (so text order is time order), dates as ISO text, booleans as 0/1, enums
by value, ``extra`` as JSON text.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from domain.records import RECORD_CLASSES, ObjectType, Record

TABLES: dict[ObjectType, str] = {
    ObjectType.OWNER: "owners",
    ObjectType.ACCOUNT: "accounts",
    ObjectType.CONTACT: "contacts",
    ObjectType.LEAD: "leads",
    ObjectType.OPPORTUNITY: "opportunities",
    ObjectType.TASK: "tasks",
    ObjectType.NOTE: "notes",
}

INTERNAL_COLUMNS: dict[ObjectType, tuple[str, ...]] = {
    obj: ("master_record_id", "external_key") if obj is ObjectType.TASK else ("master_record_id",)
    for obj in ObjectType
}
"""Columns a CRM keeps that the normalized records do not carry."""

LOOKUPS: dict[ObjectType, tuple[tuple[ObjectType, str], ...]] = {
    ObjectType.ACCOUNT: (
        (ObjectType.CONTACT, "account_id"),
        (ObjectType.OPPORTUNITY, "account_id"),
        (ObjectType.OPPORTUNITY, "partner_account_id"),
        (ObjectType.TASK, "what_id"),
        (ObjectType.NOTE, "parent_id"),
    ),
    ObjectType.CONTACT: ((ObjectType.TASK, "who_id"), (ObjectType.NOTE, "parent_id")),
    ObjectType.LEAD: ((ObjectType.TASK, "who_id"), (ObjectType.NOTE, "parent_id")),
    ObjectType.OPPORTUNITY: ((ObjectType.TASK, "what_id"), (ObjectType.NOTE, "parent_id")),
}
"""For each parent type, the (child type, column) pairs that point at it: what a merge moves."""


def utc_text(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC text, so that comparing the text compares the instants."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass a timezone-aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _encode_datetime(value: Any) -> str:
    return utc_text(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _encode_date(value: Any) -> str:
    return (value if isinstance(value, date) else date.fromisoformat(value)).isoformat()




@dataclass(frozen=True, slots=True)
class Codec:
    sql_type: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


def _enum_codec(enum: type[StrEnum]) -> Codec:
    members = {member.value: member for member in enum}
    return Codec("TEXT", lambda v: enum(v).value, members.__getitem__)


TEXT = Codec("TEXT", str, lambda v: v)
REAL = Codec("REAL", float, lambda v: v)
BOOL = Codec("INTEGER", lambda v: 1 if v else 0, bool)
DATETIME = Codec("TEXT", _encode_datetime, datetime.fromisoformat)
"""Stored text always ends in +00:00, so parsing it gives an aware UTC datetime."""
DATE = Codec("TEXT", _encode_date, date.fromisoformat)
def _decode_json(text: str) -> Any:
    return {} if text == _EMPTY_OBJECT else json.loads(text)  # most records have no custom field set


_EMPTY_OBJECT = "{}"
JSON = Codec("TEXT", lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True, default=str), _decode_json)


def _codec_for(hint: Any) -> Codec:
    if isinstance(hint, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    base = typing.get_origin(hint) or hint
    if base is bool:
        return BOOL
    if base is float:
        return REAL
    if base is datetime:
        return DATETIME
    if base is date:
        return DATE
    if base is dict:
        return JSON
    if isinstance(base, type) and issubclass(base, StrEnum):
        return _enum_codec(base)
    return TEXT


_ABSENT = object()


@dataclass(frozen=True, slots=True)
class Table:
    """One record type's table: its columns in order and how to convert each value."""

    object_type: ObjectType
    name: str
    record_class: type[Record]
    codecs: dict[str, Codec]
    defaults: dict[str, Any]
    """Stored values for columns a row may leave out (``deleted`` 0, ``extra`` ``{}``)."""
    decode_record: Callable[[Sequence[Any]], Record]
    """The normalized record built from a row selected with ``select_list``."""
    encoders: tuple[tuple[str, Callable[[Any], Any], Any], ...]
    """(column, encoder, default) for every column, in column order: the seeding hot path."""

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.codecs)

    @property
    def has_extra(self) -> bool:
        return "extra" in self.codecs

    def encode(self, column: str, value: Any) -> Any:
        """The stored form of one value; None stays NULL."""
        return None if value is None else self.codecs[column].encode(value)

    def encode_row(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """A record-shaped mapping as a tuple in column order; left-out values take their defaults."""
        get = row.get
        return tuple(
            default if (value := get(name, _ABSENT)) is _ABSENT else None if value is None else encode(value)
            for name, encode, default in self.encoders
        )

    @property
    def select_list(self) -> str:
        return ", ".join(self.columns)

    def ddl(self) -> list[str]:
        """CREATE statements for the table and its indexes."""
        cols = ", ".join(
            f"{name} {codec.sql_type}{' PRIMARY KEY' if name == 'id' else ''}"
            for name, codec in self.codecs.items()
        )
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.name} ({cols})",
            f"CREATE INDEX IF NOT EXISTS {self.name}_updated ON {self.name} (updated_at, id)",
        ]
        for child, column in (pair for pairs in LOOKUPS.values() for pair in pairs):
            if child is self.object_type:
                statements.append(
                    f"CREATE INDEX IF NOT EXISTS {self.name}_{column} ON {self.name} ({column})"
                )
        if self.object_type is ObjectType.TASK:
            statements.append(
                "CREATE UNIQUE INDEX IF NOT EXISTS tasks_external_key ON tasks (external_key)"
            )
        return list(dict.fromkeys(statements))


def _field_defaults(cls: type[Record]) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for f in fields(cls):
        if f.default_factory is not MISSING:
            defaults[f.name] = f.default_factory()
        elif f.default is not MISSING and f.default is not None:
            defaults[f.name] = f.default
    return defaults


def _table(obj: ObjectType) -> Table:
    cls = RECORD_CLASSES[obj]
    hints = typing.get_type_hints(cls)
    names = tuple(f.name for f in fields(cls))
    codecs = {name: _codec_for(hints[name]) for name in names}
    for internal in INTERNAL_COLUMNS[obj]:
        codecs[internal] = TEXT
    defaults = {name: codecs[name].encode(value) for name, value in _field_defaults(cls).items()}
    encoders = tuple((name, codec.encode, defaults.get(name)) for name, codec in codecs.items())
    return Table(obj, TABLES[obj], cls, codecs, defaults, _record_decoder(cls, names, codecs), encoders)


def _record_decoder(cls: type[Record], names: tuple[str, ...], codecs: dict[str, Codec]) -> Callable[..., Record]:
    """A function building a ``cls`` from a stored row, generated so each field costs at most one call.

    A first sync decodes every record of the org: a loop over the fields cost more than the decoding.
    """
    scope: dict[str, Any] = {"cls": cls}
    values = []
    for position, name in enumerate(names):
        if codecs[name] in (TEXT, REAL):
            values.append(f"row[{position}]")
        else:
            scope[f"_{position}"] = codecs[name].decode
            values.append(f"None if (v{position} := row[{position}]) is None else _{position}(v{position})")
    source = f"def decode(row):\n    return cls({', '.join(values)})\n"
    exec(compile(source, f"<decode {cls.__name__}>", "exec"), scope)  # our own source, from field names
    decode: Callable[..., Record] = scope["decode"]
    return decode


SCHEMA: dict[ObjectType, Table] = {obj: _table(obj) for obj in ObjectType}

EXTRA_FIELDS_DDL = (
    "CREATE TABLE IF NOT EXISTS custom_fields (object TEXT, name TEXT, PRIMARY KEY (object, name))"
)
"""The custom fields each object has (the keys of ``extra`` seen when seeding), like a CRM's schema."""

