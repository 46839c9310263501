"""Applying the demo org's plan through Salesforce, faults and all, ends where the embedded CRM does."""

from collections import Counter
from pathlib import Path
from typing import Any

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from domain.connector import Connector
from domain.records import Lead, ObjectType, Opportunity, Record, Task
from jobs.aliases import with_aliases
from jobs.apply.revert import revert
from jobs.pipeline import RunResult, run_job
from store.db import session_factory
from tests.connectors.sf_fixtures import connect, fake, sf_server, sleeps
from tests.connectors.test_salesforce_plan import NOW, local, store
from tests.servers.salesforce.org import Org
from tests.servers.salesforce.records import custom_fields, load
from tests.servers.salesforce.server import FakeSalesforce

UNRESTORABLE = ("is deactivated and the CRM refuses them", "it had no owner before the run")
"""Owners the CRM refuses: revert leaves those fields alone and lists them."""

__all__ = ["fake", "local", "sf_server", "sleeps"]


def outcome(connector: Connector) -> dict[str, Any]:
    """What a user would see afterwards: owners, stages, statuses, and the tasks that exist."""
    records: list[Record] = [r for obj in ObjectType for r in connector.iter_changed(obj, None)]
    return {
        "opportunities": {r.id: (r.owner_id, r.stage, r.is_closed) for r in records if isinstance(r, Opportunity)},
        "leads": {r.id: (r.owner_id, r.status) for r in records if isinstance(r, Lead)},
        "tasks": Counter((t.subject, t.owner_id, t.what_id, t.who_id, t.due_date, t.status)
                         for t in records if isinstance(t, Task)),
    }


def apply(connector: Connector, connection: str, path: Path) -> RunResult:
    engine = store(path)
    try:
        return run_job("all", connector=connector, connection=connection, policy=load_policy(PACKAGED_POLICY),
                       sessions=session_factory(engine), now=NOW, apply=True)
    finally:
        engine.dispose()


def test_applying_through_faults_changes_salesforce_exactly_as_the_embedded_crm(
    local: LocalCRM, fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], sleeps: list[float],
    tmp_path: Path,
) -> None:
    """A lost write answer, lock contention, a rate limit and an expired session lose or double no action."""
    records: list[Record] = [r for obj in ObjectType for r in local.iter_changed(obj, None)]
    fields = custom_fields(records)
    fake.org = Org(clock=lambda: NOW)
    load(fake.org, records, fields)
    salesforce = connect(fake, sf_server[1], sleeps, fields=fields)
    fake.fail_next("SERVER_UNAVAILABLE", "composite", after=True, times=2)
    fake.fail_next("UNABLE_TO_LOCK_ROW", "composite")
    fake.fail_next("REQUEST_LIMIT_EXCEEDED", "query")
    fake.org.locked.update({r.id: 1 for r in records if isinstance(r, Opportunity)})
    on_local = apply(local, "local", tmp_path / "local.db")
    fake.expire_sessions()
    on_salesforce = apply(salesforce, "salesforce", tmp_path / "salesforce.db")
    assert Counter(a.status for a in on_salesforce.actions) == Counter(a.status for a in on_local.actions)
    assert {a.status for a in on_salesforce.actions} == {"applied"}
    assert outcome(salesforce) == outcome(local)
    assert not fake.faults and len(sleeps) >= 4


def test_a_run_in_an_org_without_the_key_field_writes_nothing_and_says_why(
    local: LocalCRM, fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], tmp_path: Path,
) -> None:
    """Without Warden_Key__c on Task the run fails no action: it stops before writing, with doctor's line."""
    records: list[Record] = [r for obj in ObjectType for r in local.iter_changed(obj, None)]
    fields = custom_fields(records)
    fake.org = Org(clock=lambda: NOW)
    fake.org.schema["Task"].remove("Warden_Key__c")
    load(fake.org, records, fields)
    run = apply(connect(fake, sf_server[1], fields=fields), "salesforce", tmp_path / "salesforce.db")
    assert {a.status for a in run.actions} == {"planned"} and fake.requests["POST composite"] == 0
    assert fake.requests["PATCH composite"] == 0
    assert len(run.errors) == 1 and "Task has no field Warden_Key__c" in run.errors[0]


def test_revert_takes_an_applied_run_back_in_salesforce(
    local: LocalCRM, fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], sleeps: list[float],
    tmp_path: Path,
) -> None:
    """`warden revert` of the demo's `run all --apply`: every field back, every created task deleted, once."""
    records: list[Record] = [r for obj in ObjectType for r in local.iter_changed(obj, None)]
    fields = custom_fields(records)
    fake.org = Org(clock=lambda: NOW)
    load(fake.org, records, fields)
    policy = load_policy(PACKAGED_POLICY)
    salesforce = with_aliases(connect(fake, sf_server[1], sleeps, fields=fields), policy)
    before = outcome(salesforce)
    engine = store(tmp_path / "salesforce.db")
    sessions = session_factory(engine)
    run = run_job("all", connector=salesforce, connection="salesforce", policy=policy, sessions=sessions, now=NOW,
                  apply=True)
    assert outcome(salesforce) != before
    done = revert(run.run_id, salesforce, sessions, NOW, apply=True)
    assert done.outcome is not None and done.outcome.failed == 0 and done.outcome.applied > 0
    left = {s.record_id for s in done.plan.left}
    assert all(any(why in s.reason for why in UNRESTORABLE) for s in done.plan.left), done.plan.left
    after = outcome(salesforce)
    assert after["tasks"] == before["tasks"] and fake.requests["DELETE composite"] >= 1
    for kind in ("opportunities", "leads"):
        assert {k: v for k, v in after[kind].items() if k not in left} == {
            k: v for k, v in before[kind].items() if k not in left}
    again = revert(run.run_id, salesforce, sessions, NOW, apply=True)
    assert again.plan.actions == [] and len(again.plan.reverted) == done.outcome.applied
    engine.dispose()
