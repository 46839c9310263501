"""The ``SALESFORCE_*`` settings: how to reach and log in to one org, and how much of its API to spend.

A connection of the policy with ``env_prefix: ACME_SF_`` reads the same names with that prefix.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors._checks import HostOrHttpUrl, HttpUrl

API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
API_VERSION = re.compile(r"[0-9]{1,3}\.[0-9]")


class SalesforceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFORCE_", env_file=".env", extra="ignore")

    instance_url: HostOrHttpUrl | None = None
    access_token: SecretStr | None = None
    login_url: HttpUrl = "https://login.salesforce.com"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    private_key_file: Path | None = None
    api_version: str = Field("59.0", description="REST/SOAP API version, e.g. 59.0.")
    task_key_field: str = Field(
        "Warden_Key__c", description="Task External ID field that holds each created task's idempotency key."
    )
    api_share: float = Field(
        0.5, gt=0, le=1, description="Stop a run before the org has used more than this share of its daily API calls."
    )
    bulk_threshold: int = Field(
        100_000, ge=0, description="First syncs of objects with at least this many records use Bulk API 2.0 (0: never)."
    )

    @field_validator("task_key_field")
    @classmethod
    def _api_name(cls, value: str) -> str:
        """The field goes into SOQL as it is: only an API name (``Warden_Key__c``) may."""
        if not API_NAME.fullmatch(value):
            raise ValueError("should be a field's API name: letters, digits and underscores, e.g. Warden_Key__c")
        return value

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        """The version goes into every request path: ``59.0``, never anything else."""
        if not API_VERSION.fullmatch(value):
            raise ValueError("should be an API version such as 59.0")
        return value
