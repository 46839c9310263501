import pytest

from connectors.salesforce import _bulk as salesforce_bulk
from domain.errors import FatalConnectorError
from domain.records import ObjectType, Record
from tests.connectors.sf_fixtures import Seeded, connect, fake, seeded, sf_server, sleeps
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["fake", "seeded", "sf_server", "sleeps"]


def grow(fake: FakeSalesforce, seeded: Seeded, n: int) -> None:
    for i in range(n):
        account = fake.org.add("Account", Name=f"Bulk {i}", OwnerId=seeded["rep"], Phone=None)
        fake.org.add("Opportunity", Name=f"Deal {i}", AccountId=account, OwnerId=seeded["rep"], StageName="Demo",
                     Amount=float(i), Probability=None, CloseDate="2026-07-01", IsClosed=i % 2 == 0, IsWon=False)
        fake.org.add("Task", Subject=f"Call {i}", OwnerId=seeded["rep"], Status="Completed", IsClosed=i % 3 == 0,
                     TaskSubtype="Call", Priority="Low", ActivityDate=None, WhatId=account)


def everything(fake: FakeSalesforce, bundle: str, threshold: int) -> dict[ObjectType, list[Record]]:
    sf = connect(fake, bundle, settings={"bulk_threshold": threshold}, page_size=200)
    objects = (ObjectType.ACCOUNT, ObjectType.OPPORTUNITY, ObjectType.TASK)
    return {obj: list(sf.iter_changed(obj, None)) for obj in objects}


def test_a_large_first_sync_reads_through_bulk_exactly_what_rest_reads(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the threshold a Bulk API 2.0 job returns the same records and types as REST paging."""
    grow(fake, seeded, 450)
    fake.bulk.page_size = 200
    through_rest = everything(fake, sf_server[1], threshold=0)
    assert fake.requests["POST jobs"] == 0
    through_bulk = everything(fake, sf_server[1], threshold=400)
    assert {obj: sorted(rows, key=lambda r: r.id) for obj, rows in through_bulk.items()} == {
        obj: sorted(rows, key=lambda r: r.id) for obj, rows in through_rest.items()}
    # per object: two status polls, one resultPages listing, three pages read side by side
    assert fake.requests["POST jobs"] == 3 and fake.requests["GET jobs"] == 3 * (2 + 1 + 3)


def test_before_api_58_bulk_pages_follow_the_locator_one_after_another(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without resultPages, pages are read along Sforce-Locator, in the query's order, as before."""
    grow(fake, seeded, 450)
    monkeypatch.setattr(salesforce_bulk, "RESULT_PAGE", 200)
    sf = connect(fake, sf_server[1], settings={"bulk_threshold": 400, "api_version": "57.0"}, page_size=200)
    rest = connect(fake, sf_server[1], settings={"api_version": "57.0"}, page_size=200)
    assert list(sf.iter_changed(ObjectType.ACCOUNT, None)) == list(rest.iter_changed(ObjectType.ACCOUNT, None))
    assert fake.requests["GET jobs"] == 2 + 3


def test_more_than_five_pages_take_a_second_listing_and_values_may_hold_quotes_and_newlines(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded
) -> None:
    """Twelve pages come five at a time; a name with a comma, quotes and a line break survives the CSV."""
    grow(fake, seeded, 1190)
    tricky = fake.org.add("Account", Name='Acme, "The" Company\nWest', OwnerId=seeded["rep"])
    fake.bulk.page_size = 100
    sf = connect(fake, sf_server[1], settings={"bulk_threshold": 400}, page_size=200)
    accounts = {a.id: a for a in sf.iter_changed(ObjectType.ACCOUNT, None)}
    assert len(accounts) == 1195 and accounts[tricky].name == 'Acme, "The" Company\nWest'
    assert fake.requests["GET jobs"] == 2 + 3 + 12


def test_small_objects_and_incremental_syncs_stay_on_rest(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded
) -> None:
    """An object under the threshold, or any sync from a watermark, never starts a bulk job."""
    grow(fake, seeded, 50)
    sf = connect(fake, sf_server[1], settings={"bulk_threshold": 100})
    assert len(list(sf.iter_changed(ObjectType.ACCOUNT, None))) == 54
    assert fake.requests["POST jobs"] == 0


def test_a_failed_bulk_job_stops_with_its_reason_and_the_way_out(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, sleeps: list[float]
) -> None:
    """A job Salesforce fails is a fatal error quoting its message and naming SALESFORCE_BULK_THRESHOLD."""
    grow(fake, seeded, 250)
    fake.bulk.failure = "InvalidBatch : Field name not found : Foo__c"
    sf = connect(fake, sf_server[1], sleeps, settings={"bulk_threshold": 200}, page_size=200)
    with pytest.raises(FatalConnectorError, match=r"Foo__c.*SALESFORCE_BULK_THRESHOLD=0"):
        list(sf.iter_changed(ObjectType.ACCOUNT, None))
    assert sleeps == [2.0]
