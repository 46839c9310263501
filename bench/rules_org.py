"""A generated org written straight into the mirror tables, for the rules benchmark.

Rows go in chunk by chunk (one transaction each), so building a million opportunities and three
million tasks keeps memory flat. Owners come from the shipped policy's teams, so teams, managers and
time zones resolve as in production; the data mixes fresh, stale, incomplete and overdue records so
that every rule family has work to do.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine, insert

from config.policy import Policy
from domain.records import ObjectType, TaskPriority, TaskStatus, TaskType
from store.models import MIRROR_ROWS, Base

CONNECTION = "bench"
CHUNK = 20_000
ZONES = ("America/New_York", "America/Los_Angeles", "Europe/Berlin")
ACCOUNT_TYPES = ("Customer", "customer", "Client", "Prospect", "Prospect", "Partner")
OPEN_STAGES = ("Discovery", "First Demo", "Second Demo", "Checking References")
STAGE_PROBABILITY = {"Discovery": 10.0, "First Demo": 25.0, "Second Demo": 40.0, "Checking References": 70.0}
LEAD_STATUSES = ("New", "Working", "Qualified", "Qualified", "Disqualified")
BANT = ("bant_budget", "bant_authority", "bant_need", "bant_timeline")


@dataclass(frozen=True)
class Size:
    accounts: int
    opportunities: int
    tasks: int
    leads: int

    @classmethod
    def scaled(cls, scale: float) -> Size:
        """The issue's org (1M opportunities, 300k accounts, 3M tasks) times ``scale``, plus 100k leads."""
        return cls(max(10, int(300_000 * scale)), max(10, int(1_000_000 * scale)), max(10, int(3_000_000 * scale)),
                   max(10, int(100_000 * scale)))


def owner_rows(policy: Policy) -> list[dict[str, Any]]:
    """One user per team member and manager of the policy (one member has left), plus the queues."""
    rows: dict[str, dict[str, Any]] = {}
    for index, team in enumerate(policy.teams):
        zone = ZONES[index % len(ZONES)]
        rows[team.manager] = _owner(team.manager, zone, None)
        for member in team.members:
            rows[member] = _owner(member, zone, team.manager, active=not member.startswith("pat."))
    queues = [{**_owner(q, ZONES[0], None), "id": f"queue:{q}", "name": q, "email": None, "is_queue": True}
              for q in policy.queues]
    return [*rows.values(), *queues]


def _owner(email: str, zone: str, manager: str | None, active: bool = True) -> dict[str, Any]:
    name = email.split("@")[0].replace(".", " ").title()
    return {"id": f"user:{email}", "name": name, "email": email, "active": active, "is_queue": False,
            "manager_id": f"user:{manager}" if manager else None, "time_zone": zone, "updated_at": None}


def build(engine: Engine, policy: Policy, size: Size, now: datetime, seed: int = 11) -> None:
    """Write the owners and ``size`` generated records of each kind into the mirror of ``CONNECTION``."""
    rng = random.Random(seed)
    owners = owner_rows(policy)
    reps = [o["id"] for o in owners if not o["is_queue"] and o["manager_id"]]
    channel = next((o["id"] for o in owners if str(o["email"]).startswith("robin.")), reps[0])
    _write(engine, ObjectType.OWNER, iter(owners))
    _write(engine, ObjectType.ACCOUNT, (_account(rng, now, reps, channel, n) for n in range(size.accounts)))
    partners = [n for n in range(min(size.accounts, 5000)) if n % len(ACCOUNT_TYPES) == 5]
    _write(engine, ObjectType.OPPORTUNITY,
           (_opportunity(rng, now, reps, size.accounts, partners, n) for n in range(size.opportunities)))
    _write(engine, ObjectType.LEAD, (_lead(rng, now, reps, n) for n in range(size.leads)))
    _write(engine, ObjectType.TASK, (_task(rng, now, reps, size, n) for n in range(size.tasks)))


def _write(engine: Engine, obj: ObjectType, rows: Iterator[dict[str, Any]]) -> None:
    stmt = insert(Base.metadata.tables[MIRROR_ROWS[obj].__tablename__])
    while chunk := list(islice(rows, CHUNK)):
        with engine.begin() as connection:
            connection.execute(stmt, [{"connection": CONNECTION, **row} for row in chunk])


