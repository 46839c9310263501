"""The demo org's tasks: logged activity, customer calls, and open work of every urgency.

Completed tasks come from the ``Touch`` list the lead and deal generators return (the activity
that counts as "acting" on a record), plus a call history per customer in which some customers
have not been called for 100+ days. Open tasks are past due (some high priority), due today,
or in the future; a few belong to the rep who left.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from demo.people import LEAVER, REPS
from domain.records import Account, Task, TaskPriority, TaskStatus, TaskType

SUBJECTS = {
    TaskType.CALL: ("Call", "Discovery call", "Check-in call", "Follow-up call"),
    TaskType.EMAIL: ("Email", "Send proposal", "Send case study", "Email pricing"),
    TaskType.TODO: ("Prepare demo", "Update forecast", "Draft quote", "Review contract"),
}


Steps = list[tuple[int, Callable[[], None]]]
"""How many records each maker step adds: a demo org's recipe."""


def follow(steps: Steps) -> None:
    """Run each step of a recipe its number of times, in order (the order fixes the random draws)."""
    for count, step in steps:
        for _ in range(count):
            step()


@dataclass(frozen=True, slots=True)
class Touch:
    """A completed activity on a record: what makes it count as acted on."""

    record_id: str
    owner_id: str | None
    at: datetime
    task_type: TaskType = TaskType.CALL
    on_person: bool = False
    """True when the record is a lead or contact (the task's who_id), else its what_id."""


@dataclass(frozen=True, slots=True)
class Target:
    """A record that open tasks and old history may be about."""

    record_id: str
    owner_id: str | None
    created_at: datetime
    on_person: bool = False


class TaskMaker:
    """Numbers tasks and fills in the fields every task needs."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.tasks: list[Task] = []

    def _owner(self, owner_id: str | None) -> str:
        return owner_id if owner_id and owner_id.startswith("usr-") else self.rng.choice(REPS).owner_id

    def completed(self, touch: Touch) -> None:
        done = min(touch.at, self.now)  # nothing is completed in the future
        created = done - timedelta(hours=self.rng.uniform(0, 72))
        self._add(touch.record_id, touch.on_person, touch.owner_id, touch.task_type, TaskStatus.COMPLETED,
                  created, done, done)

    def open(self, target: Target, due: datetime, priority: TaskPriority | None = None,
             task_type: TaskType | None = None, owner_id: str | None = None) -> None:
        created = max(target.created_at, min(self.now, due) - timedelta(days=self.rng.uniform(0, 20)))
        self._add(target.record_id, target.on_person, owner_id or target.owner_id,
                  task_type or self.rng.choice(list(TaskType)), TaskStatus.OPEN, created, due, None, priority)

    def _add(self, record_id: str, on_person: bool, owner_id: str | None, task_type: TaskType,
             status: TaskStatus, created: datetime, due: datetime, completed: datetime | None,
             priority: TaskPriority | None = None) -> None:
        rng = self.rng
        self.tasks.append(
            Task(
                id=f"tsk-{len(self.tasks) + 1:07d}",
                subject=rng.choice(SUBJECTS[task_type]),
                owner_id=self._owner(owner_id),
                status=status,
                task_type=task_type,
                priority=priority or rng.choices(list(TaskPriority), weights=(2, 6, 2))[0],
                created_at=created,
                updated_at=completed or created,
                due_date=due.date(),
                completed_at=completed,
                what_id=None if on_person else record_id,
                who_id=record_id if on_person else None,
                description=None if rng.random() < 0.6 else "Logged from the demo seed.",
            )
        )


def _customer_calls(maker: TaskMaker, customers: list[Account]) -> None:
    rng, now = maker.rng, maker.now
    for account in customers:
        roll = rng.random()
        if roll < 0.05:
            continue  # never called
        recent = roll < 0.75
        last = now - timedelta(days=rng.uniform(1, 85) if recent else rng.uniform(100, 300))
        history = [last - timedelta(days=rng.uniform(30, 200)) for _ in range(rng.randint(0, 2))]
        for at in (last, *history):
            if at > account.created_at:
                maker.completed(Touch(account.id, account.owner_id, at))
        if rng.random() < 0.12:
            due = now + timedelta(days=rng.uniform(1, 20))
            maker.open(Target(account.id, account.owner_id, account.created_at), due, task_type=TaskType.CALL)


def _open_work(maker: TaskMaker, targets: list[Target]) -> None:
    rng, now = maker.rng, maker.now
    for _ in range(130):
        high = TaskPriority.HIGH if rng.random() < 0.25 else None
        maker.open(rng.choice(targets), now - timedelta(days=rng.uniform(1, 60)), high)
    for _ in range(35):
        maker.open(rng.choice(targets), now)
    for _ in range(150):
        maker.open(rng.choice(targets), now + timedelta(days=rng.uniform(1, 45)))
    for _ in range(4):
        maker.open(rng.choice(targets), now - timedelta(days=rng.uniform(5, 40)), owner_id=LEAVER.owner_id)


def build_tasks(
    rng: random.Random,
    now: datetime,
    touches: list[Touch],
    customers: list[Account],
    targets: list[Target],
    total: int = 1500,
) -> list[Task]:
    """About ``total`` tasks: the touches, customer calls, open work, then older history as filler.

    Filler history is at least 120 days old and only on records older than that, so it never
    counts as recent activity on a record the demo means to look neglected.
    """
    maker = TaskMaker(rng, now)
    for touch in touches:
        maker.completed(touch)
    _customer_calls(maker, customers)
    _open_work(maker, targets)
    old = [t for t in targets if t.created_at < now - timedelta(days=130)]
    while len(maker.tasks) < total:
        target = rng.choice(old)
        at = target.created_at + (now - timedelta(days=120) - target.created_at) * rng.random()
        maker.completed(Touch(target.record_id, target.owner_id, at, rng.choice(list(TaskType)), target.on_person))
    return maker.tasks
