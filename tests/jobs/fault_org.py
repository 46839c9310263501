"""A small org whose plan holds every kind of action of every rule family, for the fault tests.

SLA reassignments with their "reassigned to you" tasks (a prerequisite and its dependent), stale
deals warned, pulled back and closed lost, a stale lead returned to marketing, a cadence call task,
overdue notices, a stage-gate fix and its task, and an unattended merge of duplicate accounts (two
losers, a new phone for the master). Sixteen actions, ten CRM calls at two records a call.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from connectors.local import LocalCRM
from domain.records import Account, Lead, Record, Task, TaskPriority, TaskStatus, TaskType
from tests.enforcement.families import NOW, OWNERS, POLICY_TEXT, account, days_ago, lead, opp

POLICY = POLICY_TEXT.replace("rules:\n", """\
dedupe:
  auto_merge: true
  fields: {website: newest_non_empty, phone: newest_non_empty}
  rename:
    suffixes: {"Inc.": [Inc, Inc., Incorporated]}
rules:
  - id: first-contact
    kind: sla
    object: lead
    statuses: [New]
    within: {business_hours: 2}
    reassign_to: {kind: round_robin}
    task: {subject: Call this new lead now, due_in_business_days: 0, priority: high, task_type: call}
  - id: duplicates
    kind: dedupe
    new_within_days: 7
""", 1)


def _duplicates() -> list[Account]:
    """One company under three names and one domain: an auto-tier merge of two losers, a new phone for the master."""
    def named(record_id: str, name: str, age_days: int, **fields: Any) -> Account:
        return Account(record_id, name, "u-a", days_ago(age_days), NOW, account_type="Prospect", **fields)

    return [
        named("acme-1", "Acme Products", 900, website="acmeproducts.com"),
        named("acme-2", "Acme Products, Inc", 300, website="https://www.acmeproducts.com/", phone="+1 617 555 0100"),
        named("acme-3", "Acme Products, Incorporated", 3, website="www.acmeproducts.com"),
    ]


def records() -> list[Record]:
    """The org: owners, deals, leads, tasks and duplicate accounts (see the module docstring)."""
    new_leads = [Lead(f"l-new-{n}", f"New lead {n}", "Initech", "u-a", "New", days_ago(1 + n / 10), days_ago(1))
                 for n in range(2)]
    overdue = Task("t-late", "Send the quote", "u-a", TaskStatus.OPEN, TaskType.TODO, TaskPriority.HIGH,
                   days_ago(9), days_ago(9), due_date=date(2026, 10, 15))
    return [
        *OWNERS,
        account("a1"), account("a2", account_type="Prospect"),
        account("p1", owner="u-cm", account_type="Partner"),
        *_duplicates(),
        opp("o-close", unmoved_days=80, extra={"close_reason": ""}),
        opp("o-pull", unmoved_days=80, partner_account_id="p1"),
        opp("o-warn", unmoved_days=61),
        opp("o-gate", stage="Demo", amount=None, probability=25.0),
        lead("l-stale", idle_days=45),
        *new_leads,
        overdue,
    ]


def seed(path: Path) -> Path:
    """The org in a new embedded CRM at ``path``, with every owner change logged by a trigger."""
    crm = LocalCRM(path, clock=lambda: NOW)
    crm.insert_records(records())
    crm.close()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE owner_changes (tbl TEXT, id TEXT, new_owner TEXT)")
        for table in ("leads", "opportunities", "accounts", "tasks"):
            db.execute(f"CREATE TRIGGER audit_{table} AFTER UPDATE OF owner_id ON {table} "
                       "WHEN OLD.owner_id IS NOT NEW.owner_id BEGIN "
                       f"INSERT INTO owner_changes VALUES ('{table}', NEW.id, NEW.owner_id); END")
    return path


def crm_state(path: Path) -> dict[str, Any]:
    """Every row of every table, created tasks keyed by their ledger key (their ids are random), and the owner log."""
    state: dict[str, Any] = {}
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
            rows = [dict(r) for r in db.execute(f"SELECT * FROM {table}")]
            if table == "owner_changes":
                state[table] = sorted(tuple(r.values()) for r in rows)
            elif rows and "id" in rows[0]:
                state[table] = dict(_keyed(r) for r in rows)
    return state


def _keyed(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A row without its change stamp, under its ledger key if it has one (a created task), else its id."""
    row.pop("updated_at", None)
    key = row.pop("external_key", None)
    record_id = row.pop("id")
    return key or record_id, row
