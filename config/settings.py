"""Settings from the environment and ``.env``: where the data lives, how to reach each CRM, how to send mail.

Read once at the entry point (:func:`load_settings`) and passed down; no module reads the environment
itself. Every value is checked there, so a bad one stops the command at start with one line per
variable naming it, never halfway through a run. Secrets are ``SecretStr`` so that they print as
``**********`` in logs and reprs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from connectors.hubspot.settings import HubSpotSettings
from connectors.kinds import KINDS
from connectors.local.settings import LocalCrmSettings
from connectors.salesforce.settings import SalesforceSettings
from domain.secrets import mask_url_secrets

PACKAGED_POLICY = Path(__file__).with_name("policy.yaml")
DATABASE_DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}
"""The databases CRM Warden supports and the driver each is installed with (the first is the default)."""
_HEADER_UNSAFE = frozenset("\r\n\x00")


class SettingsError(ValueError):
    """Settings that cannot be used; ``problems`` holds one line per bad variable, naming it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMTP_", env_file=".env", extra="ignore")

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    security: Literal["none", "starttls", "ssl"] = "none"
    sender: str = "crm-warden@localhost"

    @field_validator("sender")
    @classmethod
    def _one_address(cls, value: str) -> str:
        """The sender goes into the From header: one address, no line break that could start another header."""
        if any(c in _HEADER_UNSAFE for c in value):
            raise ValueError("contains a line break: give one address, e.g. warden@example.com")
        local, at, domain = value.partition("@")
        if not (local and at and domain) or any(c.isspace() or c in "<>@,;\"" for c in local + domain):
            raise ValueError("should be an email address, e.g. warden@example.com")
        return value


class Settings(BaseSettings):
    """Top-level settings; every variable is prefixed ``WARDEN_`` except the CRM sections and ``DATABASE_URL``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///.warden/warden.db", validation_alias=AliasChoices("WARDEN_DATABASE_URL", "DATABASE_URL")
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
        None, ge=1, le=65535, validation_alias=AliasChoices("WARDEN_METRICS_PORT"),
        description="Serve /healthz and Prometheus /metrics from the worker on this port (none: off).",
    )
    celery_broker_url: str = Field(
        "redis://127.0.0.1:6379/0", validation_alias=AliasChoices("WARDEN_CELERY_BROKER_URL")
    )
    apply: bool = Field(
        False, validation_alias=AliasChoices("WARDEN_APPLY", "WARDEN_CELERY_APPLY"),
        description="The scheduled workers (`warden worker`, Celery tasks) change the CRMs, as with "
                    "`warden worker --apply`; default: dry runs. WARDEN_CELERY_APPLY is its older name.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return database_url(value)

    @field_validator("crm")
    @classmethod
    def _known_crm(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown CRM: use one of {', '.join(KINDS)}")
        return value

    @field_validator("celery_broker_url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("should be a broker URL such as redis://127.0.0.1:6379/0")
        return value

    def policy_path(self) -> Path:
        """The policy file to load: the configured one, or the packaged example when it is absent."""
        if self.policy == Path("config/policy.yaml") and not self.policy.exists():
            return PACKAGED_POLICY
        return self.policy


def database_url(value: str) -> str:
    """``value`` as SQLAlchemy should open it; ``postgres://`` (Heroku) and ``postgresql://`` mean psycopg 3.

    Raises:
        ValueError: not a URL, or a database or driver CRM Warden does not install.
    """
    example = "write sqlite:///path/to/warden.db or postgresql://user:password@host:5432/database"
    try:
        url = make_url(value.strip())
    except ArgumentError:
        raise ValueError(f"not a database URL: {example}") from None
    except ValueError:  # SQLAlchemy reads the port with int()
        raise ValueError(f"not a database URL, its port is not a number: {example}") from None
    backend = "postgresql" if url.get_backend_name() == "postgres" else url.get_backend_name()
    if backend not in DATABASE_DRIVERS:
        raise ValueError(f"{backend!r} is not a database CRM Warden supports: use sqlite or postgresql")
    drivers = DATABASE_DRIVERS[backend]
    driver = url.get_driver_name() if "+" in url.drivername else drivers[0]
    if driver not in drivers:
        raise ValueError(f"driver {driver!r} is not installed: write {backend}://... ({backend}+{drivers[0]})")
    drivername = "sqlite" if backend == "sqlite" else f"{backend}+{driver}"
    if drivername == url.drivername:
        return value.strip()
    return url.set(drivername=drivername).render_as_string(hide_password=False)


_SECTIONS: dict[str, type[BaseSettings]] = {
    "local": LocalCrmSettings, "salesforce": SalesforceSettings, "hubspot": HubSpotSettings, "smtp": SmtpSettings,
}


def load_settings() -> Settings:
    """Read every setting; a ``SettingsError`` lists each bad variable at once, one line each."""
    problems: list[str] = []
    sections: dict[str, Any] = {}
    for name, section in _SECTIONS.items():
        try:
            sections[name] = section()
        except ValidationError as exc:
            problems += settings_problems(exc, str(section.model_config.get("env_prefix", "")))
            sections[name] = section.model_construct()
    try:
        settings = Settings(**sections)
    except ValidationError as exc:
        problems += settings_problems(exc, "")
    if problems:
        raise SettingsError(problems)
    return settings


def _given_alias(variable: str) -> str:
    """The variable the value came from, for a setting read from the first of several (``DATABASE_URL``)."""
    for field in Settings.model_fields.values():
        choices = field.validation_alias.choices if isinstance(field.validation_alias, AliasChoices) else []
        if variable in choices:
            return next((str(c) for c in choices if str(c) in os.environ), variable)
    return variable


def settings_problems(exc: ValidationError, prefix: str) -> list[str]:
    """One line per bad variable: its name (``prefix`` + field), what is wrong, and the value unless secret."""
    problems = []
    for error in exc.errors():
        variable = _given_alias(prefix + "_".join(str(part) for part in error["loc"]).upper())
        message = str(error["msg"]).removeprefix("Value error, ")
        given = error.get("input")
        secret = any(word in variable for word in ("TOKEN", "SECRET", "PASSWORD"))
        shown = f" (got {mask_url_secrets(repr(given))})" if isinstance(given, str) and not secret else ""
        problems.append(mask_url_secrets(f"{variable}: {message}{shown}"))
    return problems