def _ago(rng: random.Random, now: datetime, days: float) -> datetime:
    return now - timedelta(days=rng.random() * days)


def _account(rng: random.Random, now: datetime, reps: list[str], channel: str, n: int) -> dict[str, Any]:
    kind = ACCOUNT_TYPES[n % len(ACCOUNT_TYPES)]
    created = _ago(rng, now, 1500)
    return {"id": f"acc{n:09d}", "name": f"Company {n}", "owner_id": channel if kind == "Partner" else rng.choice(reps),
            "created_at": created, "updated_at": created, "website": None, "phone": None, "billing_city": None,
            "billing_postcode": None, "billing_country": None, "account_type": kind, "extra": {}}


def _opportunity(
    rng: random.Random, now: datetime, reps: list[str], accounts: int, partners: list[int], n: int
) -> dict[str, Any]:
    closed = rng.random() < 0.3
    stage = ("Closed Won" if rng.random() < 0.4 else "Closed Lost") if closed else rng.choice(OPEN_STAGES)
    created = _ago(rng, now, 720)
    changed = max(created, now - timedelta(days=rng.expovariate(1 / 25)))
    probability = STAGE_PROBABILITY.get(stage, 0.0) if rng.random() < 0.9 else 55.0
    partner = f"acc{rng.choice(partners):09d}" if partners and rng.random() < 0.1 else None
    return {"id": f"opp{n:09d}", "name": f"Deal {n}", "account_id": f"acc{rng.randrange(accounts):09d}",
            "owner_id": rng.choice(reps), "stage": stage, "created_at": created, "updated_at": changed,
            "stage_changed_at": changed, "amount": None if rng.random() < 0.05 else 1000.0 * rng.randint(1, 500),
            "probability": probability, "close_date": (now + timedelta(days=rng.randint(-30, 180))).date(),
            "is_closed": closed, "is_won": stage == "Closed Won", "pipeline": rng.choice(("New Business", "Renewals")),
            "partner_account_id": partner, "extra": _bant(rng)}


def _bant(rng: random.Random) -> dict[str, Any]:
    return {k: "yes" for k in BANT if rng.random() < 0.9}


def _lead(rng: random.Random, now: datetime, reps: list[str], n: int) -> dict[str, Any]:
    created = _ago(rng, now, 365)
    changed = max(created, now - timedelta(days=rng.expovariate(1 / 12)))
    return {"id": f"led{n:09d}", "name": f"Lead {n}", "company": f"Company {n}", "owner_id": rng.choice(reps),
            "status": rng.choice(LEAD_STATUSES), "created_at": created, "updated_at": changed,
            "status_changed_at": changed, "email": None, "phone": None, "extra": _bant(rng)}


def _task(rng: random.Random, now: datetime, reps: list[str], size: Size, n: int) -> dict[str, Any]:
    done = rng.random() < 0.75
    created = _ago(rng, now, 200) if done else now - timedelta(days=rng.expovariate(1 / 7))
    about: Callable[[], str] = (lambda: f"acc{rng.randrange(size.accounts):09d}") if rng.random() < 0.5 else (
        lambda: f"opp{rng.randrange(size.opportunities):09d}")
    return {"id": f"tsk{n:09d}", "subject": "Call" if n % 3 == 0 else "Follow up", "owner_id": rng.choice(reps),
            "status": TaskStatus.COMPLETED if done else TaskStatus.OPEN,
            "task_type": TaskType.CALL if n % 3 == 0 else rng.choice((TaskType.EMAIL, TaskType.TODO)),
            "priority": rng.choice(tuple(TaskPriority)), "created_at": created, "updated_at": created,
            "due_date": (created + timedelta(days=rng.randint(1, 14))).date(),
            "completed_at": created + timedelta(days=rng.random() * 10) if done else None, "what_id": about(),
            "who_id": f"led{rng.randrange(size.leads):09d}" if rng.random() < 0.1 else None, "description": None}
