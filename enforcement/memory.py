"""An ``OrgData`` over plain lists, for tests and for small exports evaluated without a database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from connectors.records import RECORD_CLASSES, ObjectType, Owner, Record, Task, TaskStatus


class InMemoryOrg:
    def __init__(self, records: Iterable[Record]) -> None:
        self._by_type: dict[ObjectType, list[Record]] = {t: [] for t in ObjectType}
        kinds = {cls: t for t, cls in RECORD_CLASSES.items()}
        for record in records:
            if not record.deleted:
                self._by_type[kinds[type(record)]].append(record)

    def records(self, object_type: ObjectType) -> Iterable[Record]:
        return iter(self._by_type[object_type])

    def owners(self) -> Mapping[str, Owner]:
        return {o.id: o for o in self._by_type[ObjectType.OWNER] if isinstance(o, Owner)}

    def last_activity(self) -> Mapping[str, datetime]:
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
