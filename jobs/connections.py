"""Open the connector of a CRM connection, with that connection's own settings, budget and record links.

A connection without ``env_prefix`` uses the usual settings (``SALESFORCE_*``, ``HUBSPOT_*``,
``WARDEN_LOCAL_CRM_URL``); with a prefix such as ``ACME_SF_`` its CRM section is read from
``ACME_SF_*`` instead (the local CRM from ``ACME_SF_URL``).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from config.policy import FieldMaps
from config.policy_connections import ConnectionPolicy
from config.settings import Settings, settings_problems
from connectors.kinds import KINDS, CrmKind
from domain.connector import Connector, RecordLinks
from domain.records import ObjectType


class UnknownCrm(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown CRM {name!r}: use one of {', '.join(KINDS)} (--crm or WARDEN_CRM)")


class ConnectionSettingsError(ValueError):
    """A connection's credential variables are missing or malformed."""


def _kind(crm: str) -> CrmKind:
    try:
        return KINDS[crm]
    except KeyError:
        raise UnknownCrm(crm) from None


def crm_settings(settings: Settings, connection: ConnectionPolicy) -> BaseSettings:
    """The connection's CRM section: read from its prefix, with its API share applied."""
    kind, prefix = _kind(connection.crm), connection.env_prefix
    try:
        section: BaseSettings = kind.settings(_env_prefix=prefix) if prefix else getattr(settings, connection.crm)
    except ValidationError as exc:
        raise ConnectionSettingsError(
            f"connection {connection.name!r}: variables with prefix {prefix} are wrong or missing: "
            + "; ".join(settings_problems(exc, prefix or ""))
        ) from None
    missing = [name for name in kind.required_with_prefix if prefix and name not in section.model_fields_set]
    if missing:
        raise ConnectionSettingsError(
            f"connection {connection.name!r}: variables with prefix {prefix} are wrong or missing: "
            + "; ".join(f"{prefix}{name.upper()}: Field required" for name in missing)
        )
    if connection.api_share is not None and "api_share" in type(section).model_fields:
        section = section.model_copy(update={"api_share": connection.api_share})
    return section


def check_connections(settings: Settings, connections: Iterable[ConnectionPolicy]) -> None:
    """Read every connection's CRM settings now, so a malformed or missing variable is found at start.

    Raises:
        ConnectionSettingsError: the first connection whose variables are wrong or missing.
    """
    for connection in connections:
        crm_settings(settings, connection)


def open_connector(settings: Settings, crm: str, fields: FieldMaps | None = None) -> Connector:
    """The connector for the CRM kind ``crm`` with the usual settings; a missing credential names its variable."""
    return _open(_kind(crm), getattr(settings, crm), crm, fields)


def open_connection(settings: Settings, connection: ConnectionPolicy, fields: FieldMaps | None = None) -> Connector:
    """The connector for ``connection``; a missing credential raises an error naming its variable."""
    return _open(_kind(connection.crm), crm_settings(settings, connection), connection.crm, fields)


def record_links(settings: Settings, crm: str) -> RecordLinks:
    """Links from a digest item to the record in the CRM kind ``crm``, with the usual settings."""
    return _kind(crm).links(getattr(settings, crm))


def connection_links(settings: Settings, connection: ConnectionPolicy) -> RecordLinks:
    """Links from a digest item to the record in the connection's CRM, from its own settings."""
    return _kind(connection.crm).links(crm_settings(settings, connection))


def _open(kind: CrmKind, section: BaseSettings, crm: str, fields: FieldMaps | None) -> Connector:
    maps = getattr(fields, crm, {}) if fields is not None else {}
    return kind.open(section, {ObjectType(obj): dict(names) for obj, names in maps.items()})
