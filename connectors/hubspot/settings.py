"""The ``HUBSPOT_*`` settings: how to reach and authenticate to one portal, and its rate limit.

A connection of the policy with ``env_prefix: ACME_HS_`` reads the same names with that prefix.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors._checks import HttpUrl


class HubSpotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUBSPOT_", env_file=".env", extra="ignore")

    access_token: SecretStr | None = None
    api_base: HttpUrl = "https://api.hubapi.com"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    burst_limit: int = Field(100, gt=0, description="Requests per 10 seconds the portal allows.")
    portal_id: str | None = Field(None, description="The portal (hub) id, for links from digests to records.")
    archive_sweep_minutes: float = Field(60, ge=0, description="How often a sync reads the archived (deleted) "
                                         "records; 0: every sync.")

    @field_validator("portal_id")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        """The id goes into every record link: digits only."""
        if value is not None and not (value.isascii() and value.isdigit()):
            raise ValueError("should be the portal's id: digits only, e.g. 4711")
        return value
