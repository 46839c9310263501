"""A worker pass shares one sync per connection: over an unchanged org it costs at most a call per object type.

Counted at the local HubSpot and Salesforce servers, with the shipped policy's jobs (every job due at
the first pass, the quarter-hourly ones after it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from config.policy import FieldMaps
from config.policy_connections import ConnectionPolicy
from connectors.local import LocalCRM
from domain.connector import ApiUsage, Connector
from domain.records import ObjectType, Opportunity
from jobs.job_runner import JobOutcome, JobRunner
from jobs.policy_keeper import PolicyKeeper
from store import mirror
from store.db import session_factory
from store.ingest import table_of
from store.locks import locks_for
from tests.connectors.hubspot_fixtures import connect as hubspot_connect
from tests.connectors.hubspot_fixtures import hubspot
from tests.connectors.sf_fixtures import connect as salesforce_connect
from tests.connectors.sf_fixtures import fake, seed, sf_server
from tests.jobs.worker_support import FakeClock, copy_crm, copy_policy, make_worker
from tests.servers.hubspot.seed import seed as seed_portal
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["fake", "sf_server"]


def finished(outcomes: list[JobOutcome]) -> list[str]:
    assert outcomes and {o.status for o in outcomes} == {"finished"}, outcomes
    return [o.job for o in outcomes]


def opportunity(engine: Engine, connection: str, record_id: str) -> Opportunity:
    with session_factory(engine)() as session:
        (found,) = mirror.iter_records(session, connection, ObjectType.OPPORTUNITY,
                                       where=table_of(ObjectType.OPPORTUNITY).c.id == record_id)
    assert isinstance(found, Opportunity)
    return found


def passes(engine: Engine, tmp_path: Path, connector: Callable[[ConnectionPolicy, FieldMaps], Connector],
           clock: FakeClock, calls: Callable[[], int]) -> Callable[[], int]:
    """A worker on the shipped policy; each call of the result runs one pass 15 minutes on and returns its calls."""
    worker = make_worker(engine, copy_policy(tmp_path), connector, clock)

    def one_pass() -> int:
        before = calls()
        finished(worker.tick())
        clock.advance(minutes=15)
        return calls() - before

    return one_pass


def test_a_pass_over_an_unchanged_hubspot_portal_costs_at_most_a_call_per_object_type(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Nine jobs, then three, share one sync; a deal moved in HubSpot reaches the mirror at the next pass."""
    clock = FakeClock()
    with hubspot() as (server, seconds):
        seeded = seed_portal(server.portal, 5, contacts_per=1, notes_per=1)
        one_pass = passes(sqlite_engine, tmp_path,
                          lambda _c, _f: hubspot_connect(server, seconds, burst=10_000, now=clock),
                          clock, server.requests)
        one_pass()
        one_pass()  # the first incremental sync also reads the archived lists (again each hour)
        assert one_pass() <= len(ObjectType)
        server.portal.update("deals", seeded.deals[0], {"dealstage": "closedwon"})
        assert one_pass() <= len(ObjectType) + 1  # the changed deal's associations
        assert opportunity(sqlite_engine, "local", seeded.deals[0]).stage == "Closed Won"


def test_a_pass_over_an_unchanged_salesforce_org_costs_at_most_a_call_per_object_type(
    sqlite_engine: Engine, tmp_path: Path, fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str]
) -> None:
    """The pass's one sync reads every first page in composite calls; a stage change reaches the next pass."""
    seeded = seed(fake.org)
    clock = FakeClock()
    one_pass = passes(sqlite_engine, tmp_path, lambda _c, _f: salesforce_connect(fake, sf_server[1]), clock,
                      lambda: fake.api_used)
    one_pass()
    assert one_pass() <= len(ObjectType)
    fake.org.touch("Opportunity", seeded["opp"], StageName="Closed Won")
    assert one_pass() <= len(ObjectType)
    assert opportunity(sqlite_engine, "local", seeded["opp"]).stage == "Closed Won"


def test_flows_sent_in_the_same_minute_share_one_sync_and_a_locked_sync_is_left_to_the_job(
    sqlite_engine: Engine, tmp_path: Path, small_crm: Path
) -> None:
    """Celery: a second flow's sync tasks and jobs read nothing; a type whose sync task was locked, the job syncs."""
    clock, usage, crm_path = FakeClock(), ApiUsage(), copy_crm(small_crm, tmp_path)

    def counted(_connection: ConnectionPolicy, _fields: FieldMaps) -> Connector:
        crm = LocalCRM(crm_path, clock=clock)
        crm.usage = usage
        return crm

    runner = JobRunner(session_factory(sqlite_engine), locks_for(sqlite_engine), counted, apply=False)
    loaded = PolicyKeeper(copy_policy(tmp_path), "local").refresh()
    connection = loaded.jobs[0].connection
    sent_at = datetime.now(UTC).replace(second=0, microsecond=0)

    def flow(held: str | None = None) -> int:
        before = usage.total
        with locks_for(sqlite_engine).hold(held or "nothing held", "local"):
            syncs = [runner.sync(obj, connection, loaded.policy, fresh_since=sent_at) for obj in ObjectType]
        assert {s.status for s in syncs} <= {"finished", "locked"}
        finished([runner.run("stale", connection, loaded.policy, clock(), fresh_since=sent_at)])
        return usage.total - before

    assert flow() == len(ObjectType)
    assert flow() == 0
    sent_at = datetime.now(UTC)
    assert flow(held="sync:account") == len(ObjectType)  # six sync tasks, then the job reads the accounts
