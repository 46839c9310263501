"""Answers whose body is not JSON (a gateway's HTML page, plain text, nothing), on every kind of call."""

from datetime import date

import pytest

from connectors.salesforce import SalesforceConnector
from domain.connector import NewTask, RecordUpdate
from domain.errors import FatalConnectorError, RetriableConnectorError
from domain.records import ObjectType
from tests.connectors.sf_fixtures import Seeded, connect, connector, fake, seeded, sf_server, sleeps
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["connector", "fake", "seeded", "sf_server", "sleeps"]
PAGES = ["HTML_502", "TEXT_503", "EMPTY_500"]


@pytest.mark.parametrize("page", PAGES)
def test_a_query_survives_an_error_page(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded, sleeps: list[float], page: str
) -> None:
    """A 5xx page that is not JSON on a query is retried after a pause, and every lead is read."""
    connector.owners()  # log in first
    fake.fail_next(page, "query")
    assert len(list(connector.iter_changed(ObjectType.LEAD, None))) == 1
    assert len(sleeps) == 1


@pytest.mark.parametrize("page", PAGES)
def test_writes_survive_an_error_page_exactly_once(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded, page: str
) -> None:
    """Updates and task creates hit by a non-JSON 5xx page land once each."""
    connector.owners()
    fake.fail_next(page, "composite", times=2)
    updates = [RecordUpdate("k1", ObjectType.LEAD, seeded["lead"], {"status": "Working"})]
    assert all(r.ok for r in connector.update(updates))
    tasks = [NewTask("t1", "Call", seeded["rep"], date(2026, 5, 4), what_id=seeded["acme"])]
    assert all(r.ok for r in connector.create_tasks(tasks))
    keys = [t["Warden_Key__c"] for t in fake.org.tables["Task"].values() if t["Warden_Key__c"]]
    assert keys == ["t1"]


@pytest.mark.parametrize("page", PAGES)
def test_a_merge_survives_an_error_page(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded, page: str
) -> None:
    """A gateway page on the SOAP merge call is retried and the merge happens once."""
    connector.owners()
    fake.fail_next(page, "Soap")
    result = connector.merge(ObjectType.ACCOUNT, seeded["acme"], [seeded["acme_inc"]])
    assert result.ok and fake.org.tables["Account"][seeded["acme_inc"]]["IsDeleted"]


@pytest.mark.parametrize("page", PAGES)
def test_the_login_survives_an_error_page(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, page: str
) -> None:
    """A gateway page from the OAuth token endpoint is retried like any 5xx."""
    fake.fail_next(page, "oauth2")
    assert len(connect(fake, sf_server[1]).owners()) == 5


def test_a_persistent_gateway_page_ends_in_one_line_naming_the_status(
    fake: FakeSalesforce, connector: SalesforceConnector, seeded: Seeded
) -> None:
    """When the page never goes away the error is retriable and one line: status and the page's title."""
    connector.owners()
    fake.fail_next("HTML_502", "query", times=20)
    with pytest.raises(RetriableConnectorError) as raised:
        list(connector.iter_changed(ObjectType.LEAD, None))
    assert "HTTP 502" in str(raised.value) and "502 Bad Gateway" in str(raised.value)
    assert "\n" not in str(raised.value) and "<" not in str(raised.value)


@pytest.mark.parametrize("path", ["query", "oauth2"])
def test_a_plain_text_4xx_is_refused_with_the_status_and_first_line(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, path: str
) -> None:
    """A 400 whose body is text is not retried; the error names the status and the body's first line."""
    connector = connect(fake, sf_server[1])
    if path == "query":
        connector.owners()
    fake.fail_next("TEXT_400", path, times=5)
    with pytest.raises(FatalConnectorError) as raised:
        list(connector.iter_changed(ObjectType.LEAD, None))
    assert "400" in str(raised.value) and "Bad Request" in str(raised.value)
    assert "could not be understood" not in str(raised.value)
    assert len([f for f in fake.faults if f.code == "TEXT_400"]) == 4
