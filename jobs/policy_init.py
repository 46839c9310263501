"""``warden policy init``: a commented policy drafted from a live org, that passes ``policy check`` as it is.

Everything org-specific comes from the connector's ``OrgFacts`` and its users: stages with their
probabilities and closed/won flags per pipeline, lead statuses, teams under their managers (Salesforce
``ManagerId``; HubSpot teams), queues, account type values, the calendar's time zone and country. The
seed documents' rules come with their defaults. A value the org could not tell is marked REVIEW.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from config.policy import looks_like_email
from domain.inspection import OrgFacts, PipelineFacts, StageFacts
from domain.records import Owner

DEFAULT_ZONE = "America/New_York"
ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")
CATEGORY_WORDS = (("customer", "customer"), ("client", "customer"), ("evangelist", "customer"),
                  ("partner", "partner"), ("reseller", "partner"), ("prospect", "prospect"),
                  ("opportunity", "prospect"), ("salesqualifiedlead", "prospect"))
"""A value containing the word is that category (first match wins)."""
NOT_NOW_WORDS = ("former", "churn", "lost", "inactive", "ex-")
"""A value with one of these words is a past relationship, no category."""
CLOSED_WORDS = ("closed", "converted", "unqualified", "disqualified", "bad_timing", "bad timing", "lost")
QUALIFIED_WORDS = ("qualified", "open_deal", "connected")


def _yaml_safe(char: str) -> str:
    """A character as YAML's double-quoted style can hold it: printable as is, anything else escaped."""
    code = ord(char)
    printable = char in "\t" or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF \
        or 0xE000 <= code <= 0xFFFD or code >= 0x10000
    if printable and code not in (0x2028, 0x2029):
        return char
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def q(value: str) -> str:
    """A YAML double-quoted scalar for any text: JSON's escapes, and YAML's for what it cannot hold raw."""
    return "".join(_yaml_safe(c) for c in json.dumps(value, ensure_ascii=False))


def number(value: float) -> str:
    return f"{value:g}"


def _zone(facts: OrgFacts) -> tuple[str, str]:
    try:
        if facts.time_zone:
            ZoneInfo(facts.time_zone)
            return facts.time_zone, "the org's default time zone"
    except (ZoneInfoNotFoundError, ValueError):
        pass
    return DEFAULT_ZONE, f"REVIEW: the org did not give a usable time zone ({facts.time_zone!r})"


def _country_of_zone(zone: str) -> str | None:
    if zone.startswith("US/"):
        return "US"
    if zone.startswith("Canada/"):
        return "CA"
    try:
        rows = ZONE_TAB.read_text().splitlines()
    except OSError:
        return None
    return next((r.split("\t")[0] for r in rows if not r.startswith("#") and r.split("\t")[2:3] == [zone]), None)


def _country(facts: OrgFacts, zone: str) -> tuple[str, str]:
    for code, why in ((facts.country, "the org's locale"), (_country_of_zone(zone), "the time zone's country")):
        if code:
            try:
                holidays.country_holidays(code)
                return code, f"public holidays of {why}"
            except NotImplementedError:
                continue
    return "US", "REVIEW: the org did not say its country"


def _is_closed_status(stage: StageFacts) -> bool:
    return stage.closed or any(w in stage.name.lower() for w in CLOSED_WORDS)


def _stage_line(stage: StageFacts, required: Sequence[str], closed: bool | None = None) -> str:
    parts = [f"name: {q(stage.name)}"]
    if required:
        parts.append(f"required: [{', '.join(required)}]")
    if stage.probability is not None:
        parts.append(f"probability: {number(stage.probability)}")
    if closed if closed is not None else stage.closed:
        parts.append("closed: true")
    if stage.won:
        parts.append("won: true")
    return "{" + ", ".join(parts) + "}"


def _stage_lines(stages: Sequence[StageFacts], indent: str) -> list[str]:
    """Open stages after the first need an amount and close date; the first a close date (seed 002)."""
    lines, seen_open = [], False
    for stage in stages:
        required: tuple[str, ...] = ()
        if not stage.closed:
            required = ("amount", "close_date") if seen_open else ("close_date",)
            seen_open = True
        lines.append(f"{indent}- {_stage_line(stage, required)}")
    return lines


def _category(value: str) -> str | None:
    folded = value.lower().replace(" ", "")
    if any(word in folded for word in NOT_NOW_WORDS):
        return None
    return next((category for word, category in CATEGORY_WORDS if word in folded), None)


