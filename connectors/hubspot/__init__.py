"""HubSpot, through hubspot-api-client (CRM v3 objects, v4 associations, search, batch, merge).

Its public face is below; the ``_``-prefixed modules are its internals. It may import ``domain``
and ``connectors._retry`` only, never another CRM's package.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.hubspot._connector import HubSpotConnector
from connectors.hubspot.exports import ACCOUNT_COLUMNS
from connectors.hubspot.links import HubSpotLinks
from connectors.hubspot.settings import HubSpotSettings
from domain.connector import NoLinks, RecordLinks
from domain.records import ObjectType

__all__ = ["ACCOUNT_COLUMNS", "HubSpotConnector", "HubSpotLinks", "HubSpotSettings", "links", "open_connector"]


def open_connector(settings: HubSpotSettings, fields: Mapping[ObjectType, Mapping[str, str]]) -> HubSpotConnector:
    """The portal the settings name; ``fields`` maps normalized names to the portal's own (custom) properties."""
    return HubSpotConnector.from_settings(settings, custom_properties=fields)


def links(settings: HubSpotSettings) -> RecordLinks:
    """App links into the settings' portal; record ids only when no portal id is set."""
    return HubSpotLinks(settings.portal_id) if settings.portal_id else NoLinks()
