"""HubSpot, through hubspot-api-client (CRM v3 objects, v4 associations, search, batch, merge).

Its public face is below; the ``_``-prefixed modules are its internals. It may import ``domain``
and ``connectors._retry`` only, never another CRM's package.
"""

from connectors.hubspot._connector import HubSpotConnector
from connectors.hubspot.exports import ACCOUNT_COLUMNS
from connectors.hubspot.links import HubSpotLinks
from connectors.hubspot.settings import HubSpotSettings

__all__ = ["ACCOUNT_COLUMNS", "HubSpotConnector", "HubSpotLinks", "HubSpotSettings"]

