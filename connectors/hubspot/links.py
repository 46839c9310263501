"""Links to HubSpot records: the app's record pages in the portal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from domain.records import ObjectType

OBJECT_TYPE_IDS: Mapping[ObjectType, str] = {
    ObjectType.CONTACT: "0-1",
    ObjectType.ACCOUNT: "0-2",
    ObjectType.OPPORTUNITY: "0-3",
    ObjectType.TASK: "0-27",
    ObjectType.NOTE: "0-46",
    ObjectType.LEAD: "0-1",
}
"""HubSpot's objectTypeId per normalized type; leads are contacts, as the connector reads them by default."""
LEADS_OBJECT_TYPE_ID = "0-136"
"""The objectTypeId of HubSpot's Leads object, for portals whose connector reads leads from it."""


@dataclass(frozen=True)
class HubSpotLinks:
    """App record pages: ``https://app.hubspot.com/contacts/<portal>/record/<objectTypeId>/<id>``."""

    portal: str
    """The portal (hub) id."""
    leads: Literal["contacts", "leads_object"] = "contacts"
    """Where the connector reads leads from, as in ``HubSpotConnector(leads=...)``."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        type_id = OBJECT_TYPE_IDS.get(object_type)
        if object_type is ObjectType.LEAD and self.leads == "leads_object":
            type_id = LEADS_OBJECT_TYPE_ID
        if type_id is None:
            return None
        portal, record = quote(self.portal, safe=""), quote(record_id, safe="")
        return f"https://app.hubspot.com/contacts/{portal}/record/{type_id}/{record}"
