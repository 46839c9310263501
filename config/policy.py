"""The policy file's schema: a company's sales process, as typed data.

Every block forbids unknown keys, so a typo is an error with its line number rather than a rule
that silently does nothing. Owners are named by email, queues by name, so one policy serves the
same company on any CRM.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from config.conditions import Conditions
from config.cron import CronExpression
from config.dedupe_policy import DedupePolicy
from config.identifiers import FieldName, HubSpotProperty, SalesforceField
from config.policy_connections import Connections

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3650
"""The longest span a rule may count (ten years, in days or business days): dates beyond it are not a
sales process but a typo, and would run past the dates a calendar can hold."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as 'America/Chicago'"
        ) from None
    return value


EMAIL_SHAPE = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]+$")


def looks_like_email(value: str | None) -> bool:
    """Whether ``value`` has the shape of a deliverable address (``name@domain.tld``), nothing more."""
    return value is not None and EMAIL_SHAPE.fullmatch(value.strip()) is not None


def _check_email(value: str) -> str:
    if not looks_like_email(value):
        raise ValueError(f"{value!r} is not an email address: write it as name@example.com")
    return value.strip()


Email = Annotated[str, AfterValidator(_check_email)]
"""A person named by their email address (how one policy matches users on every CRM)."""


def _clock_time(value: object) -> object:
    """``9:00`` as ``09:00``: people write the hour without its leading zero."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]:[0-5][0-9](:[0-5][0-9])?", value.strip()):
        return "0" + value.strip()
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


class BusinessHours(Strict):
    start: ClockTime = Field(time(9), description="Local start of the working day.")
    end: ClockTime = Field(time(17), description="Local end of the working day.")

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class CalendarPolicy(Strict):
    """When the clock runs for business-day and business-hour deadlines."""

    time_zone: str = Field("America/New_York", description="For owners without a time zone.")
    country: str = Field("US", description="Public holidays of this country (ISO code).")
    subdivision: str | None = Field(None, description="State or province for regional holidays.")
    working_days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    business_hours: BusinessHours = BusinessHours()
    extra_holidays: tuple[date, ...] = Field((), description="Company days off beyond the public ones.")

    _zone = field_validator("time_zone")(_check_zone)

    @model_validator(mode="after")
    def _known_country(self) -> CalendarPolicy:
        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError:
            raise ValueError(
                f"no holiday calendar for country {self.country!r} / subdivision {self.subdivision!r}"
            ) from None
        if not self.working_days:
            raise ValueError("working_days is empty: name at least one day")
        return self


class Absence(Strict):
    """Days an owner is away (both ends included, on the owner's own calendar)."""

    start: date = Field(alias="from", description="First day away.")
    end: date = Field(alias="to", description="Last day away.")

    @model_validator(mode="after")
    def _ordered(self) -> Absence:
        if self.end < self.start:
            raise ValueError(f"'to' {self.end} is before 'from' {self.start}")
        if (self.end - self.start).days > MAX_DAYS:
            raise ValueError(f"an absence spans at most {MAX_DAYS} days")
        return self


OutOfOffice = Annotated[
    Annotated[bool, Tag("flag")] | Annotated[tuple[Absence, ...], Tag("absences")],
    Discriminator(lambda v: "absences" if isinstance(v, list | tuple) else "flag"),
]
"""``true``/``false``, or a list of dated absences (one error, not one per way of reading it)."""


class OwnerPolicy(Strict):
    """What the CRM does not know about a person: availability and share of new work."""

    email: Email
    time_zone: str | None = None
    out_of_office: OutOfOffice = Field(
        False, description="true: away until further notice; or dated absences: [{from: 2026-12-21, to: 2027-01-04}].")
    weight: float = Field(1.0, gt=0, le=1000, allow_inf_nan=False, description="Share of round-robin assignments.")
    cap: int | None = Field(None, ge=0, description="Most new assignments per day.")

    _zone = field_validator("time_zone")(_check_zone)

    def away_on(self, day: date) -> bool:
        """Whether the owner takes no new work on ``day`` (their own local date)."""
        if isinstance(self.out_of_office, bool):
            return self.out_of_office
        return any(a.start <= day <= a.end for a in self.out_of_office)


class ChatChannel(Strict):
    """A team's Slack or Microsoft Teams channel, reached through an incoming webhook."""

    kind: Literal["slack", "teams"] = Field(description="Slack incoming webhook, or a Teams incoming webhook/workflow.")
    webhook_env: str = Field(
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the webhook URL; the URL is a secret, so it stays out of this file.",
    )


class Team(Strict):
    name: str
    manager: Email = Field(description="The manager's email.")
    members: tuple[Email, ...] = Field(description="Members' emails.")
    chat: ChatChannel | None = Field(
        None, description="Where the team's digest summary, 'who didn't' list and SLA reminders are also posted."
    )


class Stage(Strict):
    name: str
    required: tuple[str, ...] = Field((), description="Fields that must be filled in this stage.")
    probability: float | None = Field(None, ge=0, le=100, description="Fixed win probability, percent.")
    closed: bool = False
    won: bool = False


class PipelineStages(Strict):
    """The opportunity stages of one pipeline (HubSpot) or sales process (a Salesforce record type)."""

    name: str = Field(description="The pipeline's label (HubSpot) or the opportunity record type's name (Salesforce).")
    opportunity: tuple[Stage, ...] = Field(min_length=1, description="Its stages, in order.")


class StageAliases(Strict):
    """A CRM's own stage and status names -> the company's canonical names in this policy, per CRM.

    Records read from that CRM carry the canonical name; a rule's write goes back under the CRM's own.
    """

    salesforce: dict[str, str] = Field(default_factory=dict)
    hubspot: dict[str, str] = Field(default_factory=dict)
    local: dict[str, str] = Field(default_factory=dict)

    def of(self, crm: str) -> dict[str, str]:
        """The aliases of one CRM kind (none for a kind the policy does not name)."""
        found: dict[str, str] = getattr(self, crm, {}) if crm in type(self).model_fields else {}
        return found


class Stages(Strict):
    """The two sales cycles: lead statuses, then opportunity stages, in order."""

    lead: tuple[Stage, ...] = ()
    opportunity: tuple[Stage, ...] = Field((), description="Stages of deals in a pipeline not listed in pipelines.")
    pipelines: tuple[PipelineStages, ...] = Field(
        (), description="Pipelines (sales processes) whose deals follow stages of their own.")
    aliases: StageAliases = Field(StageAliases(), description="Per CRM: its stage or status name -> the policy's.")

    def for_pipeline(self, pipeline: str | None) -> tuple[Stage, ...]:
        """The opportunity stages of a deal in ``pipeline`` (its own, else the default ``opportunity`` list)."""
        if pipeline is not None:
            wanted = pipeline.strip().lower()
            for own in self.pipelines:
                if own.name.strip().lower() == wanted:
                    return own.opportunity
        return self.opportunity

    def all_opportunity(self) -> tuple[Stage, ...]:
        """Every opportunity stage of every pipeline (the default list first)."""
        return (*self.opportunity, *(s for p in self.pipelines for s in p.opportunity))


class Duration(Strict):
    """Exactly one of business minutes, business hours, business days or calendar days."""

    business_minutes: float | None = Field(None, gt=0, le=MAX_DAYS * 8 * 60, allow_inf_nan=False,
                                           description="Minutes within business hours.")
    business_hours: float | None = Field(None, gt=0, le=MAX_DAYS * 8, allow_inf_nan=False,
                                         description="Hours within business hours.")
    business_days: int | None = Field(None, gt=0, le=MAX_DAYS, description="Working days, at the same local time.")
    days: int | None = Field(None, gt=0, le=MAX_DAYS, description="Calendar days, business hours or not.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Duration:
        values = (self.business_minutes, self.business_hours, self.business_days, self.days)
        given = [v for v in values if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of business_minutes, business_hours, business_days, days")
        return self

    def describe(self) -> str:
        if self.business_minutes is not None:
            return f"{self.business_minutes:g} business minutes"
        if self.business_hours is not None:
            return f"{self.business_hours:g} business hours"
        if self.business_days is not None:
            return f"{self.business_days} business days"
        return f"{self.days} days"


class RoundRobin(Strict):
    kind: Literal["round_robin"]
    team: str | None = Field(None, description="Team to rotate in; default: the current owner's team.")
    working_hours_only: bool = Field(
        False, description="Skip members outside business hours in their own time zone (first-contact SLAs); "
        "when every member is outside them, rotate among all as usual.")


class RotationPolicy(Strict):
    """How round-robin shares work out over time."""

    window_days: int = Field(
        7, ge=1, le=MAX_DAYS, description="Assignments the ledger recorded in this many days count toward each "
        "member's load, so shares follow weights across runs and processes.")


class ToQueue(Strict):
    kind: Literal["queue"]
    queue: str = Field(description="Name of the queue (a CRM queue or owner flagged as one).")


class ToManager(Strict):
    kind: Literal["manager"]


ReassignTarget = Annotated[RoundRobin | ToQueue | ToManager, Field(discriminator="kind")]


class FollowUpTask(Strict):
    """The task a rule creates so a person knows why something landed on their desk."""

    subject: str
    due_in_business_days: int = Field(1, ge=0, le=MAX_DAYS)
    priority: Literal["low", "normal", "high"] = "normal"
    task_type: Literal["call", "email", "todo"] = "todo"


class RuleBase(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Stable id used in keys and reports.")
    enabled: bool = True
    schedule: CronExpression = Field("*/15 * * * *", description="Cron expression, company time zone.")
    max_actions: int | None = Field(
        None, ge=1, description="Most changes one run may make for this rule; above it the run applies none of "
        "them until `warden run --apply --allow-large`. Default: limits.max_actions.",
    )


class Limits(Strict):
    """Blast-radius limits: how much one run may change per rule before it waits for a person."""

    max_actions: int = Field(500, ge=1, description="Default max_actions of every rule.")
    unusual_factor: float = Field(
        10, gt=1, description="A rule whose plan is this many times its usual size (the median of its non-empty "
        "plans in its last 20 applying runs) is held too.",
    )
    unusual_floor: int = Field(50, ge=0, description="Plans of at most this many changes are never held as unusual.")


class SlaRule(RuleBase):
    """New work that nobody acted on in time goes to someone who will."""

    kind: Literal["sla"]
    object: Literal["lead", "opportunity"]
    within: Duration
    statuses: tuple[str, ...] = Field(
        (), description="Only records in these lead statuses / opportunity stages (empty: all open)."
    )
    reassign_to: ReassignTarget
    escalate_after: int = Field(
        2, ge=1, description="After this many reassignments of one record, go to the manager instead."
    )
    task: FollowUpTask
    remind_before: Duration | None = Field(
        None,
        description="Remind the owner (a task in the CRM, and their team's chat if it has one) this long before "
        "the deadline: once per clock, never after the breach. Business time in the owner's zone.",
    )


StaleOutcome = Literal["pull_back", "close_lost"]
AccountCategory = Literal["customer", "prospect", "partner"]


class StaleDealRule(RuleBase):
    """Deals whose stage has not moved: warn the owner, then pull back or close lost (seed 000)."""

    kind: Literal["stale_deal"]
    after_days: int = Field(
        60, gt=0, le=MAX_DAYS, description="Days a stage may stay unchanged before the owner is warned."
    )
    grace_days: int = Field(
        14, ge=0, le=MAX_DAYS,
        description="Days after the warning (counted from after_days) before the deal is taken away.",
    )
    warning: FollowUpTask = Field(description="The task that warns the owner the deal is stale.")
    partner_deals: StaleOutcome = Field(
        "pull_back", description="Deals with a channel partner: back to the partner account's owner, or close lost."
    )
    direct_deals: StaleOutcome = Field("close_lost", description="Deals without a channel partner.")
    pipelines: dict[str, StaleOutcome] = Field(
        default_factory=dict, description="Pipeline name -> outcome, overriding partner_deals/direct_deals."
    )
    closed_lost_stage: str = Field("Closed Lost", description="Opportunity stage a stale deal is closed into.")
    close_reason: str = Field("Stale: stage unchanged past the policy limit", description="Reason written on close.")
    close_reason_field: str | None = Field(
        "close_reason", description="Field (or custom field) for the reason; null: keep it in the ledger only."
    )


class StaleLeadRule(RuleBase):
    """Qualified leads nobody touched go back to marketing (seed 000)."""

    kind: Literal["stale_lead"]
    statuses: tuple[str, ...] = Field(min_length=1, description="Lead statuses that count as qualified.")
    after_days: int = Field(
        30, gt=0, le=MAX_DAYS, description="Days without activity or status change before returning it."
    )
    return_to: ToQueue = Field(description="The queue that takes stale leads back.")
    set_status: str = Field(description="Lead status to set when the lead is returned.")


class CadenceRule(RuleBase):
    """Every account of the given categories needs a completed call every N days (seed 001)."""

    kind: Literal["cadence"]
    every_days: int = Field(90, gt=0, le=MAX_DAYS, description="Longest allowed gap between completed calls.")
    categories: tuple[AccountCategory, ...] = Field(
        ("customer",), min_length=1, description="Account categories (see account_types) the cadence covers."
    )
    task: FollowUpTask = Field(description="The call task created for the account owner.")


class OverdueRule(RuleBase):
    """Open tasks past their due date alert the assignee, then their manager (seed 002)."""

    kind: Literal["overdue"]
    manager_after_days: int = Field(
        3, ge=0, le=MAX_DAYS, description="Days overdue after which the manager is told too."
    )
    high_priority_to_manager: bool = Field(True, description="Tell the manager at once about high-priority tasks.")


class GateRule(RuleBase):
    """Records sitting in a stage without the stage's required data (seeds 001 and 002)."""

    kind: Literal["gates"]
    object: Literal["lead", "opportunity"]
    action: Literal["task", "move_back"] = Field(
        "task", description="Ask the owner to complete the record, or move it back to the last stage it qualifies for."
    )
    check_probability: bool = Field(True, description="Flag a probability that differs from the stage's fixed one.")
    task: FollowUpTask = Field(description="The task asking the owner to complete the record.")


class AccountTypes(Strict):
    """How the CRM's account type values map to the categories rules reason about."""

    source_field: str = Field(
        "account_type", description="Account field, or custom field, whose value decides the category."
    )
    values: dict[str, AccountCategory] = Field(
        default_factory=dict, description="CRM value -> category, matched ignoring case and surrounding spaces."
    )

    also_from: tuple[str, ...] = Field(
        (), description="Further account fields tried in order when source_field gives no mapped category "
        "(HubSpot: lifecycle_stage, then account_type).")

    def category_of(self, value_of: Callable[[str], object]) -> AccountCategory | None:
        """The category of an account, whose field values ``value_of`` reads: the first field that maps wins."""
        for name in (self.source_field, *self.also_from):
            found = self.category(value_of(name))
            if found is not None:
                return found
        return None

    def category(self, value: object) -> AccountCategory | None:
        """The category of a CRM value, or None when the policy does not map it."""
        if not isinstance(value, str):
            return None
        wanted = value.strip().lower()
        return next((c for v, c in self.values.items() if v.strip().lower() == wanted), None)


class DedupeRule(RuleBase):
    """Newly created accounts that duplicate an existing one (issue 7's prevention); merging follows ``dedupe:``."""

    kind: Literal["dedupe"]
    new_within_days: int = Field(
        7, gt=0, le=MAX_DAYS, description="Accounts created this many days ago or later count as new."
    )


class ToOwner(Strict):
    kind: Literal["owner"]
    owner: Email = Field(description="The person (by email) who gets the record.")


RouteTarget = Annotated[RoundRobin | ToQueue | ToOwner, Field(discriminator="kind")]


class Route(Strict):
    """One line of a routing table: the records it takes, and who gets them."""

    name: str = Field(min_length=1, description="Said in every reason: 'route Enterprise US'.")
    where: Conditions = Field(
        default_factory=dict, description="Field -> values (or {at_least, below}); every one must hold. Empty: all.")
    to_account_owner: bool = Field(
        False, description="A lead that is an existing contact, or whose company name or email domain matches an "
        "existing account, goes to that account's owner (a contact at no account: the contact's owner); any other "
        "lead goes to `to`, or on to the next route without one.")
    to: RouteTarget | None = Field(None, description="Round-robin in a team, a queue, or a named owner.")

    @model_validator(mode="after")
    def _has_target(self) -> Route:
        if self.to is None and not self.to_account_owner:
            raise ValueError(f"route {self.name!r} sends leads nowhere: give `to:` or `to_account_owner: true`")
        if isinstance(self.to, RoundRobin) and not self.to.team:
            raise ValueError(f"route {self.name!r} rotates in no team: name it (`team: East`)")
        return self


class RouteRule(RuleBase):
    """New leads go to the right person on arrival: the first route that matches wins (issue 15)."""

    kind: Literal["route"]
    object: Literal["lead"] = "lead"
    from_queues: tuple[str, ...] = Field(
        (), description="Leads waiting in these queues are routed too (leads without an owner always are).")
    from_owners: tuple[Email, ...] = Field(
        (), description="Users new leads land on before routing (the default lead owner, an integration user).")
    statuses: tuple[str, ...] = Field((), description="Only leads in these statuses (empty: every open status).")
    created_within_days: int | None = Field(
        None, gt=0, le=MAX_DAYS, description="Only leads created this many days ago or later (empty: any age).")
    routes: tuple[Route, ...] = Field(min_length=1, description="In order: the first route that matches wins.")
    task: FollowUpTask | None = Field(None, description="A task for the person a lead is routed to.")
    schedule: CronExpression = Field("*/5 * * * *", description="Cron expression, company time zone.")


class AcceptanceRule(RuleBase):
    """Sales accepts or rejects each routed lead, with a reason, within a deadline (seed 000's SLA)."""

    kind: Literal["acceptance"]
    statuses: tuple[str, ...] = Field(("New",), min_length=1, description="Lead statuses awaiting sales's decision.")
    accepted: tuple[str, ...] = Field(min_length=1, description="Lead statuses that mean sales accepted the lead.")
    rejected: str = Field(description="The lead status that means sales rejected it.")
    reason_field: FieldName = Field(description="Lead field (or custom field) holding why it was rejected: required.")
    return_to: ToQueue = Field(description="Marketing's queue, which gets rejected leads back with their reason.")
    within: Duration = Field(description="Time to accept or reject, from routing (else from creation).")
    task: FollowUpTask = Field(description="The task for an owner who let the deadline pass.")
    reason_task: FollowUpTask = Field(
        FollowUpTask(subject="Say why you rejected this lead", due_in_business_days=1),
        description="The task for an owner who rejected a lead without a reason.")
    source_field: FieldName = Field("lead_source", description="Lead field the lead report groups by source.")
    campaign_field: FieldName | None = Field("campaign", description="Lead field the report groups by campaign.")
    schedule: CronExpression = Field("*/15 * * * *", description="Cron expression, company time zone.")


def activity_type_key(name: str) -> str:
    """How an activity type is matched: ``Web Visit``, ``web_visit`` and ``web-visit`` are one type."""
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


class ActivityScoreRule(RuleBase):
    """A person whose activity adds up to the threshold in the window becomes a lead (seed 003, issue 15).

    A person already a lead or contact is not duplicated: the record's owner gets a task with the score.
    """

    kind: Literal["activity_score"]
    points: dict[str, int] = Field(
        min_length=1, description="Activity type (as the CRM or the import names it: web visit, download, event "
        "attendance, email reply...) -> the points a sales manager gives it. Types not listed score nothing.")
    threshold: int = Field(gt=0, le=1_000_000, description="Points within the window that make a person a lead.")
    window_days: int = Field(30, gt=0, le=MAX_DAYS, description="Only activities of this many days count.")
    new_leads_queue: str | None = Field(
        "Web Leads", description="Queue new leads land in, where a route rule (`from_queues`) routes them. A CRM "
        "without that queue (HubSpot) leaves them without an owner, which route rules always take.")
    lead_status: str = Field("New", description="Lead status of a new lead.")
    lead_source: str | None = Field("Activity score", description="Lead source written on a new lead.")
    task: FollowUpTask = Field(description="The task for the owner of a person already a lead or contact.")
    schedule: CronExpression = Field("0 * * * *", description="Cron expression, company time zone.")

    @field_validator("points")
    @classmethod
    def _points(cls, points: dict[str, int]) -> dict[str, int]:
        seen: dict[str, str] = {}
        for name, value in points.items():
            key = activity_type_key(name)
            if not key:
                raise ValueError("an activity type name is blank: name it (web visit, download...)")
            if key in seen:
                raise ValueError(f"activity types {seen[key]!r} and {name!r} are the same type: keep one")
            if not 0 < value <= 1_000_000:
                raise ValueError(f"points of {name!r} must be between 1 and 1000000, not {value}")
            seen[key] = name
        return points

    def points_of(self, activity_type: str) -> int:
        """The points of one activity type (0 for a type the policy does not score)."""
        wanted = activity_type_key(activity_type)
        return next((v for name, v in self.points.items() if activity_type_key(name) == wanted), 0)


class ExistingLeadRule(RuleBase):
    """New leads already in the system (seed 003): an existing contact, or someone at an existing account.

    Marks them, with the match, for the digest and the ledger; merges and moves nothing (a route with
    ``to_account_owner`` sends them to the account's owner).
    """

    kind: Literal["existing_lead"]
    new_within_days: int = Field(
        7, gt=0, le=MAX_DAYS, description="Open leads created this many days ago or later count as new.")


Rule = Annotated[
    SlaRule | StaleDealRule | StaleLeadRule | CadenceRule | OverdueRule | GateRule | DedupeRule | RouteRule
    | AcceptanceRule | ActivityScoreRule | ExistingLeadRule,
    Field(discriminator="kind"),
]


def _target_of(rule: Rule) -> ReassignTarget | None:
    if isinstance(rule, SlaRule):
        return rule.reassign_to
    return rule.return_to if isinstance(rule, StaleLeadRule) else None


class DigestPolicy(Strict):
    """Who gets the managers' email digests, and when."""

    period: Literal["daily", "weekly"] = Field("weekly", description="One digest per manager per day or per week.")
    send_hour: int = Field(8, ge=0, le=23, description="Local hour (the recipient's time zone) a period starts.")
    fallback_recipient: Email = Field(
        description="Gets the work of owners with no manager, or whose manager has no usable address."
    )
    morning_list: tuple[Email, ...] = Field(
        (), description="Reps (emails) who opted in to a daily list of their own overdue and newly assigned work."
    )
    marketing: tuple[Email, ...] = Field(
        (), description="Marketing's addresses: their digest carries the lead acceptance report (acceptance rate, "
        "rejection reasons and time to acceptance by source and campaign, as `warden report leads`); needs a "
        "`kind: acceptance` rule."
    )
    schedule: CronExpression | None = Field(
        None,
        description="Cron expression (company time zone) of the worker's digest job. Default: the top of every "
        "hour (weekly without morning lists: Sunday to Tuesday only), so each recipient's digest goes out at "
        "send_hour in their own time zone; the ledger sends it once per period however often the job runs.",
    )


ObjectName = Literal["owner", "account", "contact", "lead", "opportunity", "task", "note"]


class FieldMaps(Strict):
    """Custom fields per CRM: normalized name (``bant_budget``) -> the CRM's field (``BANT_Budget__c``).

    Both sides must be API names: a CRM field name goes into queries and request paths as it is.
    """

    salesforce: dict[ObjectName, dict[FieldName, SalesforceField]] = Field(default_factory=dict)
    hubspot: dict[ObjectName, dict[FieldName, HubSpotProperty]] = Field(default_factory=dict)


class Policy(Strict):
    version: Literal[1] = 1
    calendar: CalendarPolicy = CalendarPolicy()
    owners: tuple[OwnerPolicy, ...] = ()
    teams: tuple[Team, ...] = ()
    rotation: RotationPolicy = RotationPolicy()
    queues: tuple[str, ...] = Field((), description="Names of queues rules may send work to.")
    stages: Stages = Stages()
    account_types: AccountTypes = AccountTypes()
    rules: tuple[Rule, ...] = ()
    connections: Connections = Field((), description="CRM connections; none: one named after WARDEN_CRM.")
    digest: DigestPolicy | None = Field(None, description="Managers' email digests (notify/).")
    dedupe: DedupePolicy = DedupePolicy()
    fields: FieldMaps = Field(FieldMaps(), description="Custom field mappings of each CRM connector.")
    limits: Limits = Field(Limits(), description="How many changes a rule may make in one run (blast radius).")

    @model_validator(mode="after")
    def _references_resolve(self) -> Policy:
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(dupes)}")
        self._check_aliases()
        if self.digest and self.digest.marketing and not any(
                isinstance(r, AcceptanceRule) and r.enabled for r in self.rules):
            raise ValueError("digest.marketing gets the lead acceptance report, which needs an enabled `kind: "
                             "acceptance` rule saying which lead statuses mean accepted and rejected: add one, or "
                             "remove digest.marketing")
        team_names = {t.name for t in self.teams}
        for rule in self.rules:
            self._check_stages(rule)
            target = _target_of(rule)
            if isinstance(target, ToQueue) and target.queue not in self.queues:
                raise ValueError(f"rule {rule.id!r} sends work to queue {target.queue!r}, not in queues")
            if isinstance(target, RoundRobin) and target.team and target.team not in team_names:
                raise ValueError(f"rule {rule.id!r} rotates in team {target.team!r}, not in teams")
        return self

    def _check_aliases(self) -> None:
        known = {s.name for s in (*self.stages.lead, *self.stages.all_opportunity())}
        for crm in StageAliases.model_fields:
            unknown = sorted({name for name in self.stages.aliases.of(crm).values() if name not in known})
            if unknown:
                raise ValueError(f"stages.aliases.{crm} maps onto {', '.join(map(repr, unknown))}, not a stage or "
                                 "status in stages: name the policy's stage each CRM name stands for")
        names = [p.name.strip().lower() for p in self.stages.pipelines]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"stages.pipelines names a pipeline twice: {', '.join(repeated)}")

    def _check_stages(self, rule: Rule) -> None:
        lead = {s.name for s in self.stages.lead}
        closed_lost = {s.name for s in self.stages.all_opportunity() if s.closed and not s.won}
        if isinstance(rule, StaleDealRule) and rule.closed_lost_stage not in closed_lost:
            raise ValueError(
                f"rule {rule.id!r} closes into {rule.closed_lost_stage!r}, which is not a closed, not won "
                "opportunity stage in stages.opportunity"
            )
        if isinstance(rule, StaleLeadRule):
            unknown = [s for s in (*rule.statuses, rule.set_status) if s not in lead]
            if unknown:
                raise ValueError(f"rule {rule.id!r} names lead statuses not in stages.lead: {', '.join(unknown)}")

    def reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Names in routing rules that point at nothing in this policy, each with its key path."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        teams = {t.name for t in self.teams}
        lead = {s.name for s in self.stages.lead}
        for n, rule in enumerate(self.rules):
            at: tuple[str | int, ...] = ("rules", n)
            if isinstance(rule, AcceptanceRule):
                problems += self._acceptance_problems(rule, at, lead)
            if isinstance(rule, ActivityScoreRule):
                problems += self._activity_problems(rule, at, lead)
            if not isinstance(rule, RouteRule):
                continue
            problems += [((*at, "from_queues", i), f"queue {q!r} is not in queues")
                         for i, q in enumerate(rule.from_queues) if q not in self.queues]
            problems += [((*at, "statuses", i), f"lead status {s!r} is not in stages.lead")
                         for i, s in enumerate(rule.statuses) if lead and s not in lead]
            for r, route in enumerate(rule.routes):
                target = route.to
                if isinstance(target, ToQueue) and target.queue not in self.queues:
                    problems.append(((*at, "routes", r, "to", "queue"), f"queue {target.queue!r} is not in queues"))
                if isinstance(target, RoundRobin) and target.team not in teams:
                    problems.append(((*at, "routes", r, "to", "team"), f"team {target.team!r} is not in teams"))
        return problems

    def _acceptance_problems(self, rule: AcceptanceRule, at: tuple[str | int, ...],
                             lead: set[str]) -> list[tuple[tuple[str | int, ...], str]]:
        named: list[tuple[tuple[str | int, ...], str]] = [
            *(((*at, "statuses", i), s) for i, s in enumerate(rule.statuses)),
            *(((*at, "accepted", i), s) for i, s in enumerate(rule.accepted)), ((*at, "rejected"), rule.rejected)]
        problems = [(loc, f"lead status {name!r} is not in stages.lead") for loc, name in named if name not in lead]
        if rule.return_to.queue not in self.queues:
            problems.append(((*at, "return_to", "queue"), f"queue {rule.return_to.queue!r} is not in queues"))
        return problems

    def _activity_problems(self, rule: ActivityScoreRule, at: tuple[str | int, ...],
                           lead: set[str]) -> list[tuple[tuple[str | int, ...], str]]:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if lead and rule.lead_status not in lead:
            problems.append(((*at, "lead_status"), f"lead status {rule.lead_status!r} is not in stages.lead"))
        if rule.new_leads_queue is not None and rule.new_leads_queue not in self.queues:
            problems.append(((*at, "new_leads_queue"), f"queue {rule.new_leads_queue!r} is not in queues"))
        return problems

    def owner_policy(self, email: str | None) -> OwnerPolicy | None:
        if email is None:
            return None
        wanted = email.lower()
        return next((o for o in self.owners if o.email.lower() == wanted), None)

    def team_of(self, email: str | None) -> Team | None:
        if email is None:
            return None
        wanted = email.lower()
        return next((t for t in self.teams if wanted in (m.lower() for m in t.members)), None)
