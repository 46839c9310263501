from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from connectors.salesforce import SalesforceConnector
from domain.connector import Connector
from domain.records import Account, Lead, ObjectType, Opportunity, Owner, Task, TaskPriority, TaskStatus, TaskType
from store import mirror
from store.db import make_engine, migrate, session_factory
from tests.connectors.sf_fixtures import Seeded, connect, connector, fake, seeded, sf_server, sleeps
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["connector", "fake", "seeded", "sf_server", "sleeps"]


def test_first_sync_maps_every_standard_object(connector: SalesforceConnector, seeded: Seeded) -> None:
    """Accounts, opportunities (stage date, partner) and tasks come back as normalized records."""
    accounts = {a.id: a for a in connector.iter_changed(ObjectType.ACCOUNT, None)}
    acme = accounts[seeded["acme"]]
    assert isinstance(acme, Account)
    assert (acme.name, acme.owner_id, acme.website, acme.account_type) == (
        "Acme Products", seeded["rep"], "acme.example", "Customer")
    [opp] = connector.iter_changed(ObjectType.OPPORTUNITY, None)
    assert isinstance(opp, Opportunity)
    assert opp.stage_changed_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert (opp.partner_account_id, opp.close_date, opp.amount) == (seeded["partner"], date(2026, 6, 30), 12000.0)
    [task] = connector.iter_changed(ObjectType.TASK, None)
    assert isinstance(task, Task)
    assert (task.task_type, task.priority, task.status) == (TaskType.CALL, TaskPriority.HIGH, TaskStatus.OPEN)
    assert (task.due_date, task.what_id, task.who_id) == (date(2026, 5, 4), seeded["acme_co"], seeded["contact"])


def test_owners_include_queues_managers_and_time_zones(connector: SalesforceConnector, seeded: Seeded) -> None:
    """Users carry manager, time zone and active flag; the queue comes back flagged as a queue."""
    owners = {o.id: o for o in connector.owners()}
    rep = owners[seeded["rep"]]
    assert (rep.manager_id, rep.time_zone, rep.active) == (seeded["manager"], "America/New_York", True)
    assert owners[seeded["retired"]].active is False
    queue = owners[seeded["queue"]]
    assert isinstance(queue, Owner) and queue.is_queue and queue.name == "Marketing Queue"


def test_paging_follows_next_records_url_in_pages_of_the_requested_size(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded
) -> None:
    """450 accounts in pages of 200 take three read calls and arrive once each, oldest first."""
    for n in range(446):
        fake.org.add("Account", Name=f"Bulk {n}", OwnerId=seeded["rep"])
    sf = connect(fake, sf_server[1], page_size=200)
    accounts = list(sf.iter_changed(ObjectType.ACCOUNT, None))
    assert len({a.id for a in accounts}) == len(accounts) == 450
    stamps = [a.updated_at for a in accounts if isinstance(a, Account)]
    assert stamps == sorted(stamps)
    assert sf.usage.calls["read"] == 3
    assert fake.requests["GET query"] == 3


def test_server_may_shorten_pages_and_the_sync_still_gets_everything(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """When Salesforce answers 1,000-record pages instead of 2,000, no record is lost."""
    fake.org.max_page = 1000
    for n in range(2496):
        fake.org.add("Lead", Name=f"Lead {n}", Company="X", OwnerId=seeded["queue"], Status="Open")
    assert sum(1 for _ in connector.iter_changed(ObjectType.LEAD, None)) == 2497
    assert connector.usage.calls["read"] == 3


def test_incremental_sync_reads_only_changes_and_reports_deletions(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """After the watermark, only the touched and the deleted account come back, the deleted one flagged."""
    last_seen = max(a.updated_at for a in connector.iter_changed(ObjectType.ACCOUNT, None) if isinstance(a, Account))
    watermark = last_seen + timedelta(seconds=1)  # SOQL datetimes are whole seconds
    fake.org.now = last_seen + timedelta(minutes=1)
    fake.org.touch("Account", seeded["acme"], Name="Acme Products (renamed)")
    fake.org.touch("Account", seeded["acme_co"], IsDeleted=True)
    changed = {a.id: a for a in connector.iter_changed(ObjectType.ACCOUNT, watermark)}
    assert set(changed) == {seeded["acme"], seeded["acme_co"]}
    assert changed[seeded["acme_co"]].deleted and not changed[seeded["acme"]].deleted
    assert fake.requests["GET queryAll"] == 1


def test_custom_fields_come_from_the_overridable_map(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded
) -> None:
    """A mapped custom field lands in ``extra`` and an override replaces a standard field."""
    fake.org.schema["Lead"].append("BANT_Budget__c")
    fake.org.touch("Lead", seeded["lead"], BANT_Budget__c="50k")
    sf = connect(fake, sf_server[1], fields={ObjectType.LEAD: {"bant_budget": "BANT_Budget__c"}})
    [lead] = sf.iter_changed(ObjectType.LEAD, None)
    assert isinstance(lead, Lead) and lead.extra == {"bant_budget": "50k"}


def test_the_connector_has_the_shape_jobs_expect(connector: SalesforceConnector) -> None:
    """It is a ``Connector`` by shape (checked by mypy and at runtime), named ``salesforce``."""
    typed: Connector = connector
    assert isinstance(typed, Connector) and typed.name == "salesforce" and typed.usage.total == 0


def test_a_sync_that_finds_nothing_changed_costs_at_most_one_call_per_object_type(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, tmp_path: Path
) -> None:
    """Owners, every type's changes and the opportunities' stage history are read five queries to a composite call.

    Login, limits and two composite calls.
    """
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    migrate(engine)
    mirror.sync(connect(fake, sf_server[1]), engine, "sf")
    fake.requests.clear()
    report = mirror.sync(connect(fake, sf_server[1]), engine, "sf")
    assert sum(fake.requests.values()) <= len(ObjectType)
    assert fake.requests["POST composite request"] == 2
    assert fake.requests["GET queryAll"] == fake.requests["GET query"] == 0
    assert report.objects[ObjectType.OWNER].upserted == len(seeded_owner_ids(fake))
    engine.dispose()


def seeded_owner_ids(fake: FakeSalesforce) -> set[str]:
    queues = {g for g, row in fake.org.tables["Group"].items() if row.get("Type") == "Queue"}
    return set(fake.org.tables["User"]) | queues


def test_pipelines_by_record_type_are_named_without_a_call_of_their_own(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, tmp_path: Path
) -> None:
    """With ``pipeline: RecordTypeId`` the record type names come in the sync's composite calls, with the changes."""
    fake.org.schema["Opportunity"].append("RecordTypeId")
    record_type = fake.org.add("RecordType", Name="Renewals", DeveloperName="Renewals", SobjectType="Opportunity",
                               IsActive=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    migrate(engine)
    by_record_type = {ObjectType.OPPORTUNITY: {"pipeline": "RecordTypeId"}}
    mirror.sync(connect(fake, sf_server[1], fields=by_record_type), engine, "sf")
    fake.org.touch("Opportunity", seeded["opp"], RecordTypeId=record_type)
    fake.requests.clear()
    mirror.sync(connect(fake, sf_server[1], fields=by_record_type), engine, "sf")
    with session_factory(engine)() as session:
        [opp] = mirror.iter_records(session, "sf", ObjectType.OPPORTUNITY)
    assert isinstance(opp, Opportunity) and opp.pipeline == "Renewals"
    assert fake.requests["POST composite request"] == 2
    assert fake.requests["GET queryAll"] == fake.requests["GET query"] == 0
    engine.dispose()
