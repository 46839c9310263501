"""The CRM kinds a connection can name, and what each CRM's package provides: settings, connector, links.

This table is the one place that knows all three packages; each package knows only itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_settings import BaseSettings

from connectors import hubspot, salesforce
from connectors.hubspot import HubSpotConnector, HubSpotLinks, HubSpotSettings
from connectors.local import LocalCRM, LocalCrmSettings, LocalLinks
from connectors.salesforce import SalesforceConnector, SalesforceSettings, salesforce_links
from domain.connector import Connector, NoLinks, RecordLinks
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
    "local": CrmKind(
        LocalCrmSettings,
        open=lambda s, fields: LocalCRM.from_url(s.url),  # it stores custom fields by their own names
        links=lambda s: LocalLinks(s.view_url) if s.view_url else NoLinks(),
        required_with_prefix=("url",),
    ),
    "salesforce": CrmKind(
        SalesforceSettings,
        open=lambda s, fields: SalesforceConnector.from_settings(s, fields=fields),
        links=salesforce_links,
    ),
    "hubspot": CrmKind(
        HubSpotSettings,
        open=lambda s, fields: HubSpotConnector.from_settings(s, custom_properties=fields),
        links=lambda s: HubSpotLinks(s.portal_id) if s.portal_id else NoLinks(),
    ),
}
"""Without the CRM's address (instance URL or an OAuth login, portal id, record view) digest items are not links."""

ACCOUNT_EXPORTS: dict[str, Mapping[str, tuple[str, ...]]] = {
    "hubspot": hubspot.ACCOUNT_COLUMNS,
    "salesforce": salesforce.ACCOUNT_COLUMNS,
}
"""Each CRM's account export columns, in the order a file's layout is tried."""
