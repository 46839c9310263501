"""Where a merge plan was made: which CRM (and which org or portal of it), or which export file.

A plan names records by their ids in one CRM; applied to another CRM those ids mean other records,
or nothing. The plan carries its source, and apply refuses a CRM that is not it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class PlanSource:
    crm: str
    """The CRM kind: local, salesforce or hubspot."""
    org: str | None = None
    """The org (Salesforce instance), portal (HubSpot) or database (embedded CRM), when known."""
    file: str | None = None
    """The account export planned on, for a plan made with ``--from-csv``."""

    def describe(self) -> str:
        where = f"the {self.crm} export {self.file}" if self.file else f"{self.crm}"
        return f"{where} ({self.org})" if self.org else where

    def cell(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    def mismatch(self, crm: str, org: str | None) -> str | None:
        """Why a plan from here cannot be applied to ``crm`` (at ``org``); ``None`` when it can."""
        if crm != self.crm or (self.org is not None and org is not None and org != self.org):
            here = f"{crm} ({org})" if org else crm
            return f"it was planned on {self.describe()}, not on {here}: apply it there, or plan again on {crm}"
        return None


def source_from(value: object) -> PlanSource | None:
    """A source as written by ``PlanSource.cell`` (or as an object in a JSON plan); ``None`` when not one."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError:
            return None
    if not isinstance(value, dict) or not isinstance(value.get("crm"), str):
        return None
    text = {k: v if isinstance(v, str) else None for k, v in value.items() if k in ("org", "file")}
    return PlanSource(value["crm"], **text)
