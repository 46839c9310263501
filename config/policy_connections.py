"""The policy's ``connections:`` block: several CRMs (or client orgs) served by one worker.

Each connection names its CRM kind and where its credentials come from (an environment prefix),
and may override job schedules and its share of the org's daily API allowance. Its mirror,
watermarks and ledger runs are kept apart by its name.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from config.cron import CronExpression

CrmKind = Literal["local", "salesforce", "hubspot"]
ScheduledJob = Literal["sla", "stale", "cadence", "overdue", "gates", "dedupe", "digest"]


class ConnectionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Stable name used in the ledger and status.")
    crm: CrmKind
    env_prefix: str | None = Field(
        None,
        pattern=r"^[A-Z][A-Z0-9_]*_$",
        description="Prefix of this connection's variables: ACME_SF_ reads ACME_SF_ACCESS_TOKEN, "
        "ACME_SF_INSTANCE_URL... (local: ACME_SF_URL). None: the usual SALESFORCE_/HUBSPOT_/WARDEN_ ones.",
    )
    schedules: dict[ScheduledJob, CronExpression] = Field(
        default_factory=dict, description="Job -> cron expression, replacing the rules' own schedules."
    )
    api_share: float | None = Field(
        None, gt=0, le=1, description="Share of the org's daily API calls this connection's runs may spend."
    )
    enabled: bool = True


def _unique_names(connections: tuple[ConnectionPolicy, ...]) -> tuple[ConnectionPolicy, ...]:
    names = [c.name for c in connections]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"connection names must be unique; repeated: {', '.join(repeated)}")
    return connections


Connections = Annotated[tuple[ConnectionPolicy, ...], AfterValidator(_unique_names)]
