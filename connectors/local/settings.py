"""Where the embedded CRM keeps its SQLite file: ``WARDEN_LOCAL_CRM_URL``, or ``<prefix>URL`` for a connection."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class LocalCrmSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARDEN_LOCAL_CRM_", env_file=".env", extra="ignore")

    url: str = "sqlite:///.warden/local_crm.db"
    view_url: str | None = None
    """Where its record view (``connectors.local.write_record_view``) is served; digests link into it."""
