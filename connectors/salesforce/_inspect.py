"""What a Salesforce org holds that a policy names, read from describe, setup objects and the UI API.

Permissions come from describe (it answers for the running user: ``queryable``, ``updateable``,
``createable``, ``mergeable``); stages from ``OpportunityStage`` (probability, closed, won), per sales
process through the UI API's picklist values of each active Opportunity record type; lead statuses
from ``LeadStatus``; the time zone and country from ``Organization``. The task key field is created
through the Metadata API (simple-salesforce's ``mdapi``) on ``Activity``, where Task's custom
fields live.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql
from simple_salesforce.util import call_salesforce

from connectors.salesforce._client import TIMEOUT, SalesforceClient
from connectors.salesforce._mapping import SOBJECTS
from domain.errors import ConnectorError, FatalConnectorError
from domain.inspection import ObjectAccess, OrgFacts, PipelineFacts, StageFacts
from domain.invocation import warden_command
from domain.records import ObjectType

INSPECTED = (ObjectType.ACCOUNT, ObjectType.CONTACT, ObjectType.LEAD, ObjectType.OPPORTUNITY, ObjectType.TASK)
UPDATED = (ObjectType.ACCOUNT, ObjectType.LEAD, ObjectType.OPPORTUNITY)
MERGED = (ObjectType.ACCOUNT,)
Describe = Mapping[str, Any]


def key_field_steps(name: str) -> str:
    """How an admin makes the task key field by hand."""
    return (f"in Setup > Object Manager > Activity > Fields & Relationships > New, make a Text(255) field named "
            f"{name.removesuffix('__c')} (API name {name}) with 'Unique' and 'External ID' ticked, and give the "
            f"integration user edit access to it (or run `{warden_command()} doctor --fix` as a user with Customize "
            "Application)")


def key_field_problem(name: str, task: Describe) -> str | None:
    """None when Task has ``name`` as a unique external-id text field; else what is wrong and the fix."""
    found = next((f for f in task.get("fields", []) if f["name"] == name), None)
    if found is None:
        return (f"Salesforce Task has no field {name} to hold CRM Warden's idempotency keys (or the integration user "
                f"cannot see it): {key_field_steps(name)}")
    wrong = [what for what, ok in (("a text field", found.get("type") == "string"),
                                   ("an External ID", found.get("externalId")), ("unique", found.get("unique")))
             if not ok]
    if wrong or not found.get("createable"):
        wrong += [] if found.get("createable") else ["editable by the integration user"]
        return (f"Salesforce Task field {name} is not {' and not '.join(wrong)}: change it in Setup > Object Manager "
                "> Activity > Fields & Relationships, or set SALESFORCE_TASK_KEY_FIELD to a field that is")
    return None


def country_of(locale: str | None) -> str | None:
    """The country of a Salesforce locale (``en_US`` -> ``US``, ``de_DE_EURO`` -> ``DE``)."""
    parts = (locale or "").split("_")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 2 else None


class SalesforceInspector:
    def __init__(self, client: SalesforceClient, api_version: str, task_key_field: str) -> None:
        self._client, self._version, self._key = client, api_version, task_key_field

    def describe(self, sobject: str) -> Describe:
        answer: Describe = self._client.call("other", f"describe {sobject}", lambda sf: sf.restful(
            f"sobjects/{sobject}/describe", timeout=TIMEOUT) or {})
        return answer

    def inspect(self) -> OrgFacts:
        self._check_version()
        described = {obj: self.describe(SOBJECTS[obj]) for obj in INSPECTED}
        org = next(self._client.query_rows("SELECT TimeZoneSidKey, DefaultLocaleSidKey FROM Organization"), {})
        stages = self._stages()
        pipelines, pipeline_field = self._pipelines(stages)
        account_types = tuple(p["value"] for f in described[ObjectType.ACCOUNT]["fields"] if f["name"] == "Type"
                              for p in f.get("picklistValues", []) if p.get("active"))
        self._client.refresh_limits()
        usage = self._client.usage
        return OrgFacts(
            crm="salesforce", pipelines=pipelines, lead_statuses=self._lead_statuses(),
            account_type_field="account_type", account_types={"account_type": account_types},
            fields={obj: frozenset(f["name"] for f in d["fields"]) for obj, d in described.items()},
            access=tuple(_access(described)), time_zone=org.get("TimeZoneSidKey"),
            country=country_of(org.get("DefaultLocaleSidKey")), api_version=f"v{self._version}",
            daily_limit=usage.daily_limit, daily_remaining=usage.daily_remaining, pipeline_field=pipeline_field)

    def _check_version(self) -> None:
        def versions(sf: Salesforce) -> Any:
            return call_salesforce(f"https://{sf.sf_instance}/services/data/", "GET", sf.session, sf.headers,
                                   timeout=TIMEOUT).json()

        known = [str(v["version"]) for v in self._client.call("other", "GET versions", versions, budgeted=False)]
        if self._version not in known:
            raise FatalConnectorError(f"the Salesforce org does not serve API version {self._version}: set "
                                      f"SALESFORCE_API_VERSION to one of {', '.join(known[-4:])}")

    def _stages(self) -> dict[str, StageFacts]:
        soql = ("SELECT ApiName, DefaultProbability, IsClosed, IsWon, SortOrder FROM OpportunityStage "
                "WHERE IsActive = true ORDER BY SortOrder")
        return {r["ApiName"]: StageFacts(r["ApiName"], r["DefaultProbability"], bool(r["IsClosed"]), bool(r["IsWon"]))
                for r in self._client.query_rows(soql)}

    def _lead_statuses(self) -> tuple[StageFacts, ...]:
        soql = "SELECT ApiName, IsConverted, SortOrder FROM LeadStatus ORDER BY SortOrder"
        return tuple(StageFacts(r["ApiName"], None, bool(r["IsConverted"]) or r["ApiName"].lower().startswith(
            "closed"), bool(r["IsConverted"])) for r in self._client.query_rows(soql))

    def _pipelines(self, stages: dict[str, StageFacts]) -> tuple[tuple[PipelineFacts, ...], str | None]:
        """One pipeline for the org, or one per active Opportunity record type (its sales process)."""
        soql = format_soql("SELECT Id, Name FROM RecordType WHERE SobjectType = {o} AND IsActive = true ORDER BY Name",
                           o="Opportunity")
        record_types = list(self._client.query_rows(soql))
        if len(record_types) < 2:
            return (PipelineFacts("Opportunities", tuple(stages.values()), default=True),), None
        found = []
        for n, record_type in enumerate(record_types):
            values = self._client.call("other", "GET picklist values", lambda sf, rt=record_type["Id"]: sf.restful(  # type: ignore[misc]
                f"ui-api/object-info/Opportunity/picklist-values/{rt}/StageName", timeout=TIMEOUT))
            allowed = [v["value"] for v in values["values"]]
            found.append(PipelineFacts(record_type["Name"], tuple(stages[v] for v in allowed if v in stages),
                                       default=n == 0))
        return tuple(found), "RecordTypeId"

    def task_key_problem(self) -> str | None:
        return key_field_problem(self._key, self.describe("Task"))

    def create_task_key(self) -> str:
        """Create the key field on Activity (Task's custom fields) through the Metadata API."""
        full_name = f"Activity.{self._key}"

        def create(sf: Salesforce) -> None:
            mdapi = sf.mdapi
            field = mdapi.CustomField(fullName=full_name, label=self._key.removesuffix("__c").replace("_", " "),
                                      type="Text", length=255, externalId=True, unique=True, caseSensitive=True)
            mdapi.CustomField.create([field])

        try:
            self._client.call("write", "Metadata API createMetadata", create, retry=False)
        except ConnectorError as exc:
            raise FatalConnectorError(f"could not create {full_name} ({exc}); by hand: {key_field_steps(self._key)}"
                                      ) from None
        except Exception as exc:  # simple-salesforce raises a bare Exception, zeep its own faults, for a refusal
            reason = " ".join(str(exc).split())[:300]
            raise FatalConnectorError(f"Salesforce refused to create {full_name} ({reason}); by hand: "
                                      f"{key_field_steps(self._key)}") from None
        return (f"created {full_name} (Text(255), External ID, unique) through the Metadata API; grant the "
                "integration user edit access to it if its profile does not get new fields")


def _access(described: Mapping[ObjectType, Describe]) -> Iterator[ObjectAccess]:
    for obj, d in described.items():
        if obj is ObjectType.CONTACT:
            continue
        yield ObjectAccess(obj, d["name"], bool(d.get("queryable")),
                           bool(d.get("updateable")) if obj in UPDATED else None,
                           bool(d.get("createable")) if obj is ObjectType.TASK else None,
                           bool(d.get("mergeable")) if obj in MERGED else None)
