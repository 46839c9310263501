"""Salesforce, through simple-salesforce (REST, Bulk API 2.0) and the SOAP API (merge, undelete).

Its public face is below; the ``_``-prefixed modules are its internals. It may import ``domain``
and ``connectors._retry`` only, never another CRM's package.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.salesforce._connector import SalesforceConnector
from connectors.salesforce.exports import ACCOUNT_COLUMNS
from connectors.salesforce.links import SalesforceLinks
from connectors.salesforce.settings import SalesforceSettings
from domain.connector import NoLinks, RecordLinks
from domain.records import ObjectType

__all__ = ["ACCOUNT_COLUMNS", "SalesforceConnector", "SalesforceLinks", "SalesforceSettings", "links", "open_connector"]


def open_connector(settings: SalesforceSettings, fields: Mapping[ObjectType, Mapping[str, str]]) -> SalesforceConnector:
    """The org the settings name; ``fields`` maps normalized names to the org's own (custom) fields."""
    return SalesforceConnector.from_settings(settings, fields=fields)


def links(settings: SalesforceSettings) -> RecordLinks:
    """Lightning links on the settings' instance; record ids only when no instance URL is set."""
    return SalesforceLinks(settings.instance_url) if settings.instance_url else NoLinks()
