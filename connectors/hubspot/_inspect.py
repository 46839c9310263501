"""What a HubSpot portal holds that a policy names: pipelines, property options, owners' teams, scopes.

Read from the pipelines, properties, owners and account-info APIs. What the app may do is probed
rather than read (a private app's token cannot list its own scopes): a one-record read per object,
and an empty batch update or create, which HubSpot refuses with ``MISSING_SCOPES`` (403) before it
looks at the inputs. The task key property is created through the properties API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from connectors.hubspot._http import HubSpotHttp
from connectors.hubspot._mapping import LEAD_STAGES, StageCatalog
from connectors.hubspot._read import HubSpotReader, JsonObject
from domain.errors import ConnectorError, FatalConnectorError
from domain.inspection import ObjectAccess, OrgFacts, PipelineFacts, StageFacts, TeamFacts
from domain.invocation import warden_command
from domain.records import ObjectType

KINDS: dict[ObjectType, str] = {
    ObjectType.ACCOUNT: "companies", ObjectType.CONTACT: "contacts", ObjectType.LEAD: "contacts",
    ObjectType.OPPORTUNITY: "deals", ObjectType.TASK: "tasks",
}
UPDATED = (ObjectType.ACCOUNT, ObjectType.LEAD, ObjectType.OPPORTUNITY)
"""Record types rules write to (reassign, close, move back)."""
ACCOUNT_TYPE_PROPERTIES = {"account_type": "type", "lifecycle_stage": "lifecyclestage"}


def options(definition: JsonObject) -> tuple[str, ...]:
    """The internal values of an enumeration property, in display order, hidden ones left out."""
    shown = [o for o in definition.get("options", []) if not o.get("hidden")]
    return tuple(str(o["value"]) for o in sorted(shown, key=lambda o: o.get("displayOrder", 0)))


def pipelines(body: Mapping[str, Any]) -> tuple[PipelineFacts, ...]:
    """Deal pipelines with their stages, by label; the first in display order is the default."""
    catalog = StageCatalog.from_pipelines(body)
    ordered = sorted(body.get("results", []), key=lambda p: (p.get("displayOrder", 0), p["id"] != "default"))
    found = []
    for n, pipeline in enumerate(p for p in ordered if not p.get("archived")):
        stages = []
        for raw in sorted(pipeline.get("stages", []), key=lambda s: s.get("displayOrder", 0)):
            stage = catalog.stages[raw["id"]]
            probability = raw.get("metadata", {}).get("probability")
            percent = None if probability in (None, "") else round(float(probability) * 100, 6)
            stages.append(StageFacts(stage.label, percent, stage.closed, stage.won))
        found.append(PipelineFacts(pipeline["label"], tuple(stages), default=n == 0))
    return tuple(found)


def teams(owners: list[JsonObject]) -> tuple[TeamFacts, ...]:
    """Teams from the active owners' ``teams`` lists (HubSpot names no team manager)."""
    members: dict[str, list[str]] = {}
    for owner in owners:
        if owner.get("archived"):
            continue
        for team in owner.get("teams") or []:
            members.setdefault(str(team["name"]), []).append(str(owner["id"]))
    return tuple(TeamFacts(name, tuple(ids)) for name, ids in members.items())


