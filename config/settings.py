"""Settings from the environment and ``.env``: where the data lives, how to reach each CRM, how to send mail.

Read once at the entry point (the CLI) and passed down; no module reads the environment itself.
Secrets are ``SecretStr`` so that they print as ``**********`` in logs and reprs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.hubspot.settings import HubSpotSettings
from connectors.local.settings import LocalCrmSettings
from connectors.salesforce.settings import SalesforceSettings

PACKAGED_POLICY = Path(__file__).with_name("policy.yaml")


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMTP_", env_file=".env", extra="ignore")

    host: str = "localhost"
    port: int = 25
    username: str | None = None
    password: SecretStr | None = None
    security: str = Field("none", pattern="^(none|starttls|ssl)$")
    sender: str = "crm-warden@localhost"


class Settings(BaseSettings):
    """Top-level settings; every variable is prefixed ``WARDEN_`` except the CRM sections."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///.warden/warden.db", validation_alias=AliasChoices("WARDEN_DATABASE_URL")
    )
    policy: Path = Field(
        Path("config/policy.yaml"), validation_alias=AliasChoices("WARDEN_POLICY")
    )
    crm: str = Field("local", validation_alias=AliasChoices("WARDEN_CRM"))
    local: LocalCrmSettings = Field(default_factory=LocalCrmSettings)
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
