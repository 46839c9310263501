"""The ``SALESFORCE_*`` settings: how to reach and log in to one org, and how much of its API to spend.

A connection of the policy with ``env_prefix: ACME_SF_`` reads the same names with that prefix.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SalesforceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFORCE_", env_file=".env", extra="ignore")

    instance_url: str | None = None
    access_token: SecretStr | None = None
    login_url: str = "https://login.salesforce.com"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    private_key_file: Path | None = None
    api_version: str = "59.0"
    task_key_field: str = Field(
        "Warden_Key__c", description="Task External ID field that holds each created task's idempotency key."
    )
    api_share: float = Field(
        0.5, gt=0, le=1, description="Stop a run before the org has used more than this share of its daily API calls."
    )
    bulk_threshold: int = Field(
        100_000, ge=0, description="First syncs of objects with at least this many records use Bulk API 2.0 (0: never)."
    )