class HubSpotInspector:
    def __init__(self, http: HubSpotHttp, reader: HubSpotReader, task_key_property: str) -> None:
        self.http, self.reader, self.key = http, reader, task_key_property

    def inspect(self) -> OrgFacts:
        """The portal's metadata in one pass (about 15 calls)."""
        definitions = {kind: {p["name"]: p for p in self.reader.properties(kind)} for kind in set(KINDS.values())}
        lead_status = definitions["contacts"].get("hs_lead_status", {})
        companies = definitions["companies"]
        account_types = {field: options(companies.get(prop, {})) for field, prop in ACCOUNT_TYPE_PROPERTIES.items()}
        details = self._account_details()
        return OrgFacts(
            crm="hubspot",
            pipelines=pipelines(self.reader.deal_pipelines()),
            lead_statuses=tuple(StageFacts(value) for value in options(lead_status)),
            account_type_field="lifecycle_stage",
            account_types=account_types,
            fields={obj: frozenset(definitions[kind]) for obj, kind in KINDS.items()},
            access=tuple(self._access()),
            teams=teams([*self.reader.owners(archived=False), *self.reader.owners(archived=True)]),
            time_zone=details.get("timeZone"),
            api_version="CRM v3",
            daily_limit=self.http.usage.daily_limit,
            daily_remaining=self.http.usage.daily_remaining,
            notes=(f"lead statuses are the contact property hs_lead_status of contacts in the lifecycle stages "
                   f"{', '.join(LEAD_STAGES)}",),
        )

    def _account_details(self) -> JsonObject:
        def send(c: Any) -> Any:
            return c.crm.owners.owners_api.api_client.call_api(
                "/account-info/v3/details", "GET", {}, [], {"Accept": "application/json"},
                auth_settings=["oauth2"], _preload_content=False)

        try:
            body: JsonObject = self.http.call("read", "account details", send).body
        except ConnectorError:
            return {}  # the time zone then comes from the policy's default
        return body

    def _access(self) -> Iterator[ObjectAccess]:
        for obj, kind in KINDS.items():
            if obj is ObjectType.CONTACT:
                continue
            read = self._allowed(f"read of {kind}", lambda c, k=kind: c.crm.objects.basic_api.get_page(  # type: ignore[misc]
                k, limit=1, _preload_content=False))
            update = create = merge = None
            if obj in UPDATED:
                update = self._allowed(f"update of {kind}", lambda c, k=kind: c.crm.objects.batch_api.update(  # type: ignore[misc]
                    k, {"inputs": []}, _preload_content=False))
            if obj is ObjectType.TASK:
                create = self._allowed("create of tasks", lambda c: c.crm.objects.batch_api.create(
                    "tasks", {"inputs": []}, _preload_content=False))
            if obj is ObjectType.ACCOUNT:
                merge = update
            yield ObjectAccess(obj, kind, read, update, create, merge)

    def _allowed(self, subject: str, send: Callable[[Any], Any]) -> bool:
        """False only when HubSpot refuses the call for a missing scope (403); other refusals say nothing."""
        try:
            self.http.call("other", f"scope probe: {subject}", send)
        except FatalConnectorError as exc:
            return "HTTP 403" not in str(exc)
        except ConnectorError:
            return True
        return True

    def task_key_problem(self) -> str | None:
        """None when tasks have the key property as single-line text; else what is wrong and the fix."""
        found = next((p for p in self.reader.properties("tasks") if p["name"] == self.key), None)
        if found is None:
            return (f"HubSpot tasks have no property {self.key!r} to hold CRM Warden's idempotency keys: run "
                    f"`{warden_command()} doctor --fix`, or create it in Settings > Properties > Task properties as "
                    f"single-line text with the internal name {self.key}")
        if found.get("type") != "string":
            return (f"HubSpot task property {self.key!r} is of type {found.get('type')!r}, not a single-line text "
                    f"(string): create a text property and name it in the connector's task key property")
        return None

    def create_task_key(self) -> str:
        """Create the task key property (single-line text) in the group of the task's subject."""
        group = next((p.get("groupName") for p in self.reader.properties("tasks") if p["name"] == "hs_task_subject"),
                     None) or "taskinformation"
        definition = {"name": self.key, "label": "CRM Warden key", "type": "string", "fieldType": "text",
                      "groupName": group, "description": "Idempotency key of the CRM Warden action that created "
                      "this task: a retried create finds the task instead of making a second one."}
        try:
            self.http.call("write", f"create of task property {self.key}", lambda c: c.crm.properties.core_api.create(
                "tasks", definition, _preload_content=False), repeatable=False)
        except FatalConnectorError as exc:
            raise FatalConnectorError(
                f"HubSpot refused to create the task property {self.key!r} ({exc}); grant the app the "
                "crm.schemas.tasks.write scope, or create it by hand in Settings > Properties > Task properties: "
                f"single-line text, internal name {self.key}") from None
        return f"created the HubSpot task property {self.key!r} (single-line text, group {group})"
