"""A large synthetic org for the benchmarks: millions of rows, generated and inserted in chunks.

Rows are produced lazily and written ``CHUNK`` at a time, one transaction per chunk, so memory
stays flat however large the org. Ids use nine digits, so a scaled org never collides with the
demo org's six-digit ids.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from connectors.local import LocalCRM
from demo.accounts import NOUNS, WORDS
from demo.deals import CLOSED_STAGES, OPEN_STAGES
from demo.people import REPS, demo_owners
from domain.records import ObjectType, TaskPriority, TaskStatus, TaskType

CHUNK = 50_000
STAGES = (*OPEN_STAGES, *CLOSED_STAGES)
ACCOUNT_TYPES = ("Customer", "Prospect", "Prospect", "Partner")
TASK_TYPES = tuple(TaskType)
PRIORITIES = tuple(TaskPriority)


def seed_scaled(
    crm: LocalCRM, *, accounts: int, opportunities: int, tasks: int, now: datetime, seed: int = 7
) -> None:
    """Add a synthetic org of the given size (plus the demo owners when the CRM has none)."""
    rng = random.Random(seed)
    if crm.count(ObjectType.OWNER) == 0:
        crm.insert_records(demo_owners(now))
    reps = [p.owner_id for p in REPS]
    _insert(crm, ObjectType.ACCOUNT, accounts, lambda n: _account(rng, now, reps, n))
    _insert(crm, ObjectType.OPPORTUNITY, opportunities, lambda n: _opportunity(rng, now, reps, n, accounts))
    _insert(crm, ObjectType.TASK, tasks, lambda n: _task(rng, now, reps, n, accounts, opportunities))


def _insert(crm: LocalCRM, obj: ObjectType, count: int, make: Callable[[int], dict[str, Any]]) -> None:
    rows: Iterator[dict[str, Any]] = (make(n) for n in range(1, count + 1))
    while crm.insert_rows(obj, islice(rows, CHUNK)) == CHUNK:
        pass


def _ago(rng: random.Random, now: datetime, max_days: float) -> datetime:
    return now - timedelta(days=rng.random() * max_days)


def _account(rng: random.Random, now: datetime, reps: list[str], n: int) -> dict[str, Any]:
    created = _ago(rng, now, 1500)
    return {
        "id": f"acc-{n:09d}",
        "name": f"{rng.choice(WORDS)} {rng.choice(NOUNS)} {n}",
        "owner_id": rng.choice(reps),
        "created_at": created,
        "updated_at": created + (now - created) * rng.random(),
        "website": f"company{n}.example",
        "account_type": rng.choice(ACCOUNT_TYPES),
    }


def _opportunity(rng: random.Random, now: datetime, reps: list[str], n: int, accounts: int) -> dict[str, Any]:
    created = _ago(rng, now, 700)
    changed = created + (now - created) * rng.random()
    stage = rng.choice(STAGES)
    return {
        "id": f"opp-{n:09d}",
        "name": f"Deal {n}",
        "account_id": f"acc-{rng.randint(1, accounts):09d}" if accounts else None,
        "owner_id": rng.choice(reps),
        "stage": stage,
        "created_at": created,
        "updated_at": changed,
        "stage_changed_at": changed,
        "amount": float(rng.randint(50, 2500) * 100),
        "probability": OPEN_STAGES.get(stage, CLOSED_STAGES.get(stage)),
        "close_date": (changed + timedelta(days=60)).date(),
        "is_closed": stage in CLOSED_STAGES,
        "is_won": stage == "Closed Won",
    }


def _task(
    rng: random.Random, now: datetime, reps: list[str], n: int, accounts: int, opportunities: int
) -> dict[str, Any]:
    created = _ago(rng, now, 700)
    completed = rng.random() < 0.7
    parent = None
    if opportunities and (not accounts or rng.random() < 0.6):
        parent = f"opp-{rng.randint(1, opportunities):09d}"
    elif accounts:
        parent = f"acc-{rng.randint(1, accounts):09d}"
    return {
        "id": f"tsk-{n:09d}",
        "subject": "Call" if completed else "Follow up",
        "owner_id": rng.choice(reps),
        "status": TaskStatus.COMPLETED if completed else TaskStatus.OPEN,
        "task_type": rng.choice(TASK_TYPES),
        "priority": rng.choice(PRIORITIES),
        "created_at": created,
        "updated_at": created,
        "due_date": (created + timedelta(days=7)).date(),
        "completed_at": created if completed else None,
        "what_id": parent,
    }
