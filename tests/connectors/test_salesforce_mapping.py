from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.salesforce._errors import RequestLimitExceeded, SessionExpired, error_code, translate
from connectors.salesforce._mapping import (
    UnmappedField,
    field_map,
    format_datetime,
    parse_datetime,
    to_record,
    to_sf_fields,
)
from domain.errors import ConnectorError, FatalConnectorError, RetriableConnectorError
from domain.records import ObjectType, Opportunity, TaskPriority, TaskStatus, TaskType

moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))]))


@given(moments)
def test_datetimes_survive_salesforce_format_to_the_millisecond(moment: datetime) -> None:
    """Writing a datetime in Salesforce's form and reading it back gives the same instant, in UTC."""
    text = format_datetime(moment)
    assert text.endswith("+0000") and len(text) == 28
    back = parse_datetime(text)
    assert back is not None and back.tzinfo == UTC
    assert abs(back - moment) < timedelta(milliseconds=1)


@given(st.text(max_size=15), st.sampled_from(list(" '\"(),;=-\n%*")), st.text(max_size=15))
def test_a_field_override_that_is_not_a_field_name_is_refused(before: str, bad: str, after: str) -> None:
    """Overrides go into SOQL, so anything holding a quote, space, bracket or operator is rejected."""
    with pytest.raises(UnmappedField, match="is not a Salesforce field name"):
        field_map(ObjectType.LEAD, {ObjectType.LEAD: {"bant_budget": f"{before}{bad}{after}"}})


@pytest.mark.parametrize("name", ["BANT_Budget__c", "Account.Name", "ns__Score__c"])
def test_field_and_relationship_names_are_accepted(name: str) -> None:
    """Custom fields and relationship paths are valid overrides."""
    assert field_map(ObjectType.LEAD, {ObjectType.LEAD: {"bant_budget": name}})["bant_budget"] == name


def test_an_opportunity_row_maps_with_nulls_and_flags() -> None:
    """Salesforce's nulls stay None, booleans and dates convert, and stage/partner fields map."""
    row = {"attributes": {"type": "Opportunity"}, "Id": "006A", "Name": "Deal", "AccountId": None, "OwnerId": "005A",
           "StageName": "Closed Won", "LastStageChangeDate": "2026-05-01T07:25:37.000+0000", "Amount": None,
           "Probability": 100.0, "CloseDate": "2026-05-01", "IsClosed": True, "IsWon": True,
           "PartnerAccountId": "001P", "CreatedDate": "2026-04-01T00:00:00.000+0000",
           "SystemModstamp": "2026-05-01T07:25:37.000+0000"}
    opp = to_record(ObjectType.OPPORTUNITY, row, field_map(ObjectType.OPPORTUNITY))
    assert isinstance(opp, Opportunity)
    assert (opp.is_won, opp.amount, opp.close_date, opp.partner_account_id) == (True, None, date(2026, 5, 1), "001P")


def test_task_writes_use_salesforce_labels() -> None:
    """Normalized task values become Salesforce's picklist labels; computed fields are refused."""
    fields = {"priority": TaskPriority.HIGH, "task_type": TaskType.CALL, "status": TaskStatus.COMPLETED,
              "due_date": date(2026, 5, 4)}
    assert to_sf_fields(ObjectType.TASK, fields, field_map(ObjectType.TASK)) == {
        "Priority": "High", "TaskSubtype": "Call", "Status": "Completed", "ActivityDate": "2026-05-04"}
    with pytest.raises(UnmappedField, match="IsWon"):
        to_sf_fields(ObjectType.OPPORTUNITY, {"is_won": True}, field_map(ObjectType.OPPORTUNITY))


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [(401, "INVALID_SESSION_ID", SessionExpired), (403, "REQUEST_LIMIT_EXCEEDED", RequestLimitExceeded),
     (400, "UNABLE_TO_LOCK_ROW", RetriableConnectorError), (503, "", RetriableConnectorError),
     (500, "INVALID_TYPE_FOR_OPERATION", FatalConnectorError), (400, "INVALID_FIELD", FatalConnectorError),
     (404, "ENTITY_IS_DELETED", FatalConnectorError), (502, "SOMETHING_NEW", RetriableConnectorError),
     (418, "", FatalConnectorError)],
)
def test_status_and_code_decide_the_error_class(status: int, code: str, expected: type[ConnectorError]) -> None:
    """The code wins over the HTTP status; unknown 5xx are retriable, unknown 4xx fatal."""
    error = translate(status, code, "message", "GET query")
    assert type(error) is expected and "GET query" in str(error) and "message" in str(error)


def test_error_bodies_give_code_and_message() -> None:
    """A REST error list yields its first errorCode and message; anything else no code and its first line of text."""
    assert error_code([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]) == (
        "INVALID_SESSION_ID", "Session expired or invalid")
    assert error_code("<html>Service Unavailable</html>") == ("", "Service Unavailable")
    assert error_code("<html><head><title>502 Bad Gateway</title></head><body>x</body></html>") == (
        "", "502 Bad Gateway")
    assert error_code("") == ("", "(empty body)")


def test_closing_flags_follow_the_stage_they_come_with() -> None:
    """Salesforce derives IsClosed from StageName, so a close sends the stage alone; the flag alone is refused."""
    mapping = field_map(ObjectType.OPPORTUNITY)
    assert to_sf_fields(ObjectType.OPPORTUNITY, {"stage": "Closed Lost", "is_closed": True}, mapping) == {
        "StageName": "Closed Lost"}
    with pytest.raises(UnmappedField, match="IsClosed"):
        to_sf_fields(ObjectType.OPPORTUNITY, {"is_closed": True}, mapping)
