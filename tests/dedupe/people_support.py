"""Duplicate contacts and leads with tasks and notes about them, and the admin's plan for them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from dedupe.people_plan import build_people_plan, people_facts
from dedupe.plan import ClusterPlan
from domain.connector import Connector
from domain.records import Account, Contact, Lead, Note, ObjectType, Task, TaskPriority, TaskStatus, TaskType
from store import mirror
from tests.dedupe.merge_support import NOW

MADE = NOW - timedelta(days=40)


def people() -> list[Account | Contact | Lead | Task | Note]:
    """Robert Smith twice at Acme (once as Bob, without phone), a namesake elsewhere; Jo Park twice as a lead."""
    acme = Account("acc-1", "Acme Products", "u-1", MADE, MADE, website="acme.example")
    other = Account("acc-2", "Initech", "u-1", MADE, MADE)
    return [
        acme, other,
        Contact("con-1", "Robert Smith", "acc-1", "u-1", MADE - timedelta(days=300), MADE,
                email="rsmith@acme.example", phone="617 555 0100"),
        Contact("con-2", "Bob Smith", "acc-1", "u-1", MADE, MADE, email="RSmith@acme.example"),
        Contact("con-3", "Robert Smith", "acc-2", "u-1", MADE, MADE, email="robert@initech.example"),
        Lead("led-1", "Jo Park", "Hooli", "u-1", "Open", MADE, MADE, email="jo.park@hooli.example"),
        Lead("led-2", "Jo Park", "Hooli Inc.", "u-1", "Working", MADE + timedelta(days=2), MADE,
             email="jo.park@hooli.example", phone="+1 212 555 0199"),
        Task("tsk-1", "Call Bob", "u-1", TaskStatus.OPEN, TaskType.CALL, TaskPriority.NORMAL, MADE, MADE,
             who_id="con-2"),
        Task("tsk-2", "Intro call", "u-1", TaskStatus.COMPLETED, TaskType.CALL, TaskPriority.NORMAL, MADE, MADE,
             who_id="led-2", completed_at=MADE),
        Task("tsk-3", "Follow up", "u-1", TaskStatus.OPEN, TaskType.EMAIL, TaskPriority.NORMAL, MADE, MADE,
             who_id="led-2"),
        Note("not-1", "con-2", "Met at fair", "Wants a demo.", MADE, MADE),
        Note("not-2", "con-1", "Old notes", "Prefers email.", MADE, MADE),
    ]


def people_plan(crm: Connector, sessions: sessionmaker[Session], connection: str,
                object_type: ObjectType) -> list[ClusterPlan]:
    """What the admin gets after syncing, planning contacts (or leads) and approving every cluster."""
    mirror.sync(crm, sessions, connection)
    with sessions() as session:
        facts, accounts = people_facts(mirror.MirrorOrg(session, connection), object_type)
    plan = build_people_plan(object_type, facts, accounts, Policy())
    return [replace(c, approved=True) for c in plan.clusters]
