"""Open the connector a run asks for, from settings."""

from __future__ import annotations

from collections.abc import Callable

from config.settings import Settings
from connectors.base import Connector
from connectors.hubspot import HubSpotConnector
from connectors.local import LocalCRM
from connectors.salesforce import SalesforceConnector


class UnknownCrm(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown CRM {name!r}: use one of {', '.join(FACTORIES)} (--crm or WARDEN_CRM)")


def _local(settings: Settings) -> Connector:
    return LocalCRM.from_url(settings.local_crm_url)


def _salesforce(settings: Settings) -> Connector:
    return SalesforceConnector.from_settings(settings.salesforce)


def _hubspot(settings: Settings) -> Connector:
    return HubSpotConnector.from_settings(settings.hubspot)


FACTORIES: dict[str, Callable[[Settings], Connector]] = {
    "local": _local,
    "salesforce": _salesforce,
    "hubspot": _hubspot,
}


def open_connector(settings: Settings, crm: str) -> Connector:
    """The connector for ``crm``; a missing credential raises an error naming its variable."""
    try:
        factory = FACTORIES[crm]
    except KeyError:
        raise UnknownCrm(crm) from None
    return factory(settings)
