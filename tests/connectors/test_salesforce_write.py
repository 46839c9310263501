from datetime import date

import pytest
from structlog.testing import capture_logs

from connectors.salesforce import SalesforceConnector
from domain.connector import NewTask, RecordUpdate
from domain.errors import BudgetExhausted, FatalConnectorError
from domain.records import ObjectType, TaskPriority, TaskType
from tests.connectors.sf_fixtures import Seeded, connect, connector, fake, seeded, sf_server, sleeps
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["connector", "fake", "seeded", "sf_server", "sleeps"]


def reassign_all(fake: FakeSalesforce, owner: str, n: int) -> list[RecordUpdate]:
    ids = [fake.org.add("Lead", Name=f"L{i}", Company="C", OwnerId=owner, Status="Open") for i in range(n)]
    return [RecordUpdate(f"k{i}", ObjectType.LEAD, rid, {"owner_id": owner}) for i, rid in enumerate(ids)]


def new_tasks(seeded: Seeded, n: int) -> list[NewTask]:
    return [
        NewTask(f"sla:{i}:2026-05-01", f"Call lead {i}", seeded["rep"], date(2026, 5, 4), TaskType.CALL,
                TaskPriority.HIGH, what_id=seeded["acme"])
        for i in range(n)
    ]


def keyed_tasks(fake: FakeSalesforce) -> list[str]:
    return [t["Warden_Key__c"] for t in fake.org.tables["Task"].values() if t["Warden_Key__c"]]


