"""The HubSpot connector: CRM Warden's :class:`domain.connector.Connector` over ``hubspot-api-client``.

Companies are accounts, deals opportunities, tasks and logged calls tasks, contacts contacts (all
of them), owners owners. Leads are either HubSpot's Leads object or the contacts in a lead lifecycle
stage (``leads=``); a contact that leaves those stages comes back as a deleted lead. Associations
(v4) give a deal's company, a task's deal/company/contact and a contact's company. Custom
properties map normalized ``extra`` names to HubSpot property names, per record type. Calls spent
are counted in ``usage`` by kind (read, write, merge, other).

First syncs read the list endpoints, whose order is by id, not by modification time: a first sync
that stops half-way must start over rather than resume from the newest record it saw. Between
syncs the connector keeps the pipelines, the archived owners and when it last swept each stream's
archived records (``_memory.SyncMemory``), and one search of changed contacts serves both contacts
and contact leads: a sync that finds nothing changed costs a call per object type.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, Literal

from connectors._retry import Sleep
from connectors.hubspot._activities import read_activities
from connectors.hubspot._http import HubSpotHttp, OAuthApp
from connectors.hubspot._inspect import HubSpotInspector
from connectors.hubspot._mapping import (
    CALLS,
    CONTACT_LEADS,
    EPOCH,
    LEAD_STAGES,
    LEADS_OBJECT,
    SPECS,
    Mapper,
    ObjectSpec,
    StageCatalog,
    deleted_stub,
    epoch_ms,
    owner,
    parse_datetime,
)
from connectors.hubspot._memory import Newest, SyncMemory
from connectors.hubspot._merge import HubSpotMerger
from connectors.hubspot._ratelimit import Clock, RateLimiter
from connectors.hubspot._read import LINKS_PER_CALL, HubSpotReader, JsonObject, chunked, inline_links
from connectors.hubspot._write import ContactLeadWriter, HubSpotWriter
from connectors.hubspot.settings import HubSpotSettings
from domain.activities import Activity
from domain.connector import ApiUsage, MergeResult, NewLead, NewTask, RecordUpdate, Snapshot, TaskDeletion, WriteResult
from domain.inspection import OrgFacts
from domain.records import ObjectType, Owner, Record, StageChange

LeadSource = Literal["contacts", "leads_object"]
ARCHIVE_SWEEP = timedelta(minutes=60)
REMEMBERED_CHANGES = 10_000
"""Changed contacts one search keeps for both contacts and contact leads; more are searched twice."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _modified_ms(obj: JsonObject, spec: ObjectSpec) -> int:
    modified = parse_datetime(obj["properties"].get(spec.modified)) or parse_datetime(obj.get("updatedAt"))
    return -1 if modified is None else epoch_ms(modified)

CustomProperties = Mapping[ObjectType, Mapping[str, str]]


