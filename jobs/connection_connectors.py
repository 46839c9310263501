"""Open the connector of one policy connection, with that connection's own credentials and budget.

A connection without ``env_prefix`` uses the usual settings (``SALESFORCE_*``, ``HUBSPOT_*``,
``WARDEN_LOCAL_CRM_URL``); with a prefix such as ``ACME_SF_`` its CRM section is read from
``ACME_SF_*`` instead (the local CRM from ``ACME_SF_URL``).
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.connections import ConnectionPolicy
from config.policy import FieldMaps
from config.settings import HubSpotSettings, SalesforceSettings, Settings
from domain.connector import Connector
from jobs.connections import open_connector


class ConnectionSettingsError(ValueError):
    """A connection's credential variables are missing or malformed."""


class LocalCrmSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    url: str


def connection_settings(settings: Settings, connection: ConnectionPolicy) -> Settings:
    """``settings`` with the connection's CRM section read from its prefix and its API share applied."""
    prefix = connection.env_prefix
    try:
        if connection.crm == "salesforce":
            section = SalesforceSettings(_env_prefix=prefix) if prefix else settings.salesforce
            if connection.api_share is not None:
                section = section.model_copy(update={"api_share": connection.api_share})
            return settings.model_copy(update={"salesforce": section})
        if connection.crm == "hubspot" and prefix:
            return settings.model_copy(update={"hubspot": HubSpotSettings(_env_prefix=prefix)})
        if connection.crm == "local" and prefix:
            url = LocalCrmSettings(_env_prefix=prefix).url
            return settings.model_copy(update={"local_crm_url": url})
    except ValidationError as exc:
        raise ConnectionSettingsError(
            f"connection {connection.name!r}: variables with prefix {prefix} are wrong or missing: "
            + "; ".join(f"{prefix}{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        ) from None
    return settings


def open_connection(settings: Settings, connection: ConnectionPolicy, fields: FieldMaps | None = None) -> Connector:
    """The connector for ``connection``; a missing credential raises an error naming its variable."""
    return open_connector(connection_settings(settings, connection), connection.crm, fields)
