import copy
from typing import Any

import pytest

from connectors.salesforce import SalesforceConnector
from domain.errors import RecordError
from domain.records import ObjectType
from tests.connectors.sf_fixtures import Seeded, connector, fake, seeded, sf_server, sleeps
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["connector", "fake", "seeded", "sf_server", "sleeps"]

STAMPS = ("SystemModstamp", "LastModifiedDate")


def org_state(fake: FakeSalesforce) -> dict[str, Any]:
    """Every row of every table, without the modification stamps a restore necessarily moves."""
    tables = copy.deepcopy(fake.org.tables)
    for rows in tables.values():
        for row in rows.values():
            for stamp in STAMPS:
                row.pop(stamp)
    return tables


def test_merge_moves_children_to_the_master_and_deletes_the_losers(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """Contacts, opportunities, tasks and notes of both losers end on the master; losers point at it."""
    result = connector.merge(ObjectType.ACCOUNT, seeded["acme"], [seeded["acme_inc"], seeded["acme_co"]])
    assert result.ok and set(result.merged_ids) == {seeded["acme_inc"], seeded["acme_co"]}
    tables = fake.org.tables
    assert tables["Contact"][seeded["contact"]]["AccountId"] == seeded["acme"]
    assert tables["Opportunity"][seeded["opp"]]["AccountId"] == seeded["acme"]
    assert tables["Task"][seeded["task"]]["WhatId"] == seeded["acme"]
    assert tables["Note"][seeded["note"]]["ParentId"] == seeded["acme"]
    loser = tables["Account"][seeded["acme_inc"]]
    assert loser["IsDeleted"] and loser["MasterRecordId"] == seeded["acme"]
    assert connector.usage.calls["merge"] == 1


def test_big_clusters_are_chained_two_losers_per_request_in_one_call(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """Five losers take three merge requests, all in a single SOAP call."""
    losers = [fake.org.add("Account", Name=f"Acme {n}", OwnerId=seeded["rep"]) for n in range(5)]
    result = connector.merge(ObjectType.ACCOUNT, seeded["acme"], losers)
    assert result.ok and sorted(result.merged_ids) == sorted(losers)
    assert fake.requests["POST Soap"] == 1


def test_snapshot_merge_restore_leaves_every_field_and_child_as_before(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """After restore the org holds exactly the records, fields and parent links it had before the merge."""
    cluster = [seeded["acme"], seeded["acme_inc"], seeded["acme_co"]]
    before = org_state(fake)
    snapshots = connector.snapshot(ObjectType.ACCOUNT, cluster)
    assert snapshots[1].children["contact"] == [{"Id": seeded["contact"], "AccountId": seeded["acme_inc"]}]
    assert connector.merge(ObjectType.ACCOUNT, cluster[0], cluster[1:]).ok
    assert org_state(fake) != before
    connector.restore(snapshots)
    assert org_state(fake) == before


def test_a_merge_whose_answer_was_lost_is_not_sent_twice(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """When the merge happened but its answer failed, the connector sees the losers merged and stops."""
    fake.fail_next("SERVER_UNAVAILABLE", "Soap", after=True)
    result = connector.merge(ObjectType.ACCOUNT, seeded["acme"], [seeded["acme_inc"]])
    assert result.ok and result.merged_ids == (seeded["acme_inc"],)
    assert fake.requests["POST Soap"] == 1


def test_a_merge_refused_before_it_happened_is_sent_again(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """A 503 before the merge took effect leads to a second merge call that does it."""
    fake.fail_next("SERVER_UNAVAILABLE", "Soap")
    result = connector.merge(ObjectType.ACCOUNT, seeded["acme"], [seeded["acme_inc"]])
    assert result.ok and fake.org.tables["Account"][seeded["acme_inc"]]["IsDeleted"]
    assert fake.requests["POST Soap"] == 2


def test_a_failed_merge_request_names_the_record(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """Merging an already deleted account fails that request with Salesforce's reason."""
    fake.org.touch("Account", seeded["acme_co"], IsDeleted=True)
    result = connector.merge(ObjectType.ACCOUNT, seeded["acme"], [seeded["acme_co"]])
    assert not result.ok and seeded["acme_co"] in str(result.error) and "ENTITY_IS_DELETED" in str(result.error)


def test_opportunities_cannot_be_merged(connector: SalesforceConnector, seeded: Seeded) -> None:
    """Salesforce merges only accounts, contacts and leads; an opportunity merge is refused up front."""
    result = connector.merge(ObjectType.OPPORTUNITY, seeded["opp"], ["006000000000999AAA"])
    assert not result.ok and "INVALID_TYPE_FOR_OPERATION" in str(result.error)
    assert connector.usage.total == 0


def test_snapshot_of_a_missing_record_names_it(connector: SalesforceConnector, seeded: Seeded) -> None:
    """Asking to snapshot an id the org does not hold raises RecordError with that id."""
    with pytest.raises(RecordError) as caught:
        connector.snapshot(ObjectType.ACCOUNT, [seeded["acme"], "001000000000999AAA"])
    assert caught.value.record_id == "001000000000999AAA"


def test_a_merge_after_the_session_expired_logs_in_again_and_merges_once(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """The SOAP fault INVALID_SESSION_ID leads to one new login and a single merge."""
    connector.owners()
    fake.expire_sessions()
    result = connector.merge(ObjectType.ACCOUNT, seeded["acme"], [seeded["acme_inc"]])
    assert result.ok and fake.requests["POST oauth2"] == 2
    assert connector.usage.calls["merge"] == 2 and fake.org.tables["Account"][seeded["acme_inc"]]["IsDeleted"]
