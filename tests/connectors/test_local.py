"""LocalCRM: the connector contract, plus what only the embedded CRM does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.local import LocalCRM
from connectors.local._schema import utc_text
from domain.connector import Connector, NewTask, RecordUpdate
from domain.errors import FatalConnectorError, RecordError
from domain.records import ObjectType, Task
from tests.connectors.contract import CONTRACT_START, ConnectorContract, ContractCRM, FakeClock, known_org


class TestLocalContract(ConnectorContract):
    @pytest.fixture
    def crm(self, tmp_path: Path) -> Iterator[ContractCRM]:
        clock = FakeClock(CONTRACT_START)
        connector = LocalCRM(tmp_path / "crm.db", clock=clock, page_size=2, batch_size=2)
        connector.insert_records(known_org(CONTRACT_START))
        yield ContractCRM(connector, clock, page_size=2, batch_size=2)
        connector.close()


def test_local_crm_is_a_connector(tmp_path: Path) -> None:
    """LocalCRM has the shape of the Connector protocol, so jobs can take it like any CRM."""
    assert isinstance(LocalCRM(tmp_path / "crm.db"), Connector)


def test_from_url_opens_the_file_and_creates_its_folder(tmp_path: Path) -> None:
    """A sqlite:/// URL opens (and creates) the CRM file, folders included."""
    crm = LocalCRM.from_url(f"sqlite:///{tmp_path}/nested/crm.db")
    assert crm.count(ObjectType.ACCOUNT) == 0
    assert (tmp_path / "nested" / "crm.db").exists()


def test_from_url_rejects_other_schemes() -> None:
    """A non-SQLite URL fails with a message naming the setting to fix."""
    with pytest.raises(FatalConnectorError, match="WARDEN_LOCAL_CRM_URL"):
        LocalCRM.from_url("postgresql://localhost/crm")


def test_count_leaves_out_merged_away_records(tmp_path: Path) -> None:
    """count() reports live records only, so a merge lowers it."""
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: CONTRACT_START)
    crm.insert_records(known_org(CONTRACT_START))
    assert crm.count(ObjectType.ACCOUNT) == 5
    crm.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2"])
    assert crm.count(ObjectType.ACCOUNT) == 4


def test_custom_fields_survive_reopening(tmp_path: Path) -> None:
    """Custom fields learned when seeding stay settable after the file is reopened."""
    LocalCRM(tmp_path / "crm.db").insert_records(known_org(CONTRACT_START))
    reopened = LocalCRM(tmp_path / "crm.db")
    (result,) = reopened.update([RecordUpdate("k", ObjectType.ACCOUNT, "acc-1", {"tier": "silver"})])
    assert result.ok, result.error


def test_naive_clock_is_refused(tmp_path: Path) -> None:
    """A clock that returns naive datetimes is an error that says to pass aware ones."""
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: datetime(2026, 1, 1))
    crm.insert_records(known_org(CONTRACT_START))
    with pytest.raises(ValueError, match="timezone-aware"):
        crm.update([RecordUpdate("k", ObjectType.ACCOUNT, "acc-1", {"name": "x"})])


AWARE = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(9000, 1, 1), timezones=st.timezones()
)


@given(AWARE, AWARE)
def test_stored_datetime_text_sorts_like_time(first: datetime, second: datetime) -> None:
    """Stored datetime text orders the same way as the instants it encodes, whatever the zone."""
    first_utc, second_utc = first.astimezone(UTC), second.astimezone(UTC)
    assert (utc_text(first) < utc_text(second)) == (first_utc < second_utc)
    assert (utc_text(first) == utc_text(second)) == (first_utc == second_utc)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalCRM]:
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: CONTRACT_START)
    crm.insert_records(known_org(CONTRACT_START))
    yield crm
    crm.close()


@pytest.mark.parametrize(
    ("obj", "record_id", "fields", "code", "named"),
    [
        (ObjectType.OPPORTUNITY, "opp-1", {"close_date": "next week"}, "INVALID_TYPE_ON_FIELD_IN_RECORD", "close_date"),
        (ObjectType.OPPORTUNITY, "opp-1", {"created_at": CONTRACT_START}, "INVALID_FIELD", "created_at"),
        (ObjectType.TASK, "tsk-1", {"bant_budget": "x"}, "INVALID_FIELD", "bant_budget"),
        (ObjectType.LEAD, "lead-1", {"owner_id": None}, "INVALID_CROSS_REFERENCE_KEY", "lead-1"),
        (ObjectType.LEAD, "lead-1", {"owner_id": "usr-nobody"}, "INVALID_CROSS_REFERENCE_KEY", "usr-nobody"),
        (ObjectType.CONTACT, "con-404", {"name": "x"}, "ENTITY_IS_DELETED", "contact con-404"),
    ],
)
def test_refused_updates_name_the_record_and_field(
    local: LocalCRM, obj: ObjectType, record_id: str, fields: dict[str, object], code: str, named: str
) -> None:
    """Each refused update carries the CRM's error code and names what was wrong."""
    (result,) = local.update([RecordUpdate("k", obj, record_id, fields)])
    assert not result.ok and result.error is not None
    assert result.error.startswith(code) and named in result.error


def test_completing_a_task_stamps_its_completion(local: LocalCRM) -> None:
    """Setting a task's status to completed records when it was completed."""
    (result,) = local.update([RecordUpdate("k", ObjectType.TASK, "tsk-1", {"status": "completed"})])
    assert result.ok, result.error
    task = next(t for t in local.iter_changed(ObjectType.TASK, None) if t.id == "tsk-1")
    assert isinstance(task, Task) and task.completed_at == CONTRACT_START


def test_task_about_a_missing_record_is_refused(local: LocalCRM) -> None:
    """A new task whose what_id does not exist fails with INVALID_CROSS_REFERENCE_KEY naming it."""
    (result,) = local.create_tasks([NewTask("k", "Call", "usr-ann", date(2026, 3, 3), what_id="opp-404")])
    assert not result.ok and result.error is not None
    assert result.error.startswith("INVALID_CROSS_REFERENCE_KEY") and "opp-404" in result.error


@pytest.mark.parametrize(
    ("master", "losers", "code"),
    [
        ("acc-1", [], "REQUIRED_FIELD_MISSING"),
        ("acc-1", ["acc-1"], "DUPLICATE_VALUE"),
        ("acc-1", ["acc-2", "acc-2"], "DUPLICATE_VALUE"),
        ("acc-1", ["acc-404"], "ENTITY_IS_DELETED"),
    ],
)
def test_impossible_merges_change_nothing(local: LocalCRM, master: str, losers: list[str], code: str) -> None:
    """A merge the CRM cannot run says why and leaves every account in place."""
    result = local.merge(ObjectType.ACCOUNT, master, losers)
    assert not result.ok and result.error is not None and result.error.startswith(code)
    assert local.count(ObjectType.ACCOUNT) == 5


def test_snapshot_of_a_missing_record_is_an_error(local: LocalCRM) -> None:
    """Snapshotting an unknown id raises a RecordError naming it."""
    with pytest.raises(RecordError, match="acc-404"):
        local.snapshot(ObjectType.ACCOUNT, ["acc-404"])
