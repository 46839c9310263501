"""The CRM kinds a connection can name, and what each CRM's package provides: settings, connector, links.

This table is the one place that knows all three packages; each package knows only itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_settings import BaseSettings

from connectors import hubspot, local, salesforce
from domain.connector import Connector, RecordLinks
from domain.records import ObjectType

FieldMap = Mapping[ObjectType, Mapping[str, str]]
"""Per record type, a normalized field name -> the CRM's own field or property name."""


@dataclass(frozen=True)
class CrmKind:
    settings: type[BaseSettings]
    """The settings section; a connection with ``env_prefix`` reads it under that prefix."""
    open: Callable[[Any, FieldMap], Connector]
    links: Callable[[Any], RecordLinks]
    required_with_prefix: tuple[str, ...] = ()
    """Settings a prefixed connection must set (it has no default location to fall back on)."""


KINDS: dict[str, CrmKind] = {
    "local": CrmKind(local.LocalCrmSettings, local.open_connector, local.links, required_with_prefix=("url",)),
    "salesforce": CrmKind(salesforce.SalesforceSettings, salesforce.open_connector, salesforce.links),
    "hubspot": CrmKind(hubspot.HubSpotSettings, hubspot.open_connector, hubspot.links),
}

ACCOUNT_EXPORTS: dict[str, Mapping[str, tuple[str, ...]]] = {
    "hubspot": hubspot.ACCOUNT_COLUMNS,
    "salesforce": salesforce.ACCOUNT_COLUMNS,
}
"""Each CRM's account export columns, in the order a file's layout is tried."""
