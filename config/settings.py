"""Settings from the environment and ``.env``: where the data lives and how to reach each CRM.

Read once at the entry point (the CLI) and passed down; no module reads the environment itself.
Secrets are ``SecretStr`` so that they print as ``**********`` in logs and reprs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_POLICY = Path(__file__).with_name("policy.yaml")


class _Section(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")


class SalesforceSettings(_Section):
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


class HubSpotSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="HUBSPOT_", env_file=".env", extra="ignore")

    access_token: SecretStr | None = None
    api_base: str = "https://api.hubapi.com"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    burst_limit: int = Field(100, gt=0, description="Requests per 10 seconds the portal allows.")
    portal_id: str | None = Field(None, description="The portal (hub) id, for links from digests to records.")


class SmtpSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SMTP_", env_file=".env", extra="ignore")

    host: str = "localhost"
    port: int = 25
    username: str | None = None
    password: SecretStr | None = None
    security: str = Field("none", pattern="^(none|starttls|ssl)$")
    sender: str = "crm-warden@localhost"


class Settings(_Section):
    """Top-level settings; every variable is prefixed ``WARDEN_`` except the CRM sections."""

    database_url: str = Field(
        "sqlite:///.warden/warden.db", validation_alias=AliasChoices("WARDEN_DATABASE_URL")
    )
    policy: Path = Field(
        Path("config/policy.yaml"), validation_alias=AliasChoices("WARDEN_POLICY")
    )
    crm: str = Field("local", validation_alias=AliasChoices("WARDEN_CRM"))
    local_crm_url: str = Field(
        "sqlite:///.warden/local_crm.db", validation_alias=AliasChoices("WARDEN_LOCAL_CRM_URL")
    )
    salesforce: SalesforceSettings = Field(default_factory=SalesforceSettings)
    hubspot: HubSpotSettings = Field(default_factory=HubSpotSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    metrics_port: int | None = Field(
        None, validation_alias=AliasChoices("WARDEN_METRICS_PORT"),
        description="Serve /healthz and Prometheus /metrics from the worker on this port (none: off).",
    )
    celery_broker_url: str = Field(
        "redis://127.0.0.1:6379/0", validation_alias=AliasChoices("WARDEN_CELERY_BROKER_URL")
    )
    celery_apply: bool = Field(
        False, validation_alias=AliasChoices("WARDEN_CELERY_APPLY"),
        description="Celery tasks change the CRMs (like `warden worker --apply`); default: dry runs.",
    )

    def policy_path(self) -> Path:
        """The policy file to load: the configured one, or the packaged example when it is absent."""
        if self.policy == Path("config/policy.yaml") and not self.policy.exists():
            return PACKAGED_POLICY
        return self.policy
