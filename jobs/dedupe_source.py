"""Which CRM a dedupe plan is made on or applied to: its kind and the org, portal or database it names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from config.settings import Settings
from connectors.kinds import ACCOUNT_EXPORTS
from dedupe.export_text import read_table
from dedupe.plan_source import PlanSource


def crm_identity(settings: Settings, crm: str) -> str | None:
    """The org (Salesforce instance host) or portal (HubSpot) the settings name; ``None`` when unknown.

    The embedded CRM has none: its database file is copied and moved (a test org, a backup) and stays
    the same CRM.
    """
    if crm == "salesforce" and settings.salesforce.instance_url:
        instance = str(settings.salesforce.instance_url)
        return urlsplit(instance).netloc or instance.strip("/")
    if crm == "hubspot":
        return settings.hubspot.portal_id
    return None


def export_crm(path: Path, encoding: str | None = None) -> str | None:
    """Which CRM wrote an account export, told by its columns (read as ``dedupe.exports`` reads them)."""
    header = {name.strip().lower() for name in read_table(path, encoding).header}
    for crm, layout in ACCOUNT_EXPORTS.items():
        if all(any(name.lower() in header for name in layout[field]) for field in ("id", "name")):
            return crm
    return None


def plan_source(settings: Settings, crm: str, from_csv: Path | None, encoding: str | None = None) -> PlanSource:
    """Where a plan is being made: the export (and the CRM that wrote it), or the connected CRM."""
    if from_csv is not None:
        return PlanSource(export_crm(from_csv, encoding) or crm, file=from_csv.name)
    return PlanSource(crm, org=crm_identity(settings, crm))
