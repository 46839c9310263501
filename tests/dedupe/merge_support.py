"""A small CRM with duplicate accounts and children, a ledger, and a way to compare whole CRM states."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.local import LocalCRM
from domain.records import Account, Contact, Note, ObjectType, Opportunity, Task, TaskPriority, TaskStatus, TaskType
from store.db import make_engine, migrate, session_factory

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ACME = ("Acme Products", "Acme Products, Inc.", "Acme Products, Inc", "Acme Products, Incorporated")


def _account(number: int, name: str, days_old: int, **fields: Any) -> Account:
    created = NOW - timedelta(days=days_old)
    return Account(f"acc-{number}", name, "u-1", created, created + timedelta(days=1), billing_city="Boston",
                   billing_postcode="02110", **fields)


def duplicate_accounts() -> list[Account]:
    """Acme four times (three sharing a website), Globex twice, and two banks that must stay apart."""
    return [
        _account(1, ACME[0], 900, website="acmeproducts.com", account_type="Prospect"),
        _account(2, ACME[1], 400, website="https://www.acmeproducts.com/", account_type="Customer",
                 phone="+1 617 555 0100"),
        _account(3, ACME[2], 300, account_type="Prospect", extra={"employees": 40}),
        _account(4, ACME[3], 200, website="www.acmeproducts.com", account_type="Prospect", extra={"employees": 2}),
        _account(5, "Globex GmbH", 500, website="globex.de"),
        _account(6, "Globex", 100, website="https://globex.de"),
        _account(7, "Bank of the West", 800, website="bankofthewest.com"),
        _account(8, "Bank of the East", 800, website="bankoftheeast.com"),
    ]


def children() -> list[Contact | Opportunity | Task | Note]:
    """Contacts, deals, tasks and notes on several of the duplicates, so a merge has work to move."""
    made = NOW - timedelta(days=50)
    return [
        Contact("con-1", "Ann Lee", "acc-1", "u-1", made, made, email="ann@acmeproducts.com"),
        Contact("con-2", "Bo Chen", "acc-3", "u-1", made, made),
        Contact("con-3", "Cy Diaz", "acc-6", "u-1", made, made),
        Opportunity("opp-1", "Acme renewal", "acc-2", "u-1", "Discovery", made, made, amount=1000.0),
        Opportunity("opp-2", "Acme upsell", "acc-2", "u-1", "Discovery", made, made),
        Opportunity("opp-3", "Acme pilot", "acc-4", "u-1", "Discovery", made, made),
        Opportunity("opp-4", "Partner deal", "acc-7", "u-1", "Discovery", made, made, partner_account_id="acc-3"),
        Task("tsk-1", "Call Acme", "u-1", TaskStatus.COMPLETED, TaskType.CALL, TaskPriority.NORMAL, made, made,
             what_id="acc-3", who_id="con-2", completed_at=made),
        Task("tsk-2", "Email Globex", "u-1", TaskStatus.OPEN, TaskType.EMAIL, TaskPriority.HIGH, made, made,
             what_id="acc-6"),
        Note("not-1", "acc-4", "Pricing", "Wants a discount.", made, made),
    ]


def seeded_crm(path: Path, crm_class: type[LocalCRM] = LocalCRM) -> LocalCRM:
    crm = crm_class(path, clock=lambda: NOW)
    crm.insert_records([*duplicate_accounts(), *children()])
    return crm


def ledger_sessions(path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return session_factory(engine)


def crm_state(crm: LocalCRM) -> dict[str, dict[str, dict[str, Any]]]:
    """Every field of every record (deleted ones too), except the CRM's own change stamp."""
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for obj in ObjectType:
        records = {r.id: {k: v for k, v in asdict(r).items() if k != "updated_at"} for r in crm.iter_changed(obj, None)}
        state[obj.value] = records
    return state