def test_updates_go_200_per_call_with_one_result_each_in_order(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """450 reassignments cost three sObject Collections calls and every lead ends with the new owner."""
    updates = reassign_all(fake, seeded["rep2"], 450)
    results = connector.update(updates)
    assert [r.key for r in results] == [u.key for u in updates] and all(r.ok for r in results)
    assert fake.requests["PATCH composite"] == 3 and connector.usage.calls["write"] == 3
    assert all(fake.org.tables["Lead"][u.record_id]["OwnerId"] == seeded["rep2"] for u in updates)


def test_a_refused_record_names_itself_and_the_rest_of_the_batch_lands(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """An owner that does not exist fails only its own record, with Salesforce's code and the record id."""
    good = RecordUpdate("good", ObjectType.OPPORTUNITY, seeded["opp"], {"stage": "Closed Lost"})
    bad = RecordUpdate("bad", ObjectType.ACCOUNT, seeded["acme"], {"owner_id": "005000000000999AAA"})
    unmapped = RecordUpdate("odd", ObjectType.ACCOUNT, seeded["acme"], {"shoe_size": 42})
    ok, refused, odd = connector.update([good, bad, unmapped])
    assert ok.ok and fake.org.tables["Opportunity"][seeded["opp"]]["StageName"] == "Closed Lost"
    assert not refused.ok and refused.error == (
        f"INVALID_CROSS_REFERENCE_KEY on {seeded['acme']}: invalid cross reference id")
    assert not odd.ok and seeded["acme"] in str(odd.error) and "shoe_size" in str(odd.error)


def test_created_tasks_carry_their_key_and_a_rerun_creates_nothing(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """Running the same task creation twice leaves one task per key and spends no create call the second time."""
    first = connector.create_tasks(new_tasks(seeded, 3))
    posts = fake.requests["POST composite"]
    again = connector.create_tasks(new_tasks(seeded, 3))
    assert [r.record_id for r in again] == [r.record_id for r in first] and all(r.ok for r in again)
    assert sorted(keyed_tasks(fake)) == sorted(t.key for t in new_tasks(seeded, 3))
    assert fake.requests["POST composite"] == posts == 1
    task = fake.org.tables["Task"][str(first[0].record_id)]
    assert (task["TaskSubtype"], task["Priority"], task["ActivityDate"]) == ("Call", "High", "2026-05-04")


@pytest.mark.parametrize(
    "code", ["SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "CONNECTION_RESET"]
)
def test_a_create_whose_answer_was_lost_is_not_duplicated(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded, code: str
) -> None:
    """When the create took effect but the answer failed, the retry finds the tasks instead of re-creating."""
    fake.fail_next(code, "composite", after=True)
    results = connector.create_tasks(new_tasks(seeded, 5))
    assert all(r.ok and r.record_id for r in results)
    assert sorted(keyed_tasks(fake)) == sorted(t.key for t in new_tasks(seeded, 5))


@pytest.mark.parametrize(
    ("code", "path"),
    [("SERVER_UNAVAILABLE", "composite"), ("UNABLE_TO_LOCK_ROW", "composite"),
     ("REQUEST_LIMIT_EXCEEDED", "composite"), ("SERVER_UNAVAILABLE", "query"), ("CONNECTION_RESET", "composite"),
     ("CONNECTION_RESET", "query")],
)
def test_updates_survive_each_passing_fault_exactly_once(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded, sleeps: list[float], code: str, path: str
) -> None:
    """Each injected fault costs a retry after a pause, and every update lands once."""
    updates = reassign_all(fake, seeded["rep2"], 5)
    connector.iter_changed(ObjectType.ACCOUNT, None)  # warm the session
    fake.fail_next(code, path)
    if path == "query":
        assert len(list(connector.iter_changed(ObjectType.LEAD, None))) == 6
    results = connector.update(updates)
    assert all(r.ok for r in results) and len(sleeps) == 1
    if code == "REQUEST_LIMIT_EXCEEDED":
        assert sleeps[0] >= 5


def test_locked_rows_are_retried_alone(fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded) -> None:
    """A record refused with UNABLE_TO_LOCK_ROW is sent again by itself and then lands."""
    updates = reassign_all(fake, seeded["rep2"], 3)
    fake.org.locked[updates[1].record_id] = 2
    results = connector.update(updates)
    assert all(r.ok for r in results) and fake.requests["PATCH composite"] == 3


def test_expired_session_logs_in_again_once_and_carries_on(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """After INVALID_SESSION_ID the connector gets a new token and the call succeeds."""
    assert connector.owners()
    fake.expire_sessions()
    assert all(r.ok for r in connector.update(reassign_all(fake, seeded["rep"], 2)))
    assert fake.requests["POST oauth2"] == 2


def test_a_given_token_that_expires_is_fatal_and_says_how_to_fix_it(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded
) -> None:
    """With only SALESFORCE_ACCESS_TOKEN there is no way to log in again, and the error says what to set."""
    token = fake.issue_token()["access_token"]
    sf = connect(fake, sf_server[1], settings={"client_id": None, "client_secret": None, "access_token": token,
                                               "instance_url": fake.url})
    fake.expire_sessions()
    with pytest.raises(FatalConnectorError, match="SALESFORCE_CLIENT_ID"):
        sf.owners()


def test_the_run_stops_before_exceeding_its_share_of_the_daily_allowance(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded
) -> None:
    """With the org at 50% of its calls and a 50% share, no write is sent and BudgetExhausted says why."""
    fake.api_used = 7499
    sf = connect(fake, sf_server[1], settings={"api_share": 0.5})
    with pytest.raises(BudgetExhausted, match=r"SALESFORCE_API_SHARE=0\.5"):
        sf.update(reassign_all(fake, seeded["rep2"], 2))
    assert fake.requests["PATCH composite"] == 0
    assert (sf.usage.daily_limit, sf.usage.daily_remaining) == (15000, 7500)


def test_a_rate_limit_that_never_lifts_ends_the_run_cleanly(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded, sleeps: list[float]
) -> None:
    """REQUEST_LIMIT_EXCEEDED on every try becomes BudgetExhausted after backing off."""
    updates = reassign_all(fake, seeded["rep2"], 2)
    connector.owners()
    fake.fail_next("REQUEST_LIMIT_EXCEEDED", "composite", times=10)
    with pytest.raises(BudgetExhausted, match="REQUEST_LIMIT_EXCEEDED"):
        connector.update(updates)
    assert len(sleeps) == 4 and sleeps == sorted(sleeps)


def test_usage_counts_every_call_by_kind(fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded) -> None:
    """Login and /limits are ``other``, queries ``read``, collections ``write``."""
    connector.owners()
    connector.update(reassign_all(fake, seeded["rep"], 1))
    assert connector.usage.as_dict() == {"total": 5, "other": 2, "read": 2, "write": 1}


def test_retries_and_relogins_are_logged_without_the_token(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """A 503 and an expired session leave a retry and a re-login event, and no access token in any event."""
    updates = reassign_all(fake, seeded["rep2"], 2)
    connector.owners()
    fake.expire_sessions()
    fake.fail_next("SERVER_UNAVAILABLE", "composite")
    with capture_logs() as events:
        assert all(r.ok for r in connector.update(updates))
    assert [e["event"] for e in events] == ["salesforce.session_expired", "salesforce.retry"]
    assert events[1]["error"] == "RetriableConnectorError" and events[1]["attempt"] == 1
    assert not any("00D000000000001!" in str(e) for e in events)


def test_two_updates_of_one_record_go_in_separate_calls_in_order(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """A reassignment then a stage change of the same deal both land, the later one last."""
    results = connector.update([
        RecordUpdate("owner", ObjectType.OPPORTUNITY, seeded["opp"], {"owner_id": seeded["rep2"]}),
        RecordUpdate("other", ObjectType.ACCOUNT, seeded["acme"], {"owner_id": seeded["rep2"]}),
        RecordUpdate("stage", ObjectType.OPPORTUNITY, seeded["opp"], {"stage": "Closed Lost", "is_closed": True}),
    ])
    assert all(r.ok for r in results) and fake.requests["PATCH composite"] == 2
    opp = fake.org.tables["Opportunity"][seeded["opp"]]
    assert (opp["OwnerId"], opp["StageName"], opp["IsClosed"]) == (seeded["rep2"], "Closed Lost", True)
