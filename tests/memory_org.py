"""An ``OrgData`` over plain lists: the test double rules are tested with, instead of a mirror database."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime

from domain.activities import Activity
from domain.org import Calls
from domain.records import RECORD_CLASSES, Lead, ObjectType, Opportunity, Owner, Record, Task, TaskStatus, TaskType


class InMemoryOrg:
    def __init__(self, records: Iterable[Record], activities: Iterable[Activity] = ()) -> None:
        self._activities = sorted(activities, key=lambda a: (a.occurred_at, a.id))
        self._by_type: dict[ObjectType, list[Record]] = {t: [] for t in ObjectType}
        kinds = {cls: t for t, cls in RECORD_CLASSES.items()}
        for record in records:
            if not record.deleted:
                self._by_type[kinds[type(record)]].append(record)

    def records(self, object_type: ObjectType) -> Iterable[Record]:
        return iter(self._by_type[object_type])

    def records_by_id(self, object_type: ObjectType, ids: Collection[str]) -> Iterable[Record]:
        wanted = set(ids)
        return (r for r in self._by_type[object_type] if r.id in wanted)

    def sla_suspects(
        self, object_type: ObjectType, closed: Collection[str], acting_owners: Collection[str], recheck: Collection[str]
    ) -> Iterable[Lead | Opportunity]:
        return (r for r in self._by_type[object_type] if isinstance(r, Lead | Opportunity) and _is_open(r, closed))

    def owners(self) -> Mapping[str, Owner]:
        return {o.id: o for o in self._by_type[ObjectType.OWNER] if isinstance(o, Owner)}

    def _last_activity(self) -> dict[str, datetime]:
        latest: dict[str, datetime] = {}
        for task in self._by_type[ObjectType.TASK]:
            if not isinstance(task, Task) or task.status is not TaskStatus.COMPLETED:
                continue
            if task.completed_at is None:
                continue
            for about in (task.what_id, task.who_id):
                if about and (about not in latest or latest[about] < task.completed_at):
                    latest[about] = task.completed_at
        return latest

    def last_activity_of(self, record_ids: Collection[str]) -> Mapping[str, datetime]:
        wanted = set(record_ids)
        return {about: done for about, done in self._last_activity().items() if about in wanted}

    def calls(self) -> Calls:
        latest: dict[str, datetime] = {}
        for task in self._tasks(TaskStatus.COMPLETED, TaskType.CALL):
            about, done = task.what_id, task.completed_at
            if about and done and (about not in latest or latest[about] < done):
                latest[about] = done
        scheduled = {t.what_id for t in self._tasks(TaskStatus.OPEN, TaskType.CALL) if t.what_id}
        return Calls(latest, scheduled)

    def open_tasks(self, due_before: date) -> Iterable[Task]:
        return (t for t in self._tasks(TaskStatus.OPEN) if t.due_date is not None and t.due_date < due_before)

    def gate_suspects(self, gates: Mapping[str, tuple[Sequence[str], float | None]]) -> Iterable[Opportunity]:
        return (d for d in self._by_type[ObjectType.OPPORTUNITY] if isinstance(d, Opportunity) and not d.is_closed)

    def unmoved_opportunities(self, before: datetime) -> Iterable[Opportunity]:
        deals = (d for d in self._by_type[ObjectType.OPPORTUNITY] if isinstance(d, Opportunity) and not d.is_closed)
        return (d for d in deals if (d.stage_changed_at or d.created_at) <= before)

    def activities(self, since: datetime) -> Iterable[Activity]:
        return (a for a in self._activities if a.occurred_at >= since)

    def _tasks(self, status: TaskStatus, task_type: TaskType | None = None) -> Iterator[Task]:
        for task in self._by_type[ObjectType.TASK]:
            if isinstance(task, Task) and task.status is status and task_type in (None, task.task_type):
                yield task


def _is_open(record: Record, closed: Collection[str]) -> bool:
    if isinstance(record, Opportunity):
        return not record.is_closed and record.stage not in closed
    return isinstance(record, Lead) and record.status not in closed
