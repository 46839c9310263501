from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import SecretStr

from connectors.hubspot import HubSpotConnector, HubSpotSettings
from domain.connector import NewTask, RecordUpdate
from domain.errors import BudgetExhausted, ConnectorError, FatalConnectorError, RecordError, RetriableConnectorError
from domain.records import ObjectType
from tests.connectors.hubspot_fixtures import SecondsClock, connect, hubspot
from tests.servers.hubspot.seed import seed
from tests.servers.hubspot.server import Fault, HubSpotServer

FAULTS = ["500", "502", "503", "504", "drop_before", "drop_after", "429", "401", "html502", "text503", "empty500"]
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _oauth_connector(server: HubSpotServer, clock: SecondsClock) -> HubSpotConnector:
    settings = HubSpotSettings(access_token=SecretStr("test-token"), api_base=server.url, client_id="app",
                               client_secret=SecretStr("shh"), refresh_token=SecretStr("test-refresh"))
    return HubSpotConnector.from_settings(settings, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize("kind", FAULTS)
def test_batch_update_survives_fault_without_lost_updates(kind: str) -> None:
    """Every update lands exactly once whatever fault hits the second batch call."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 150, deals_per=0, tasks_per=0)
        server.state.faults.append(Fault("/batch/update", kind, skip=1))
        updates = [RecordUpdate(f"k{i}", ObjectType.ACCOUNT, i, {"phone": f"+1-{i}"}) for i in seeded.companies]
        results = _oauth_connector(server, clock).update(updates)
        assert [r.ok for r in results] == [True] * 150
        assert all(o.properties["phone"] == f"+1-{o.id}" for o in server.portal.objects["companies"].values())


@pytest.mark.parametrize("kind", FAULTS)
def test_task_creation_survives_fault_without_lost_or_doubled_tasks(kind: str) -> None:
    """After any fault on a create call every task exists exactly once and each result names it."""
    with hubspot() as (server, clock):
        server.state.faults.append(Fault("/tasks/batch/create", kind, skip=1))
        tasks = [NewTask(f"key-{n}", f"Call {n}", "32900489", date(2026, 3, 3)) for n in range(150)]
        results = _oauth_connector(server, clock).create_tasks(tasks)
        stored = {o.properties["warden_key"]: o.id for o in server.portal.objects["tasks"].values()}
        assert len(server.portal.objects["tasks"]) == 150 == len(stored)
        assert [(r.ok, r.record_id) for r in results] == [(True, stored[t.key]) for t in tasks]


@pytest.mark.parametrize("kind", FAULTS)
def test_incremental_read_survives_fault_without_lost_or_doubled_records(kind: str) -> None:
    """A fault on the second search page still yields each changed deal exactly once."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 450, tasks_per=0)
        server.state.faults.append(Fault("/deals/search", kind, skip=1))
        deals = [d.id for d in _oauth_connector(server, clock).iter_changed(ObjectType.OPPORTUNITY, LONG_AGO)]
        assert deals == seeded.deals


@pytest.mark.parametrize("kind", FAULTS)
def test_first_sync_survives_fault_on_a_list_page(kind: str) -> None:
    """A fault on the third list page still yields every company once."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 250, deals_per=0, tasks_per=0)
        server.state.faults.append(Fault("/crm/v3/objects/companies", kind, skip=2, method="GET"))
        accounts = [a.id for a in _oauth_connector(server, clock).iter_changed(ObjectType.ACCOUNT, None)]
        assert accounts == seeded.companies


def test_an_expired_token_is_refreshed_once_and_the_run_goes_on() -> None:
    """When the access token expires mid-run the connector refreshes it once and keeps reading."""
    with hubspot() as (server, clock):
        seed(server.portal, 3, deals_per=0, tasks_per=0)
        connector = _oauth_connector(server, clock)
        server.state.tokens.clear()
        assert len(list(connector.iter_changed(ObjectType.ACCOUNT, None))) == 3
        assert connector.usage.calls["other"] == 1


def test_an_expired_token_without_oauth_stops_the_run_naming_the_setting() -> None:
    """A private-app token HubSpot refuses stops the run and says which variable to fix."""
    with hubspot() as (server, clock):
        server.state.tokens.clear()
        with pytest.raises(FatalConnectorError, match="HUBSPOT_ACCESS_TOKEN"):
            connect(server, clock).owners()


def test_missing_credentials_name_the_variables() -> None:
    """A connector without any credential says which variables to set."""
    with pytest.raises(FatalConnectorError, match="HUBSPOT_ACCESS_TOKEN"):
        HubSpotConnector.from_settings(HubSpotSettings(access_token=None, client_id=None))


@pytest.mark.parametrize(("fault", "error"), [
    ("400", RecordError), ("404", RecordError), ("403", FatalConnectorError), ("500", RetriableConnectorError),
    ("daily", BudgetExhausted)])
def test_status_translates_into_the_error_the_caller_acts_on(fault: str, error: type[ConnectorError]) -> None:
    """Each persistent HubSpot status becomes the connector error class that says what to do."""
    with hubspot() as (server, clock):
        server.state.faults.append(Fault("/crm/v3/owners", fault, times=99))
        with pytest.raises(error) as raised:
            connect(server, clock).owners()
        assert type(raised.value) is error
        assert "test-token" not in str(raised.value)


def test_daily_limit_stops_cleanly_with_the_calls_spent_counted() -> None:
    """Hitting the daily limit raises BudgetExhausted after counting every call already made."""
    with hubspot() as (server, clock):
        seed(server.portal, 250, deals_per=0, tasks_per=0)
        server.state.faults.append(Fault("/crm/v3/objects/companies", "daily", skip=1, method="GET"))
        connector = connect(server, clock)
        with pytest.raises(BudgetExhausted, match="resumes"):
            list(connector.iter_changed(ObjectType.ACCOUNT, None))
        assert connector.usage.calls["read"] == 2  # page one, and the refused page two


def test_rate_limit_headers_report_the_daily_budget() -> None:
    """The daily allowance HubSpot reports in its headers shows up in usage."""
    with hubspot() as (server, clock):
        connector = connect(server, clock)
        connector.owners()
        assert (connector.usage.daily_limit, connector.usage.daily_remaining) == (250_000, 250_000 - 2)


PAGES = ["html502", "text503", "empty500"]


@pytest.mark.parametrize("kind", PAGES)
def test_a_list_read_survives_an_error_page_that_is_not_json(kind: str) -> None:
    """A gateway HTML page, a plain-text 503 or an empty 500 on a list page is retried like any 5xx."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 250, deals_per=0, tasks_per=0)
        server.state.faults.append(Fault("/crm/v3/objects/companies", kind, skip=1, times=2, method="GET"))
        accounts = [a.id for a in connect(server, clock).iter_changed(ObjectType.ACCOUNT, None)]
        assert accounts == seeded.companies


@pytest.mark.parametrize("kind", PAGES)
def test_batch_writes_survive_an_error_page_that_is_not_json(kind: str) -> None:
    """Updates and task creates hit by a non-JSON 5xx page still land exactly once."""
    with hubspot() as (server, clock):
        seeded = seed(server.portal, 120, deals_per=0, tasks_per=0)
        server.state.faults.append(Fault("/batch/update", kind, skip=1))
        server.state.faults.append(Fault("/tasks/batch/create", kind))
        connector = connect(server, clock)
        updates = [RecordUpdate(f"k{i}", ObjectType.ACCOUNT, i, {"phone": f"+1-{i}"}) for i in seeded.companies]
        assert all(r.ok for r in connector.update(updates))
        tasks = [NewTask(f"key-{n}", f"Call {n}", "32900489", date(2026, 3, 3)) for n in range(3)]
        assert all(r.ok for r in connector.create_tasks(tasks))
        assert len(server.portal.objects["tasks"]) == 3


def test_a_persistent_gateway_page_fails_with_one_line_naming_the_status() -> None:
    """A gateway page that never goes away ends in a retriable error whose message is one line, not HTML."""
    with hubspot() as (server, clock):
        server.state.faults.append(Fault("/crm/v3/owners", "html502", times=99))
        with pytest.raises(RetriableConnectorError) as raised:
            connect(server, clock).owners()
        message = str(raised.value)
        assert "HTTP 502" in message and "502 Bad Gateway" in message
        assert "\n" not in message and "<" not in message


def test_a_plain_text_4xx_is_refused_with_the_status_and_first_line() -> None:
    """A 400 with a text body is refused at once (never retried), naming the status and the body's first line."""
    with hubspot() as (server, clock):
        server.state.faults.append(Fault("/crm/v3/owners", "text400", times=99))
        with pytest.raises(RecordError) as raised:
            connect(server, clock).owners()
        assert "HTTP 400" in str(raised.value) and "Bad Request: malformed JSON" in str(raised.value)
        assert "at line 1" not in str(raised.value)
        assert server.state.faults[0].times == 98
