"""What an org holds that a policy names: the facts ``warden doctor`` checks and ``warden policy init`` drafts from.

Each CRM package reads these from its metadata APIs (Salesforce describe, ``OpportunityStage``,
``LeadStatus``; HubSpot properties, pipelines, owners and teams); nothing here calls a CRM.
Names are the values records carry (a Salesforce stage's API name, a HubSpot stage's label, a
HubSpot lead status's internal value), so a policy drafted from them matches what rules read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.records import ObjectType


@dataclass(frozen=True)
class StageFacts:
    """One opportunity stage or lead status as the CRM defines it."""

    name: str
    probability: float | None = None
    """Default win probability, percent (opportunity stages only)."""
    closed: bool = False
    won: bool = False


@dataclass(frozen=True)
class PipelineFacts:
    """A HubSpot deal pipeline or a Salesforce sales process, with its stages in order."""

    name: str
    stages: tuple[StageFacts, ...]
    default: bool = False
    """The pipeline deals land in when none is named (HubSpot's first, Salesforce's master process)."""


@dataclass(frozen=True)
class ObjectAccess:
    """What the integration user may do with one kind of record (None: not asked of this CRM)."""

    object_type: ObjectType
    crm_name: str
    """The CRM's name for it: ``Opportunity``, ``deals``."""
    read: bool
    update: bool | None = None
    create: bool | None = None
    merge: bool | None = None


@dataclass(frozen=True)
class TeamFacts:
    """A team the CRM knows (HubSpot teams); members are owner ids."""

    name: str
    member_ids: tuple[str, ...]


@dataclass(frozen=True)
class OrgFacts:
    """The metadata of one org that a policy refers to."""

    crm: str
    pipelines: tuple[PipelineFacts, ...]
    lead_statuses: tuple[StageFacts, ...]
    account_type_field: str
    """The normalized account field whose values say what kind of account it is (``account_type``...)."""
    account_types: Mapping[str, tuple[str, ...]]
    """Normalized account field -> the values the CRM allows for it (``account_type``, ``lifecycle_stage``)."""
    fields: Mapping[ObjectType, frozenset[str]]
    """The CRM's own field (property) names per record type, as the integration user sees them."""
    access: tuple[ObjectAccess, ...]
    teams: tuple[TeamFacts, ...] = ()
    time_zone: str | None = None
    """The org's default time zone (IANA name)."""
    country: str | None = None
    """The org's country (ISO 3166 code), for public holidays."""
    api_version: str | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None
    pipeline_field: str | None = None
    """The CRM field a deal's pipeline is read from when the org has several (``RecordTypeId``); None: built in."""
    notes: tuple[str, ...] = field(default=())
    """What the CRM could not tell (a metadata call the user may not make), one line each."""

    def pipeline(self, name: str | None) -> PipelineFacts | None:
        """The pipeline called ``name`` (None: the default one)."""
        if name is None:
            return next((p for p in self.pipelines if p.default), self.pipelines[0] if self.pipelines else None)
        return next((p for p in self.pipelines if p.name == name), None)