class Draft:
    """Builds the policy text section by section."""

    def __init__(self, facts: OrgFacts, owners: Sequence[Owner], today: date) -> None:
        self.facts, self.today = facts, today
        self.users = [o for o in owners if not o.is_queue and o.active and looks_like_email(o.email)]
        self.queues = [o.name for o in owners if o.is_queue]
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        facts = self.facts
        self.add(f"# CRM Warden policy drafted by `warden policy init --crm {facts.crm}` on {self.today} from the "
                 "live org.", "# Every name below was read from the org. Lines marked REVIEW are guesses to check.",
                 "# Check a change with: warden policy check FILE; check the org with: warden doctor --policy FILE",
                 "version: 1", "")
        self._calendar()
        self._teams()
        self._account_types()
        self._stages()
        self._fields()
        self._digest()
        self._rules()
        return "\n".join(self.lines) + "\n"

    def _calendar(self) -> None:
        zone, zone_why = _zone(self.facts)
        country, country_why = _country(self.facts, zone)
        self.add("calendar:", f"  time_zone: {q(zone)}    # {zone_why}", f"  country: {q(country)}    # {country_why}",
                 "  working_days: [mon, tue, wed, thu, fri]", '  business_hours: {start: "09:00", end: "17:00"}', "")

    def _teams(self) -> None:
        teams = list(self._crm_teams()) if self.facts.teams else list(self._manager_teams())
        if teams:
            self.add("teams:")
            for name, manager, members, note in teams:
                self.add(f"  - name: {q(name)}", f"    manager: {q(manager)}{note}",
                         f"    members: [{', '.join(q(m) for m in members)}]")
        else:
            self.add("teams: []    # no user reports to a manager in the org: round-robin has no team to rotate in")
        placed = {m.lower() for _, manager, members, _ in teams for m in (manager, *members)}
        loose = [u.email for u in self.users if u.email and u.email.lower() not in placed]
        if loose:
            self.add(f"# Users in no team (no manager in the org): {', '.join(e for e in loose if e)}")
        self.add(f"queues: [{', '.join(q(n) for n in self.queues)}]    # the org's queues", "")

    def _manager_teams(self) -> Iterable[tuple[str, str, list[str], str]]:
        """Salesforce: each active manager with the active users who report to them."""
        by_id = {u.id: u for u in self.users}
        reports: dict[str, list[str]] = {}
        for user in self.users:
            if user.manager_id in by_id and user.email:
                reports.setdefault(user.manager_id, []).append(user.email)
        for manager_id, members in reports.items():
            manager = by_id[manager_id]
            yield f"{manager.name}'s team", manager.email or "", members, "    # their ManagerId reports"

    def _crm_teams(self) -> Iterable[tuple[str, str, list[str], str]]:
        """HubSpot: its teams; HubSpot names no team manager, so the first member stands in (REVIEW)."""
        emails = {u.id: u.email for u in self.users if u.email}
        for team in self.facts.teams:
            members = sorted(e for i in team.member_ids if (e := emails.get(i)))
            if members:
                yield team.name, members[0], members, "    # REVIEW: HubSpot does not say who manages a team"

    def _account_types(self) -> None:
        fields = [self.facts.account_type_field, *(f for f in self.facts.account_types
                                                   if f != self.facts.account_type_field)]
        values = {v: c for f in fields for v in self.facts.account_types.get(f, ()) if (c := _category(v))}
        self.add("# What the org's account type values mean; cadence calls the 'customer' ones (seed 001).",
                 "account_types:", f"  source_field: {fields[0]}")
        if fields[1:]:
            self.add(f"  also_from: [{', '.join(fields[1:])}]")
        self.add(f"  values: {{{', '.join(f'{q(v)}: {c}' for v, c in values.items())}}}", "")

    def _stages(self) -> None:
        facts = self.facts
        default = facts.pipeline(None) or PipelineFacts("default", ())
        self.add("# The sales cycles (seed 002): lead statuses, then opportunity stages with the org's probabilities.",
                 "stages:", "  lead:" if facts.lead_statuses else "  lead: []")
        self.add(*(f"    - {_stage_line(s, (), _is_closed_status(s))}" for s in facts.lead_statuses))
        self.add(f"  opportunity:{'' if default.stages else ' []'}    # pipeline {q(default.name)}",
                 *_stage_lines(default.stages, "    "))
        seen = {default.name.strip().lower()}
        others = []
        for pipeline in facts.pipelines:  # a name HubSpot lets two pipelines share can hold one stage list
            if pipeline.stages and pipeline.name.strip().lower() not in seen:
                seen.add(pipeline.name.strip().lower())
                others.append(pipeline)
        if others:
            self.add("  pipelines:    # deals in these pipelines follow their own stages")
            for pipeline in others:
                self.add(f"    - name: {q(pipeline.name)}", "      opportunity:",
                         *_stage_lines(pipeline.stages, "        "))
        self.add("")

    def _fields(self) -> None:
        if self.facts.pipeline_field:
            self.add("fields:", f"  {self.facts.crm}:", f"    opportunity: {{pipeline: {self.facts.pipeline_field}}}"
                     "    # each deal's sales process", "")

    def _digest(self) -> None:
        self.add("# Managers' digests: uncomment and name who gets the work of reps without a manager.",
                 "# digest:", "#   period: weekly", "#   send_hour: 8", "#   fallback_recipient: sales-ops@example.com",
                 "")

    def _rules(self) -> None:
        default = self.facts.pipeline(None) or PipelineFacts("default", ())
        lost = next((s.name for s in default.stages if s.closed and not s.won), None)
        self.add("rules:", *SLA_RULES)
        statuses = [s for s in self.facts.lead_statuses if not _is_closed_status(s)]
        if statuses:
            self.add(*FIRST_CONTACT.format(status=q(statuses[0].name)).splitlines())
        if lost:
            self.add(*STALE_DEALS.format(lost=q(lost)).splitlines())
        self._stale_leads(statuses)
        self.add(*OTHER_RULES)

    def _stale_leads(self, open_statuses: Sequence[StageFacts]) -> None:
        qualified = [s.name for s in open_statuses if any(w in s.name.lower() for w in QUALIFIED_WORDS)]
        closed = [s.name for s in self.facts.lead_statuses if _is_closed_status(s) and not s.won]
        if qualified and closed and self.queues:
            self.add(*STALE_LEADS.format(statuses=", ".join(q(s) for s in qualified), queue=q(self.queues[0]),
                                         status=q(closed[0])).splitlines())
        else:
            self.add("  # stale-leads (seed 000) needs a qualified lead status, a closed one and a queue to return",
                     "  # leads to; this org lacks one of them, so the rule is left out.")