class HubSpotConnector:
    """One HubSpot portal.

    Args:
        http: the request door (auth, limits, retries) built by :meth:`from_settings`.
        custom_properties: per record type, normalized ``extra`` name -> HubSpot property name.
        leads: ``"contacts"`` (contacts whose lifecycle stage is in ``lead_stages``) or
            ``"leads_object"`` (HubSpot's Leads object, on portals that have it).
        task_key_property: the task property that holds each created task's ledger key; create it in
            the portal as a single-line text property.
        calls_as_tasks: also read logged calls as completed call tasks (what call-cadence rules count).
    """

    name = "hubspot"
    first_sync_in_change_order = False
    """List endpoints page by id, so the mirror sets no watermark until a first sync is complete."""

    def __init__(self, http: HubSpotHttp, *, custom_properties: CustomProperties | None = None,
                 leads: LeadSource = "contacts", lead_stages: Sequence[str] = LEAD_STAGES,
                 task_key_property: str = "warden_key", calls_as_tasks: bool = True,
                 archive_sweep: timedelta = ARCHIVE_SWEEP, now: Callable[[], datetime] = _utc_now) -> None:
        self.http = http
        self.usage: ApiUsage = http.usage
        self.custom = dict(custom_properties or {})
        self.leads, self.lead_stages = leads, tuple(lead_stages)
        self.reader = HubSpotReader(http)
        self._catalog: StageCatalog | None = None
        self._task_key_property = task_key_property
        self.calls_as_tasks = calls_as_tasks
        self.merger = HubSpotMerger(http, self.reader, contact_leads=self.leads == "contacts")
        self._entered: list[tuple[str, str, datetime]] = []
        """(deal id, stage label, entered at) of the deals read since the history was last asked for."""
        self.inspector = HubSpotInspector(http, self.reader, task_key_property)
        self.memory = SyncMemory()
        self._archive_sweep, self._now = archive_sweep, now
        self._catalog_remembered = False
        self._archived_lists: dict[str, list[JsonObject]] = {}
        self._searched: dict[str, tuple[int, list[JsonObject]]] = {}

    @classmethod
    def from_settings(cls, settings: HubSpotSettings, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
                      **options: Any) -> HubSpotConnector:
        """A connector for the portal the ``HUBSPOT_*`` settings name; ``options`` go to the constructor."""
        token = settings.access_token.get_secret_value() if settings.access_token else None
        oauth = None
        if settings.client_id and settings.client_secret and settings.refresh_token:
            oauth = OAuthApp(settings.client_id, settings.client_secret.get_secret_value(),
                             settings.refresh_token.get_secret_value())
        limiter = RateLimiter(settings.burst_limit, clock=clock, sleep=sleep)
        options.setdefault("archive_sweep", timedelta(minutes=settings.archive_sweep_minutes))
        return cls(HubSpotHttp(settings.api_base, token, limiter, ApiUsage(), sleep=sleep, oauth=oauth), **options)

    def saved_state(self) -> dict[str, Any]:
        return self.memory.as_state()

    def resume_state(self, state: Mapping[str, Any]) -> None:
        self.memory = SyncMemory.from_state(dict(state))

    @property
    def catalog(self) -> StageCatalog:
        """The portal's deal stages: remembered from an earlier sync while fresh, else read (once per connector)."""
        if self._catalog is None:
            remembered = self.memory.fresh_pipelines(self._now())
            self._catalog_remembered = remembered is not None
            self._catalog = StageCatalog.from_pipelines(remembered if remembered is not None else self._pipelines())
        return self._catalog

    def _pipelines(self) -> dict[str, Any]:
        body = self.reader.deal_pipelines()
        self.memory.pipelines, self.memory.pipelines_read_at = body, self._now()
        return body

    def _knows_stages_of(self, obj: JsonObject) -> bool:
        """False once, when a deal names a stage the remembered pipelines lack: they are read again."""
        stage = obj["properties"].get("dealstage")
        if not stage or stage in self.catalog.stages or not self._catalog_remembered:
            return True
        self._catalog, self._catalog_remembered = StageCatalog.from_pipelines(self._pipelines()), False
        return False

    def spec(self, object_type: ObjectType) -> ObjectSpec:
        if object_type is ObjectType.LEAD:
            return LEADS_OBJECT if self.leads == "leads_object" else CONTACT_LEADS
        return SPECS[object_type]

    def _properties(self, object_type: ObjectType, spec: ObjectSpec) -> list[str]:
        extra = self.catalog.entered_properties() if object_type is ObjectType.OPPORTUNITY else ()
        return [*spec.properties, spec.modified, *extra, *self.custom.get(object_type, {}).values()]

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        """Records changed at or after ``since`` (all when None); archived ones come back deleted.

        Tasks include logged calls (completed call tasks) unless ``calls_as_tasks`` is off.
        """
        if object_type is ObjectType.OWNER:
            yield from self.owners()
            return
        streams = [self.spec(object_type)]
        if object_type is ObjectType.TASK and self.calls_as_tasks:
            streams.append(CALLS)
        for spec in streams:
            yield from self._changed(object_type, spec, since)

    def _mapper(self, object_type: ObjectType) -> Mapper:
        return Mapper(self.catalog if object_type is ObjectType.OPPORTUNITY else StageCatalog(), self.custom)

    def _changed(self, object_type: ObjectType, spec: ObjectSpec, since: datetime | None) -> Iterator[Record]:
        mapper = self._mapper(object_type)
        props = self._properties(object_type, spec)
        contact_leads = object_type is ObjectType.LEAD and spec is CONTACT_LEADS
        deals = object_type is ObjectType.OPPORTUNITY
        stream, newest = f"{object_type.value}:{spec.hubspot_type}", Newest()
        if since is None:
            for obj in self.reader.list_all(spec.hubspot_type, props, associations=spec.links):
                if deals and not self._knows_stages_of(obj):
                    mapper = self._mapper(object_type)
                if not contact_leads or obj["properties"].get("lifecyclestage") in self.lead_stages:
                    self._remember(object_type, obj)
                    record = mapper.record(object_type, obj, inline_links(obj, spec.links), spec)
                    newest.saw(record.id, epoch_ms(record.updated_at or EPOCH))
                    yield record
            self._remember_newest(stream, newest)
            return
        known_ms, known_ids = self.memory.boundaries.get(stream, (-1, []))
        if known_ms != epoch_ms(since):  # they are known only when the search starts at their instant
            known_ids = []
        changed = (obj for obj in self._search(object_type, spec, since, props)
                   if not (obj["id"] in known_ids and _modified_ms(obj, spec) == known_ms))
        for chunk in chunked(changed, LINKS_PER_CALL):
            links = {to: self.reader.links(spec.hubspot_type, [o["id"] for o in chunk], to) for to in spec.links}
            for obj in chunk:
                if deals and not self._knows_stages_of(obj):
                    mapper = self._mapper(object_type)
                self._remember(object_type, obj)
                record = mapper.record(object_type, obj, {to: links[to].get(obj["id"], []) for to in links}, spec)
                newest.saw(record.id, epoch_ms(record.updated_at or since))
                if contact_leads and obj["properties"].get("lifecyclestage") not in self.lead_stages:
                    record = deleted_stub(ObjectType.LEAD, obj["id"], record.updated_at or since)
                yield record  # a contact that left the lead stages is no longer a lead
                if object_type is ObjectType.ACCOUNT:
                    yield from self._merged_away(obj, since)
        yield from self._archived(object_type, spec, since)
        self._remember_newest(stream, newest)

    def _remember_newest(self, stream: str, newest: Newest) -> None:
        """Keep which records this stream read at its newest instant: the next search finds them again."""
        if newest.ids:
            self.memory.boundaries[stream] = (newest.ms, newest.ids)

    def iter_stage_history(self, object_type: ObjectType, since: datetime | None) -> Iterator[StageChange]:
        """The stages each deal read since the last call entered, from its ``hs_date_entered_<stage>``.

        No API call: the dates came with the deals. HubSpot keeps only the latest entry per stage and no
        forecast history, so ``since`` is not needed (every entry is offered; the mirror keeps each once).
        """
        if object_type is not ObjectType.OPPORTUNITY:
            return
        entered, self._entered = self._entered, []
        for deal_id, stage, at in entered:
            yield StageChange(ObjectType.OPPORTUNITY, deal_id, at, stage, from_crm=True)

    def _remember(self, object_type: ObjectType, obj: JsonObject) -> None:
        if object_type is ObjectType.OPPORTUNITY:
            self._entered.extend((obj["id"], stage, at) for stage, at in self.catalog.entries(obj["properties"]))

    def _merged_away(self, obj: JsonObject, when: datetime) -> Iterator[Record]:
        for old_id in (obj["properties"].get("hs_merged_object_ids") or "").split(";"):
            if old_id and old_id != obj["id"]:
                yield deleted_stub(ObjectType.ACCOUNT, old_id, when)

    def _search(self, object_type: ObjectType, spec: ObjectSpec, since: datetime,
                props: list[str]) -> Iterator[JsonObject]:
        """Objects of the spec's type modified since ``since``.

        Contacts are searched once for contacts and contact leads alike (with the properties of both), when
        few enough changed to keep in memory.
        """
        since_ms = epoch_ms(since)
        if spec.hubspot_type != "contacts" or self.leads != "contacts":
            yield from self.reader.search_since(spec.hubspot_type, spec.modified, since_ms, props)
            return
        searched = self._searched.get(spec.hubspot_type)
        if searched is None or searched[0] > since_ms:
            both = list(dict.fromkeys([*self._properties(ObjectType.CONTACT, SPECS[ObjectType.CONTACT]),
                                       *self._properties(ObjectType.LEAD, CONTACT_LEADS)]))
            found = list(islice(self.reader.search_since(spec.hubspot_type, spec.modified, since_ms, both),
                                REMEMBERED_CHANGES + 1))
            if len(found) > REMEMBERED_CHANGES:  # too many to keep: search for each type on its own
                yield from self.reader.search_since(spec.hubspot_type, spec.modified, since_ms, props)
                return
            searched = self._searched[spec.hubspot_type] = (since_ms, found)
        for obj in searched[1]:
            if epoch_ms(parse_datetime(obj["properties"].get(spec.modified)) or since) >= since_ms:
                yield obj

    def _archived(self, object_type: ObjectType, spec: ObjectSpec, since: datetime) -> Iterator[Record]:
        stream, now = f"{object_type.value}:{spec.hubspot_type}", self._now()
        start = self.memory.sweep_from(stream, since, now, self._archive_sweep)
        if start is None:
            return
        if spec.hubspot_type not in self._archived_lists:
            self._archived_lists[spec.hubspot_type] = list(self.reader.list_all(spec.hubspot_type, [], archived=True))
        for obj in self._archived_lists[spec.hubspot_type]:
            archived_at = parse_datetime(obj.get("archivedAt")) or parse_datetime(obj["updatedAt"])
            if archived_at is not None and archived_at >= start:
                yield deleted_stub(object_type, obj["id"], archived_at)
        self.memory.swept[stream] = now

    def owners(self) -> list[Owner]:
        """Every owner, active or archived; ``manager_id`` is None (managers come from the policy).

        Archived owners are remembered: they are read again only when someone left the active list.
        """
        active = list(self.reader.owners(archived=False))
        ids = [str(o["id"]) for o in active]
        archived = self.memory.archived_owners
        if archived is None or not set(self.memory.active_owners) <= set(ids):
            archived = list(self.reader.owners(archived=True))
        self.memory.active_owners, self.memory.archived_owners = ids, archived
        return [owner(o) for o in (*archived, *active)]

    def fetch(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        """The records behind these ids: a batch read per 100, an association read per 1,000 and linked type.

        HubSpot answers a merged-away company's or contact's id with the survivor, which lists the old id
        in its ``hs_merged_object_ids``; archived ids are left out, and so is a contact no longer a lead.
        """
        if object_type is ObjectType.OWNER:
            wanted = set(record_ids)
            return {o.id: o for o in self.owners() if o.id in wanted}
        spec = self.spec(object_type)
        mapper = Mapper(self.catalog if object_type is ObjectType.OPPORTUNITY else StageCatalog(), self.custom)
        asked = list(dict.fromkeys(record_ids))
        properties = list(dict.fromkeys([*self._properties(object_type, spec), "hs_merged_object_ids"]))
        objects = self.reader.read_many(spec.hubspot_type, asked, properties)
        if object_type is ObjectType.LEAD and spec is CONTACT_LEADS:
            objects = [o for o in objects if o["properties"].get("lifecyclestage") in self.lead_stages]
        links = {to: self.reader.links(spec.hubspot_type, [o["id"] for o in objects], to) for to in spec.links}
        behind: dict[str, JsonObject] = {}
        for obj in objects:
            behind[obj["id"]] = obj
            for old_id in (obj["properties"].get("hs_merged_object_ids") or "").split(";"):
                behind.setdefault(old_id, obj)
        return {i: mapper.record(object_type, behind[i], {to: links[to].get(behind[i]["id"], []) for to in links},
                                 spec) for i in asked if i in behind}

    def _writer(self) -> HubSpotWriter:
        return HubSpotWriter(self.http, self.spec, lambda: self.catalog, self.custom, self._task_key_property)

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        return self._writer().update(updates)

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        return self._writer().create_tasks(tasks)

    def delete_tasks(self, tasks: Sequence[TaskDeletion]) -> list[WriteResult]:
        return self._writer().delete_tasks(tasks)

    def create_leads(self, leads: Sequence[NewLead]) -> list[WriteResult]:
        """Leads as contacts in the lifecycle stage ``lead``; with ``leads="leads_object"`` none is created."""
        if self.leads == "leads_object":
            return [WriteResult(lead.key, False, None, f"new lead {lead.email}: creating HubSpot Leads objects "
                                "(each needs its contact) is not supported; connect with leads=contacts")
                    for lead in leads]
        return ContactLeadWriter(self.http).create_leads(leads)

    def iter_activities(self, since: datetime | None) -> Iterator[Activity]:
        """Logged emails and meetings changed at or after ``since``, oldest change first (see ``_activities``)."""
        return read_activities(self.reader, 0 if since is None else epoch_ms(since))

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        return self.merger.snapshot(object_type, record_ids)

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        return self.merger.merge(object_type, master_id, loser_ids)

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        self.merger.restore(snapshots)

    def inspect(self) -> OrgFacts:
        return self.inspector.inspect()

    def task_key_problem(self) -> str | None:
        return self.inspector.task_key_problem()

    def create_task_key(self) -> str:
        return self.inspector.create_task_key()
