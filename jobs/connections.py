"""Open the connector a run asks for, from settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from config.policy import FieldMaps
from config.settings import Settings
from connectors.hubspot._connector import HubSpotConnector
from connectors.local._connector import LocalCRM
from connectors.salesforce._connector import SalesforceConnector
from domain.connector import Connector
from domain.records import ObjectType


class UnknownCrm(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown CRM {name!r}: use one of {', '.join(FACTORIES)} (--crm or WARDEN_CRM)")


FieldMap = Mapping[ObjectType, Mapping[str, str]]


def _local(settings: Settings, fields: FieldMap) -> Connector:
    return LocalCRM.from_url(settings.local_crm_url)  # the embedded CRM stores custom fields by their own names


def _salesforce(settings: Settings, fields: FieldMap) -> Connector:
    return SalesforceConnector.from_settings(settings.salesforce, fields=fields)


def _hubspot(settings: Settings, fields: FieldMap) -> Connector:
    return HubSpotConnector.from_settings(settings.hubspot, custom_properties=fields)


FACTORIES: dict[str, Callable[[Settings, FieldMap], Connector]] = {
    "local": _local,
    "salesforce": _salesforce,
    "hubspot": _hubspot,
}


def open_connector(settings: Settings, crm: str, fields: FieldMaps | None = None) -> Connector:
    """The connector for ``crm`` with the policy's custom fields; a missing credential names its variable."""
    try:
        factory = FACTORIES[crm]
    except KeyError:
        raise UnknownCrm(crm) from None
    maps = getattr(fields, crm, {}) if fields is not None else {}
    return factory(settings, {ObjectType(obj): dict(names) for obj, names in maps.items()})
