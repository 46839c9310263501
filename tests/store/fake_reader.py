"""A tiny in-memory CRM reader for mirror tests, and record factories with realistic oddities."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from domain.records import (
    RECORD_CLASSES,
    Account,
    Contact,
    Lead,
    Note,
    ObjectType,
    Opportunity,
    Owner,
    Record,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
OBJECT_OF = {cls: obj for obj, cls in RECORD_CLASSES.items()}


class FakeReader:
    """Serves records changed at or after ``since``, oldest first, and notes which ids it served."""

    def __init__(self) -> None:
        self.records: dict[ObjectType, dict[str, Record]] = {obj: {} for obj in ObjectType}
        self.owner_list: list[Owner] = []
        self.served: list[str] = []
        self.fail_after: int | None = None

    def put(self, *records: Record) -> None:
        for record in records:
            self.records[OBJECT_OF[type(record)]][record.id] = record

    def iter_changed(self, object_type: ObjectType, since: datetime | None) -> Iterator[Record]:
        changed = [r for r in self.records[object_type].values() if since is None or _at(r) >= since]
        for record in sorted(changed, key=_at):
            if self.fail_after is not None and len(self.served) >= self.fail_after:
                raise ConnectionError("connection dropped mid-sync")
            self.served.append(record.id)
            yield record

    def owners(self) -> list[Owner]:
        return list(self.owner_list)


def _at(record: Record) -> datetime:
    assert record.updated_at is not None
    return record.updated_at


def opportunity(n: int, minutes: int = 0, **changes: object) -> Opportunity:
    fields: dict[str, object] = {
        "id": f"006{n:015d}", "name": f"Deal {n} — Ünïcødé 🚀", "account_id": "001A", "owner_id": "005A",
        "stage": "Prospecting", "created_at": T0, "updated_at": T0 + timedelta(minutes=minutes),
        "stage_changed_at": T0, "amount": 1250.5, "probability": 10.0, "close_date": date(2026, 6, 30),
        "partner_account_id": "001P", "extra": {"bant_budget": True, "source": "web"},
    }
    return Opportunity(**{**fields, **changes})  # type: ignore[arg-type]


def task(n: int, minutes: int = 0, **changes: object) -> Task:
    fields: dict[str, object] = {
        "id": f"00T{n:015d}", "subject": f"Call {n}", "owner_id": "005A", "status": TaskStatus.OPEN,
        "task_type": TaskType.CALL, "priority": TaskPriority.HIGH, "created_at": T0,
        "updated_at": T0 + timedelta(minutes=minutes), "due_date": date(2026, 5, 4), "what_id": "006X",
    }
    return Task(**{**fields, **changes})  # type: ignore[arg-type]


def one_of_each() -> list[Record]:
    """A record of every synced type, with the awkward values a real org has."""
    return [
        Account("001A", "Acme Products, Inc.", "005A", T0, T0, website="acme.example", account_type="Customer",
                extra={"naics": "3339"}),
        Contact("003A", "Zoë 李", "001A", None, T0, T0, email="zoe@acme.example"),
        Lead("00QA", "Ana Ruiz", None, "005A", "Open", T0, T0, extra={"bant": {"need": "yes"}}),
        opportunity(1, is_closed=True, is_won=True),
        task(1, completed_at=T0 + timedelta(hours=2), status=TaskStatus.COMPLETED, description=None),
        Note("002A", "001A", "Kick-off", "Long body\nwith lines", T0, T0),
    ]


def owners() -> list[Owner]:
    return [
        Owner("005A", "Avery Reed", "avery@example.com", time_zone="America/Chicago", manager_id="005M"),
        Owner("005M", "Morgan Lee", "morgan@example.com", updated_at=T0),
        Owner("00GQ", "Marketing queue", is_queue=True),
    ]