SLA_RULES = """\
  # Seed 000: "If Sales does not explicitly act on a new Opportunity within four business days, the
  # Opportunity is reassigned" (round-robin in the owner's team, else to their manager).
  - id: sla-new-opportunity
    kind: sla
    object: opportunity
    within: {business_days: 4}
    reassign_to: {kind: round_robin}
    escalate_after: 2
    task: {subject: "Act on this opportunity: reassigned to you after 4 idle business days", priority: high}
    schedule: "0 * * * *"
""".splitlines()
FIRST_CONTACT = """\
  # Seed 001: "new leads that get called within 2 hours have a 4x higher closing rate".
  - id: sla-first-contact
    kind: sla
    object: lead
    statuses: [{status}]
    within: {{business_hours: 2}}
    reassign_to: {{kind: round_robin, working_hours_only: true}}   # a teammate at work now
    task: {{subject: "Call this new lead now: first contact is overdue", due_in_business_days: 0, priority: high,
           task_type: call}}
    schedule: "*/15 * * * *"
"""
STALE_DEALS = """\
  # Seed 000: deals that have not moved in 60 days: warn, then 14 days later pull back or close lost.
  - id: stale-deals
    kind: stale_deal
    after_days: 60
    grace_days: 14
    warning: {{subject: "This deal has not changed stage in 60 days: move it or it will be taken away",
              due_in_business_days: 2, priority: high}}
    partner_deals: pull_back
    direct_deals: close_lost
    closed_lost_stage: {lost}
    close_reason_field: null    # name the org's loss-reason field here to record why
    schedule: "0 6 * * *"
"""
STALE_LEADS = """\
  # Seed 000: qualified leads that have gone stale are returned to marketing.
  - id: stale-leads
    kind: stale_lead
    statuses: [{statuses}]
    after_days: 30
    return_to: {{kind: queue, queue: {queue}}}
    set_status: {status}
    schedule: "0 6 * * *"
"""
OTHER_RULES = """\
  # Seed 001: call every existing customer at least once every 90 days.
  - id: customer-calls
    kind: cadence
    every_days: 90
    categories: [customer]
    task: {subject: "Call this customer: no call logged in 90 days", due_in_business_days: 5, task_type: call}
    schedule: "0 7 * * mon"
  # Seed 002: overdue tasks go to their owners, after 3 days (high priority: at once) to their managers too.
  - id: overdue-tasks
    kind: overdue
    manager_after_days: 3
    schedule: "0 8 * * *"
  # Seeds 001 and 002: a deal cannot sit in a stage without that stage's data and probability.
  - id: opportunity-gates
    kind: gates
    object: opportunity
    action: task
    task: {subject: "Complete this opportunity: its stage requires data that is missing"}
    schedule: "30 * * * *"
  # Seed 002: one true account: flag new accounts that duplicate an existing one.
  - id: new-duplicates
    kind: dedupe
    new_within_days: 7
    schedule: "0 5 * * *"
""".splitlines()


def draft_policy(facts: OrgFacts, owners: Sequence[Owner], today: date) -> str:
    """The policy text for this org."""
    return Draft(facts, owners, today).text()
