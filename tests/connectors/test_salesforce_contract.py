"""The connector contract run against the Salesforce connector and the local HTTPS fake.

Where Salesforce itself behaves differently from the contract's defaults, the test is overridden
below with Salesforce's real behaviour and the difference named in its docstring.
"""

import math
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from domain.connector import NewTask, RecordUpdate
from domain.records import ObjectType
from tests.connectors.contract import CONTRACT_START, ConnectorContract, ContractCRM, FakeClock, _by_id, known_org
from tests.connectors.sf_fixtures import connect, fake, sf_server
from tests.servers.salesforce.org import Org
from tests.servers.salesforce.records import load
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["fake", "sf_server"]

CUSTOM = {
    ObjectType.ACCOUNT: {"tier": "Tier__c"},
    ObjectType.LEAD: {"bant_budget": "BANT_Budget__c"},
    ObjectType.OPPORTUNITY: {"bant_budget": "BANT_Budget__c"},
}


class TestSalesforceContract(ConnectorContract):
    @pytest.fixture
    def crm(self, fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str]) -> Iterator[ContractCRM]:
        clock = FakeClock(CONTRACT_START)
        fake.org = Org(clock=clock, max_page=2)
        load(fake.org, known_org(CONTRACT_START), CUSTOM)
        connector = connect(fake, sf_server[1], fields=CUSTOM)
        # One SOAP merge call carries up to 200 requests of a master and two losers.
        yield ContractCRM(connector, clock, page_size=2, batch_size=200, losers_per_merge_call=400, ids_per_fetch=200)

    def test_batch_update_fails_only_the_bad_records(self, crm: ContractCRM) -> None:
        """As the contract, except an inactive owner is INACTIVE_OWNER_OR_USER on Salesforce."""
        results = crm.connector.update([
            RecordUpdate("ok-1", ObjectType.OPPORTUNITY, "opp-1", {"amount": 2500.0}),
            RecordUpdate("gone", ObjectType.OPPORTUNITY, "opp-404", {"amount": 1.0}),
            RecordUpdate("owner", ObjectType.OPPORTUNITY, "opp-2", {"owner_id": "usr-old"}),
            RecordUpdate("field", ObjectType.OPPORTUNITY, "opp-2", {"no_such_field": 1}),
            RecordUpdate("ok-2", ObjectType.OPPORTUNITY, "opp-2", {"bant_budget": "approved"}),
        ])
        assert [r.ok for r in results] == [True, False, False, False, True]
        assert str(results[1].error).startswith("ENTITY_IS_DELETED on opp-404")
        assert str(results[2].error).startswith("INACTIVE_OWNER_OR_USER on opp-2")
        assert str(results[3].error).startswith("INVALID_FIELD") and "no_such_field" in str(results[3].error)
        opps = _by_id(crm.connector, ObjectType.OPPORTUNITY)
        assert opps["opp-1"].amount == 2500.0
        assert (opps["opp-2"].owner_id, opps["opp-2"].extra["bant_budget"]) == ("usr-ann", "approved")

    def test_stage_and_status_changes_are_stamped(self, crm: ContractCRM) -> None:
        """Salesforce stamps LastStageChangeDate; a lead has no standard status-change date, so it stays None."""
        now = crm.clock.advance(timedelta(hours=1))
        crm.connector.update([
            RecordUpdate("s", ObjectType.OPPORTUNITY, "opp-1", {"stage": "First Demo"}),
            RecordUpdate("l", ObjectType.LEAD, "lead-1", {"status": "Working"}),
        ])
        opp = _by_id(crm.connector, ObjectType.OPPORTUNITY)["opp-1"]
        lead = _by_id(crm.connector, ObjectType.LEAD)["lead-1"]
        assert opp.stage_changed_at == now
        assert (lead.status, lead.status_changed_at) == ("Working", None)

    def test_create_task_with_inactive_owner_fails_alone(self, crm: ContractCRM) -> None:
        """As the contract, with Salesforce's INACTIVE_OWNER_OR_USER for the inactive owner."""
        results = crm.connector.create_tasks([
            NewTask("bad", "Call", "usr-old", date(2026, 3, 3)),
            NewTask("good", "Call", "usr-bob", date(2026, 3, 3)),
        ])
        assert [r.ok for r in results] == [False, True]
        assert "INACTIVE_OWNER_OR_USER" in str(results[0].error)

    def test_owners_lists_users_and_queues_in_one_read(self, crm: ContractCRM) -> None:
        """Users and queues live in two Salesforce objects (User, Group): one query each, paged."""
        before = crm.connector.usage.calls.get("read", 0)
        owners = {o.id: o for o in crm.connector.owners()}
        assert set(owners) == {"usr-ann", "usr-bob", "usr-old", "q-sales"}
        assert owners["q-sales"].is_queue and not owners["usr-old"].active
        assert crm.connector.usage.calls["read"] - before == math.ceil(3 / crm.page_size) + 1
