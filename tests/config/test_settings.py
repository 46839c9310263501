"""Settings are validated once, at start, and every problem names its environment variable."""

from __future__ import annotations

import pytest

from config.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WARDEN_DATABASE_URL", "DATABASE_URL", "SMTP_PORT", "WARDEN_METRICS_PORT", "HUBSPOT_BURST_LIMIT"):
        monkeypatch.delenv(name, raising=False)


def test_every_bad_variable_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three mistakes in three sections: three lines, each starting with its variable."""
    monkeypatch.setenv("SMTP_PORT", "abc")
    monkeypatch.setenv("WARDEN_METRICS_PORT", "-5")
    monkeypatch.setenv("HUBSPOT_BURST_LIMIT", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert sorted(p.split(":")[0] for p in caught.value.problems) == [
        "HUBSPOT_BURST_LIMIT", "SMTP_PORT", "WARDEN_METRICS_PORT"]


@pytest.mark.parametrize(("given", "used"), [
    ("postgres://u:p@db.example.com:5432/warden", "postgresql+psycopg://u:p@db.example.com:5432/warden"),
    ("postgresql://u@db/warden?sslmode=require", "postgresql+psycopg://u@db/warden?sslmode=require"),
    ("postgresql+psycopg://u@db/warden", "postgresql+psycopg://u@db/warden"),
    ("sqlite:///.warden/warden.db", "sqlite:///.warden/warden.db"),
])
def test_postgres_urls_use_the_installed_driver(monkeypatch: pytest.MonkeyPatch, given: str, used: str) -> None:
    """Heroku's postgres:// and a bare postgresql:// both mean psycopg 3, the driver CRM Warden installs."""
    monkeypatch.setenv("WARDEN_DATABASE_URL", given)
    assert load_settings().database_url == used


def test_warden_database_url_wins_over_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_URL is the fallback, so a platform's variable never overrides the explicit one."""
    monkeypatch.setenv("DATABASE_URL", "sqlite:///platform.db")
    assert load_settings().database_url == "sqlite:///platform.db"
    monkeypatch.setenv("WARDEN_DATABASE_URL", "sqlite:///mine.db")
    assert load_settings().database_url == "sqlite:///mine.db"
