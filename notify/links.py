"""Links from a digest item to the record in its CRM, so a manager is one click from fixing it.

The link base (Salesforce instance, HubSpot portal) is a parameter of the digest run, never read
from global settings, so a digest of one connection cannot point into another's CRM.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import quote, urlsplit

from domain.records import ObjectType


class RecordLinks(Protocol):
    """Turns a record into the URL that opens it in its CRM (None: the CRM has no web page for it)."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        """The address of one record's page."""
        ...


SALESFORCE_OBJECTS: Mapping[ObjectType, str] = {
    ObjectType.ACCOUNT: "Account",
    ObjectType.CONTACT: "Contact",
    ObjectType.LEAD: "Lead",
    ObjectType.OPPORTUNITY: "Opportunity",
    ObjectType.TASK: "Task",
    ObjectType.NOTE: "Note",
    ObjectType.OWNER: "User",
}

HUBSPOT_OBJECT_TYPE_IDS: Mapping[ObjectType, str] = {
    ObjectType.CONTACT: "0-1",
    ObjectType.ACCOUNT: "0-2",
    ObjectType.OPPORTUNITY: "0-3",
    ObjectType.TASK: "0-27",
    ObjectType.NOTE: "0-46",
    ObjectType.LEAD: "0-1",
}
"""HubSpot's objectTypeId per normalized type; leads are contacts, as the connector reads them by default."""
HUBSPOT_LEADS_OBJECT = "0-136"
"""The objectTypeId of HubSpot's Leads object, for portals whose connector reads leads from it."""


@dataclass(frozen=True)
class SalesforceLinks:
    """Lightning record pages: ``https://<instance>/lightning/r/<Object>/<id>/view``."""

    instance: str
    """The org's host, with or without ``https://`` (e.g. ``acme.my.salesforce.com``)."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        host = urlsplit(self.instance).netloc or self.instance.strip("/")
        return f"https://{host}/lightning/r/{SALESFORCE_OBJECTS[object_type]}/{quote(record_id, safe='')}/view"


@dataclass(frozen=True)
class HubSpotLinks:
    """App record pages: ``https://app.hubspot.com/contacts/<portal>/record/<objectTypeId>/<id>``."""

    portal: str
    """The portal (hub) id."""
    leads: Literal["contacts", "leads_object"] = "contacts"
    """Where the connector reads leads from, as in ``HubSpotConnector(leads=...)``."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        type_id = HUBSPOT_OBJECT_TYPE_IDS.get(object_type)
        if object_type is ObjectType.LEAD and self.leads == "leads_object":
            type_id = HUBSPOT_LEADS_OBJECT
        if type_id is None:
            return None
        portal, record = quote(self.portal, safe=""), quote(record_id, safe="")
        return f"https://app.hubspot.com/contacts/{portal}/record/{type_id}/{record}"


@dataclass(frozen=True)
class LocalLinks:
    """The embedded CRM has no web pages: items show the record's local id instead of a link."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        return None


def links_for(crm: str, *, salesforce_instance: str | None = None, hubspot_portal: str | None = None) -> RecordLinks:
    """The record links of a connection's CRM kind (``local``, ``salesforce`` or ``hubspot``).

    Without the CRM's base (the Salesforce instance, the HubSpot portal id) items show record ids.
    """
    if crm == "salesforce" and salesforce_instance:
        return SalesforceLinks(salesforce_instance)
    if crm == "hubspot" and hubspot_portal:
        return HubSpotLinks(hubspot_portal)
    return LocalLinks()
