"""A CRM's stage and status names turned into the policy's, both ways (``stages.aliases``).

One policy can serve a company's Salesforce and its HubSpot although each names its stages its own
way: records read through this wrapper carry the policy's (canonical) names into the mirror, the
rules and the digests, and a rule's write goes back under the CRM's own name. Where several CRM
names stand for one policy name, a write uses the first listed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from config.policy import Policy
from domain.activities import Activity, ActivityReader
from domain.connector import (
    ApiUsage,
    Connector,
    HistoryReader,
    KeepsState,
    LeadCreator,
    MergeResult,
    NewLead,
    NewTask,
    ReadsAhead,
    RecordUpdate,
    Snapshot,
    TaskDeletion,
    TaskKeyCheck,
    WriteResult,
    reading_traits,
)
from domain.records import Lead, ObjectType, Opportunity, Owner, Record, StageChange

_RENAMED = {ObjectType.OPPORTUNITY: "stage", ObjectType.LEAD: "status"}


class AliasedConnector:
    """``inner`` with stage and status names translated by ``aliases`` (CRM name -> policy name)."""

    def __init__(self, inner: Connector, aliases: Mapping[str, str]) -> None:
        self._inner = inner
        self.name = inner.name
        self.usage: ApiUsage = inner.usage
        self.first_sync_in_change_order, self.reads_over_network = reading_traits(inner)
        self._to_policy = {crm.strip().lower(): name for crm, name in aliases.items()}
        self._to_crm: dict[str, str] = {}
        for crm, name in aliases.items():
            self._to_crm.setdefault(name, crm)

    def _policy_name(self, value: str | None) -> str | None:
        return None if value is None else self._to_policy.get(value.strip().lower(), value)

    def _renamed(self, record: Record) -> Record:
        if isinstance(record, Opportunity) and record.stage is not None:
            return dataclasses.replace(record, stage=self._policy_name(record.stage))
        if isinstance(record, Lead) and record.status is not None:
            return dataclasses.replace(record, status=self._policy_name(record.status))
        return record

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        for record in self._inner.iter_changed(object_type, since):
            yield self._renamed(record)

    def owners(self) -> list[Owner]:
        return self._inner.owners()

    def read_ahead(self, since: Mapping[ObjectType, datetime | None],
                   history_since: Mapping[ObjectType, datetime | None]) -> None:
        if isinstance(self._inner, ReadsAhead):
            self._inner.read_ahead(since, history_since)

    def saved_state(self) -> dict[str, Any]:
        return self._inner.saved_state() if isinstance(self._inner, KeepsState) else {}

    def resume_state(self, state: Mapping[str, Any]) -> None:
        if isinstance(self._inner, KeepsState):
            self._inner.resume_state(state)

    def iter_stage_history(self, object_type: ObjectType, since: datetime | None) -> Iterator[StageChange]:
        """The CRM's own stage history, with the policy's names (none when the CRM keeps none)."""
        if not isinstance(self._inner, HistoryReader):
            return
        for change in self._inner.iter_stage_history(object_type, since):
            yield dataclasses.replace(change, stage=self._policy_name(change.stage))

    def fetch(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        return {asked: self._renamed(record) for asked, record in self._inner.fetch(object_type, record_ids).items()}

    def update(self, updates: Sequence[RecordUpdate]) -> list[WriteResult]:
        return self._inner.update([self._crm_update(u) for u in updates])

    def _crm_update(self, update: RecordUpdate) -> RecordUpdate:
        field = _RENAMED.get(update.object_type)
        value = update.fields.get(field) if field else None
        if field is None or not isinstance(value, str) or value not in self._to_crm:
            return update
        return dataclasses.replace(update, fields={**update.fields, field: self._to_crm[value]})

    def delete_tasks(self, tasks: Sequence[TaskDeletion]) -> list[WriteResult]:
        return self._inner.delete_tasks(tasks)

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[WriteResult]:
        return self._inner.create_tasks(tasks)

    def create_leads(self, leads: Sequence[NewLead]) -> list[WriteResult]:
        if not isinstance(self._inner, LeadCreator):
            return [WriteResult(lead.key, ok=False, error=f"the {self.name} connector cannot create leads")
                    for lead in leads]
        return self._inner.create_leads([
            dataclasses.replace(lead, status=self._to_crm.get(lead.status, lead.status)) if lead.status else lead
            for lead in leads])

    def iter_activities(self, since: datetime | None) -> Iterator[Activity]:
        if isinstance(self._inner, ActivityReader):
            yield from self._inner.iter_activities(since)

    def snapshot(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[Snapshot]:
        return self._inner.snapshot(object_type, record_ids)

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        return self._inner.merge(object_type, master_id, loser_ids)

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        self._inner.restore(snapshots)

    def task_key_problem(self) -> str | None:
        return self._inner.task_key_problem() if isinstance(self._inner, TaskKeyCheck) else None

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()


def with_aliases(connector: Connector, policy: Policy) -> Connector:
    """The connector as rules should see it: with the policy's aliases for its CRM, when it has any."""
    aliases = policy.stages.aliases.of(connector.name)
    if not aliases or isinstance(connector, AliasedConnector):
        return connector
    return AliasedConnector(connector, aliases)
